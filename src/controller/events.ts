/** Controller events (switch connected/disconnected, synced, packet-in...), for logs, SSE and tests. */
import { EventEmitter } from 'node:events';

export type ControllerEvent =
  | { type: 'switch.connected'; dpid: number; channel: string; remoteAddress: string }
  | { type: 'switch.disconnected'; dpid: number; reason: string }
  | { type: 'switch.synced'; dpid: number; added: number; modified: number; removed: number; ms: number }
  | { type: 'switch.sync-failed'; dpid: number; error: string }
  | { type: 'port.status'; dpid: number; port: number; up: boolean; reason: string }
  | { type: 'packet-in'; dpid: number; inPort: number; table: number; reason: string };

export class ControllerEvents {
  private readonly emitter = new EventEmitter();

  emit(e: ControllerEvent): void {
    this.emitter.emit('event', e);
  }

  subscribe(listener: (e: ControllerEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Resolves with the first event that satisfies `predicate` (tests and `lab up` use it). */
  waitFor(predicate: (e: ControllerEvent) => boolean, timeoutMs: number): Promise<ControllerEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a controller event`));
      }, timeoutMs);
      const off = this.subscribe((e) => {
        if (!predicate(e)) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
  }
}
