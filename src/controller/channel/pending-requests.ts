/**
 * Requests waiting for their replies, by xid. A reply may come in parts (multipart: every part but the
 * last says so); the request resolves with all of them. A request fails on an error reply, on its
 * timeout (counted afresh from each part of a multipart reply), or when the connection closes.
 */

interface Pending<M> {
  label: string;
  resolve: (replies: M[]) => void;
  reject: (e: Error) => void;
  replies: M[];
  timer: NodeJS.Timeout;
  /** Runs when the last part arrives, before anything else is received (the promise settles later). */
  onLast: (() => void) | undefined;
}

export class PendingRequests<M> {
  private readonly byXid = new Map<number, Pending<M>>();

  get size(): number {
    return this.byXid.size;
  }

  has(xid: number): boolean {
    return this.byXid.has(xid);
  }

  /** What the request waiting on `xid` asked for (its message type), if one does. */
  label(xid: number): string | undefined {
    return this.byXid.get(xid)?.label;
  }

  /** Wait for the replies to `xid`; `label` names the request in the timeout error. */
  open(xid: number, label: string, timeoutMs: number, onLast?: () => void): Promise<M[]> {
    return new Promise<M[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.byXid.delete(xid);
        reject(new Error(`${label} xid ${xid} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.byXid.set(xid, { label, resolve, reject, replies: [], timer, onLast });
    });
  }

  /** A reply part for `xid`; false when nobody waits on that xid. */
  reply(xid: number, msg: M, last: boolean): boolean {
    const p = this.byXid.get(xid);
    if (!p) return false;
    p.replies.push(msg);
    // A long multipart reply (a million flows' stats) is alive while its parts keep coming.
    if (!last) p.timer.refresh();
    if (last) {
      this.byXid.delete(xid);
      clearTimeout(p.timer);
      p.onLast?.();
      p.resolve(p.replies);
    }
    return true;
  }

  /** Fail the request `xid`; false when nobody waits on that xid. */
  fail(xid: number, error: Error): boolean {
    const p = this.byXid.get(xid);
    if (!p) return false;
    this.byXid.delete(xid);
    clearTimeout(p.timer);
    p.reject(error);
    return true;
  }

  failAll(error: Error): void {
    for (const p of this.byXid.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.byXid.clear();
  }
}
