/**
 * When a push to a switch fails (the switch refused a flow-mod or group-mod, a barrier timed out), the
 * controller no longer knows what the switch holds. This schedules a reconcile of that switch with
 * exponential backoff (250 ms doubling to 10 s by default) until one succeeds; a success resets the
 * delay. Timers are components, so tests move time themselves.
 */

export const RESYNC_INITIAL_DELAY_MS = 250;
export const RESYNC_MAX_DELAY_MS = 10_000;

export interface ResyncOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface ResyncComponents {
  /** Reconcile this switch now (the scheduler only decides when). */
  resync(dpid: number): void;
  setTimeout?(fn: () => void, ms: number): unknown;
  clearTimeout?(handle: unknown): void;
}

export interface ResyncScheduler {
  /** A push to `dpid` failed: a resync is due; returns its delay (the one already pending, if any). */
  failed(dpid: number): number;
  /** A push to `dpid` succeeded: the switch holds the desired tables; cancel the retry, reset the delay. */
  succeeded(dpid: number): void;
  /** The switch is gone (or has a new session, which reconciles anyway): no retry, delay reset. */
  forget(dpid: number): void;
  close(): void;
}

interface Retry {
  /** Delay of the next retry to schedule. */
  nextDelayMs: number;
  timer: unknown;
  delayMs: number;
}

export function createResyncScheduler(options: ResyncOptions, components: ResyncComponents): ResyncScheduler {
  const initial = options.initialDelayMs ?? RESYNC_INITIAL_DELAY_MS;
  const max = options.maxDelayMs ?? RESYNC_MAX_DELAY_MS;
  const setTimer = components.setTimeout ?? defaultSetTimeout;
  const clearTimer = components.clearTimeout ?? ((h: unknown) => clearTimeout(h as NodeJS.Timeout));
  const retries = new Map<number, Retry>();

  const cancel = (dpid: number) => {
    const r = retries.get(dpid);
    if (r?.timer !== undefined) clearTimer(r.timer);
    retries.delete(dpid);
  };

  return {
    failed(dpid) {
      let r = retries.get(dpid);
      if (!r) {
        r = { nextDelayMs: initial, timer: undefined, delayMs: 0 };
        retries.set(dpid, r);
      }
      if (r.timer !== undefined) return r.delayMs;
      const retry = r;
      retry.delayMs = retry.nextDelayMs;
      retry.nextDelayMs = Math.min(retry.nextDelayMs * 2, max);
      retry.timer = setTimer(() => {
        retry.timer = undefined;
        components.resync(dpid);
      }, retry.delayMs);
      return retry.delayMs;
    },
    succeeded: cancel,
    forget: cancel,
    close() {
      for (const dpid of [...retries.keys()]) cancel(dpid);
    },
  };
}

function defaultSetTimeout(fn: () => void, ms: number): unknown {
  const t = setTimeout(fn, ms);
  // A pending retry never keeps a process alive on its own.
  t.unref();
  return t;
}
