/**
 * Scale from zero: packets for a function with no ready instance reach the controller (a to-controller
 * flow whose cookie names the function's load balancer); we hold them per function, bounded in count
 * and time, ask once for an activation, and when the first instance registers (its flows installed)
 * replay them in arrival order. The hold is pure logic over an injected clock and timers; the runtime
 * adapter (`attachPacketHold`) feeds it the controller's packet-ins and replays as packet-outs to
 * PORT.TABLE on the switch each packet came from, with its original in_port, so the replayed packets
 * traverse the flows just installed.
 */
import { output, PORT } from '../flow/index.js';
import type { Controller } from './controller.js';
import type { ControllerEventBody, HoldDropReason } from './events.js';
import type { PacketInEvent, SwitchConnection } from './switch-connection.js';
import type { TimerHandle } from './timers.js';

export const DEFAULT_HOLD_MAX_PACKETS_PER_FUNCTION = 1024;
export const DEFAULT_HOLD_MAX_PACKETS_TOTAL = 16_384;
export const DEFAULT_HOLD_MS = 10_000;
/** Expired packets of one function are reported at most this often (one event with their count). */
export const DROP_REPORT_INTERVAL_MS = 1000;

/** A packet-in and the switch it came from. */
export interface PacketInAt extends PacketInEvent {
  dpid: number;
}

export interface HeldPacket extends PacketInAt {
  /** Arrival order across the whole hold (1, 2, ...). */
  seq: number;
  arrivedAtMs: number;
}

/** What a packet-in is held for: the function's key, and what the activation event reports. */
export interface HoldTarget {
  functionKey: string;
  vpcId?: string;
  /** The VIP as text (a.b.c.d), for the activation event. */
  vip?: string;
}

export interface PacketHoldOptions {
  /** A function key (or target) when the packet-in is for a cold function; undefined = not ours. */
  classify(p: PacketInAt): string | HoldTarget | undefined;
  maxPacketsPerFunction?: number;
  /** Across all functions: memory stays bounded however many functions are cold at once. */
  maxPacketsTotal?: number;
  /** How long a packet may wait for its function; older ones are dropped ('expired'). */
  holdMs?: number;
}


export interface PacketHoldComponents {
  /** Monotonic milliseconds; `release`'s `sinceMs` must come from the same clock. */
  nowMs(): number;
  emit(e: ControllerEventBody): void;
  setTimeout?(fn: () => void, ms: number): TimerHandle;
  clearTimeout?(handle: TimerHandle): void;
}

export type OfferResult = 'held' | 'dropped' | 'ignored';

export interface ReleaseResult {
  functionKey: string;
  /** Packets handed to `send` successfully, in arrival order. */
  count: number;
  /** Packets `send` refused (returned false or threw): their switch is gone. */
  unsendable: number;
  /** Packets found expired at release time. */
  expired: number;
  /** From `sinceMs` (default: the release call) to the first packet sent; undefined when none was. */
  delayMs: number | undefined;
}

export interface PacketHoldStats {
  /** Functions in a cold period now. */
  coldFunctions: number;
  heldPackets: number;
  heldTotal: number;
  releasedTotal: number;
  activationRequests: number;
  dropped: Record<HoldDropReason, number>;
}

export interface PacketHold {
  offer(p: PacketInAt): OfferResult;
  /**
   * The function's first instance registered and its flows are installed: end the cold period and
   * replay its held packets through `send` (false = could not send) in arrival order.
   */
  release(functionKey: string, send: (p: HeldPacket) => boolean | void, opts?: { sinceMs?: number }): ReleaseResult;
  /** Packets held now for one function. */
  held(functionKey: string): number;
  stats(): PacketHoldStats;
  /** Cancel every timer and forget the held packets (shutdown). */
  close(): void;
}

interface ColdFunction {
  target: HoldTarget;
  queue: HeldPacket[];
  overflow: number;
  /** Expired packets not reported yet, and when the last report went out. */
  expired: number;
  expiredReportedAtMs: number;
  /** The cold period lasts while packets keep coming, even if none could be held. */
  coldUntilMs: number;
  timer: TimerHandle | undefined;
  timerAtMs: number;
}

export function createPacketHold(options: PacketHoldOptions, components: PacketHoldComponents): PacketHold {
  const perFunction = options.maxPacketsPerFunction ?? DEFAULT_HOLD_MAX_PACKETS_PER_FUNCTION;
  const total = options.maxPacketsTotal ?? DEFAULT_HOLD_MAX_PACKETS_TOTAL;
  const holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  const { nowMs, emit } = components;
  const setTimer = components.setTimeout ?? defaultSetTimeout;
  const clearTimer = components.clearTimeout ?? ((h: TimerHandle) => clearTimeout(h as NodeJS.Timeout));

  const cold = new Map<string, ColdFunction>();
  const dropped: Record<HoldDropReason, number> = { overflow: 0, expired: 0, unsendable: 0 };
  let heldPackets = 0;
  let seq = 0;
  let heldTotal = 0;
  let releasedTotal = 0;
  let activationRequests = 0;

  const drop = (key: string, reason: HoldDropReason, count: number) => {
    if (count <= 0) return;
    dropped[reason] += count;
    emit({ type: 'packets.dropped', functionKey: key, reason, count });
  };

  /** Drop the packets at the head whose time is up; returns how many. */
  const expireHead = (f: ColdFunction, now: number): number => {
    let n = 0;
    while (n < f.queue.length && f.queue[n].arrivedAtMs + holdMs <= now) n++;
    if (n > 0) {
      f.queue.splice(0, n);
      heldPackets -= n;
    }
    return n;
  };

  /**
   * Report expired packets: at once the first time, then at most once per DROP_REPORT_INTERVAL_MS
   * (a steady flood expires a packet per arrival; that is one event a second, not one per packet).
   */
  const reportExpired = (key: string, f: ColdFunction, now: number, force = false) => {
    if (f.expired === 0 || (!force && now - f.expiredReportedAtMs < DROP_REPORT_INTERVAL_MS)) return;
    drop(key, 'expired', f.expired);
    f.expired = 0;
    f.expiredReportedAtMs = now;
  };

  const schedule = (key: string, f: ColdFunction, now: number) => {
    const next = f.queue.length > 0 ? f.queue[0].arrivedAtMs + holdMs : f.coldUntilMs;
    const at = f.expired > 0 ? Math.min(next, f.expiredReportedAtMs + DROP_REPORT_INTERVAL_MS) : next;
    if (f.timer !== undefined && f.timerAtMs === at) return;
    if (f.timer !== undefined) clearTimer(f.timer);
    f.timerAtMs = at;
    f.timer = setTimer(() => onTimer(key, f), Math.max(0, at - now));
  };

  const end = (key: string, f: ColdFunction) => {
    if (f.timer !== undefined) clearTimer(f.timer);
    f.timer = undefined;
    cold.delete(key);
    heldPackets -= f.queue.length;
    reportExpired(key, f, nowMs(), true);
    // Overflow is counted as it happens but reported once per cold period (not an event per packet).
    if (f.overflow > 0) emit({ type: 'packets.dropped', functionKey: key, reason: 'overflow', count: f.overflow });
  };

  const onTimer = (key: string, f: ColdFunction) => {
    if (cold.get(key) !== f) return;
    f.timer = undefined;
    const now = nowMs();
    f.expired += expireHead(f, now);
    reportExpired(key, f, now);
    if (f.queue.length === 0 && now >= f.coldUntilMs) end(key, f);
    else schedule(key, f, now);
  };

  return {
    offer(p) {
      const c = options.classify(p);
      if (c === undefined) return 'ignored';
      const target = typeof c === 'string' ? { functionKey: c } : c;
      const key = target.functionKey;
      const now = nowMs();
      let f = cold.get(key);
      const first = f === undefined;
      if (!f) {
        f = { target, queue: [], overflow: 0, expired: 0, expiredReportedAtMs: -Infinity, coldUntilMs: now + holdMs, timer: undefined, timerAtMs: 0 };
        cold.set(key, f);
      } else {
        f.coldUntilMs = now + holdMs;
      }
      // Make room from the packets whose time is up before judging the bounds.
      f.expired += expireHead(f, now);
      reportExpired(key, f, now);
      let result: OfferResult;
      if (f.queue.length >= perFunction || heldPackets >= total) {
        f.overflow++;
        dropped.overflow++;
        result = 'dropped';
      } else {
        // Our own copy: the channel's buffer may be reused or large.
        f.queue.push({ ...p, frame: Buffer.from(p.frame), seq: ++seq, arrivedAtMs: now });
        heldPackets++;
        heldTotal++;
        result = 'held';
      }
      if (first) {
        activationRequests++;
        const { vpcId, vip } = target;
        emit({
          type: 'function.activation-requested',
          functionKey: key,
          ...(vpcId === undefined ? {} : { vpcId }),
          ...(vip === undefined ? {} : { vip }),
          heldPackets: f.queue.length,
        });
      }
      schedule(key, f, now);
      return result;
    },

    release(functionKey, send, opts = {}) {
      const f = cold.get(functionKey);
      const started = opts.sinceMs ?? nowMs();
      const result: ReleaseResult = { functionKey, count: 0, unsendable: 0, expired: 0, delayMs: undefined };
      if (!f) {
        emit({ type: 'function.activated', functionKey, heldPackets: 0 });
        return result;
      }
      // A late timer must not let a too-old packet through.
      result.expired = expireHead(f, nowMs());
      f.expired += result.expired;
      const queue = f.queue;
      f.queue = [];
      heldPackets -= queue.length;
      end(functionKey, f);
      emit({ type: 'function.activated', functionKey, heldPackets: queue.length });
      for (const p of queue) {
        let ok: boolean;
        try {
          ok = send(p) !== false;
        } catch {
          ok = false;
        }
        if (!ok) {
          result.unsendable++;
          continue;
        }
        if (result.count++ === 0) result.delayMs = Math.max(0, nowMs() - started);
      }
      releasedTotal += result.count;
      if (result.count > 0) emit({ type: 'packets.released', functionKey, count: result.count, delayMs: result.delayMs ?? 0 });
      drop(functionKey, 'unsendable', result.unsendable);
      return result;
    },

    held(functionKey) {
      return cold.get(functionKey)?.queue.length ?? 0;
    },

    stats() {
      return { coldFunctions: cold.size, heldPackets, heldTotal, releasedTotal, activationRequests, dropped: { ...dropped } };
    },

    close() {
      for (const f of cold.values()) if (f.timer !== undefined) clearTimer(f.timer);
      cold.clear();
      heldPackets = 0;
    },
  };
}

function defaultSetTimeout(fn: () => void, ms: number): TimerHandle {
  const t = setTimeout(fn, ms);
  // The hold never keeps a process alive on its own.
  t.unref();
  return t;
}

/** The hold wired to a running controller. */
export interface PacketHoldRuntime {
  readonly hold: PacketHold;
  /**
   * The function's first instance registered and its flows are installed (call after the push's
   * barrier): replay its held packets as packet-outs to PORT.TABLE. `registeredAtMs` (the hold's clock)
   * makes `delayMs` run from the registration rather than from this call.
   */
  activate(functionKey: string, opts?: { registeredAtMs?: number }): ReleaseResult;
  /** Stop feeding the hold (connections already attached are ignored from now on). */
  detach(): void;
}

/** Feed every attached switch's packet-ins to `hold`, and replay releases on the switch they came from. */
export function attachPacketHold(controller: Pick<Controller, 'events' | 'session' | 'knownDpids'>, hold: PacketHold): PacketHoldRuntime {
  const seen = new WeakSet<SwitchConnection>();
  let detached = false;
  const watch = (dpid: number) => {
    const connection = controller.session(dpid)?.connection;
    if (!connection || seen.has(connection)) return;
    seen.add(connection);
    connection.on('packetIn', (e) => {
      if (!detached) hold.offer({ ...e, dpid });
    });
  };
  for (const dpid of controller.knownDpids) watch(dpid);
  // Controller emits switch.connected synchronously after the session exists, before any packet-in.
  const off = controller.events.subscribe((e) => {
    if (e.type === 'switch.connected') watch(e.dpid);
  });
  const toTable = [output(PORT.TABLE)];
  return {
    hold,
    activate(functionKey, opts = {}) {
      return hold.release(
        functionKey,
        (p) => {
          const session = controller.session(p.dpid);
          if (!session) return false;
          session.connection.packetOut(p.frame, p.inPort, toTable);
          return true;
        },
        opts.registeredAtMs === undefined ? {} : { sinceMs: opts.registeredAtMs },
      );
    },
    detach() {
      detached = true;
      off();
    },
  };
}
