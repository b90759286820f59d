/**
 * The write side of a switch connection. Small messages wait in an outbox that goes out as one buffer
 * once per event-loop turn: thousands of flow-mods become a few large writes instead of a syscall each.
 * A long batch is a producer that encodes one chunk per turn, so the socket drains (and the switch
 * works) while the next chunk is encoded. Everything is written in the order it was queued; a full
 * socket buffer pauses the queue until 'drain'.
 */
import type net from 'node:net';

/** Encodes the next chunk of a long batch; `done` on the last one. */
export type ChunkProducer = () => { bytes: Buffer; done: boolean };

export class TransmitQueue {
  private outbox: Buffer[] = [];
  private flushScheduled = false;
  private readonly queue: (Buffer | ChunkProducer)[] = [];
  private pumpScheduled = false;
  private awaitingDrain = false;
  private closed = false;

  constructor(private readonly socket: net.Socket) {}

  /** One encoded message, written together with the others of this turn. */
  push(bytes: Buffer): void {
    if (this.closed) return;
    this.outbox.push(bytes);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Bytes or a chunk producer, written after everything queued before (the outbox included). */
  enqueue(item: Buffer | ChunkProducer): void {
    if (this.closed) return;
    this.flush();
    this.queue.push(item);
    if (!this.pumpScheduled && !this.awaitingDrain) this.pump();
  }

  /** Hand the outbox to the socket now rather than at the end of the turn. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.outbox.length === 0) return;
    const batch = this.outbox.length === 1 ? this.outbox[0] : Buffer.concat(this.outbox);
    this.outbox = [];
    this.queue.push(batch);
    if (!this.pumpScheduled && !this.awaitingDrain) this.pump();
  }

  /** Stop writing; what is still queued is dropped. */
  close(): void {
    this.closed = true;
    this.outbox = [];
    this.queue.length = 0;
  }

  private pump(): void {
    this.pumpScheduled = false;
    while (!this.closed && this.queue.length > 0) {
      if (this.socket.writableNeedDrain) {
        this.awaitingDrain = true;
        this.socket.once('drain', () => {
          this.awaitingDrain = false;
          this.pump();
        });
        return;
      }
      const item = this.queue[0];
      if (Buffer.isBuffer(item)) {
        this.queue.shift();
        this.socket.write(item);
        continue;
      }
      const { bytes, done } = item();
      if (done) this.queue.shift();
      this.socket.write(bytes);
      if (!done) {
        this.pumpScheduled = true;
        setImmediate(() => this.pump());
        return;
      }
    }
  }
}
