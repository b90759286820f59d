/**
 * `packet-in` events, coalesced: the first packet-in of a kind (switch, table, reason, cookie) is an
 * event at once; the ones after it within PACKET_IN_EVENT_INTERVAL_MS are counted and reported
 * together, one event with `count`, when the interval is over. A flood of packet-ins (a load balancer
 * with no backends sends every packet to the controller) is then one event per kind per second, not
 * one per packet.
 */
import type { ControllerEventBody } from './events.js';
import type { PacketInEvent } from './switch-connection.js';

export const PACKET_IN_EVENT_INTERVAL_MS = 1000;

interface Kind {
  dpid: number;
  table: number;
  reason: string;
  inPort: number;
  lastMs: number;
  pending: number;
}

export interface PacketInEventsTimers {
  setTimeout?(fn: () => void, ms: number): unknown;
  clearTimeout?(handle: unknown): void;
}

export class PacketInEvents {
  private readonly kinds = new Map<string, Kind>();
  private timer: unknown;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(
    private readonly nowMs: () => number,
    private readonly emit: (e: ControllerEventBody) => void,
    timers: PacketInEventsTimers = {},
    private readonly intervalMs = PACKET_IN_EVENT_INTERVAL_MS,
  ) {
    this.setTimer =
      timers.setTimeout ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref();
        return t;
      });
    this.clearTimer = timers.clearTimeout ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  }

  record(dpid: number, e: PacketInEvent): void {
    const key = `${dpid}:${e.table}:${e.reason}:${e.cookie}`;
    const now = this.nowMs();
    const k = this.kinds.get(key);
    if (!k || now - k.lastMs >= this.intervalMs) {
      const count = 1 + (k?.pending ?? 0);
      this.kinds.set(key, { dpid, table: e.table, reason: e.reason, inPort: e.inPort, lastMs: now, pending: 0 });
      this.emit({ type: 'packet-in', dpid, inPort: e.inPort, table: e.table, reason: e.reason, count });
    } else {
      k.pending++;
      k.inPort = e.inPort;
    }
    this.timer ??= this.setTimer(() => this.flush(), this.intervalMs);
  }

  /** Report what waited, forget kinds quiet for a whole interval, and tick again while any is left. */
  private flush(): void {
    this.timer = undefined;
    const now = this.nowMs();
    for (const [key, k] of this.kinds) {
      if (k.pending > 0 && now - k.lastMs >= this.intervalMs) {
        this.emit({ type: 'packet-in', dpid: k.dpid, inPort: k.inPort, table: k.table, reason: k.reason, count: k.pending });
        k.pending = 0;
        k.lastMs = now;
      } else if (k.pending === 0 && now - k.lastMs >= this.intervalMs) {
        this.kinds.delete(key);
      }
    }
    if (this.kinds.size > 0) this.timer = this.setTimer(() => this.flush(), this.intervalMs);
  }

  close(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    this.kinds.clear();
  }
}
