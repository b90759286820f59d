/**
 * Controller events, for logs, the SSE stream, webhooks and tests. Every event gets an id (increasing
 * by one per event in this process) and a time from the injected clock; the last `ringSize` events are
 * kept so a reconnecting SSE client can resume after the id it last saw (`Last-Event-ID`).
 */
import { linkId } from '../model/index.js';
import type { CommittedChange } from './intent/index.js';

/** Why held packets were dropped (see packet-hold.ts). */
export type HoldDropReason = 'overflow' | 'expired' | 'unsendable';

/** What a producer emits; the stamp (`id`, `timeMs`) is added by ControllerEvents.emit. */
export type ControllerEventBody =
  | { type: 'switch.connected'; dpid: number; channel: string; remoteAddress: string }
  | { type: 'switch.disconnected'; dpid: number; reason: string }
  | { type: 'switch.synced'; dpid: number; added: number; modified: number; removed: number; ms: number }
  /** `retryInMs`: when the controller reconciles the switch again (absent when it is gone). */
  | { type: 'switch.sync-failed'; dpid: number; error: string; retryInMs?: number }
  | { type: 'port.status'; dpid: number; port: number; up: boolean; reason: string }
  /** A link was set down or up, added (up) or removed (down) in the topology (`link`: its id, `s1:2~s2:1`). */
  | { type: 'link.down'; link: string }
  | { type: 'link.up'; link: string }
  /** `count` packet-ins of this kind (switch, table, reason, cookie) since its last event; see packet-in-events.ts. */
  | { type: 'packet-in'; dpid: number; inPort: number; table: number; reason: string; count: number }
  | { type: 'endpoint.up'; endpointId: string; vpcId: string; labels: Readonly<Record<string, string>> }
  | { type: 'endpoint.down'; endpointId: string; vpcId: string; labels: Readonly<Record<string, string>> }
  /** The first packet for a function with no ready instance was held: start one. Once per cold period. */
  | { type: 'function.activation-requested'; functionKey: string; vpcId?: string; vip?: string; heldPackets: number }
  /** Its first instance registered (PacketHold.release was called); `heldPackets` are about to be replayed. */
  | { type: 'function.activated'; functionKey: string; heldPackets: number }
  /** Held packets sent on through the pipeline; `delayMs` from registration to the first one sent. */
  | { type: 'packets.released'; functionKey: string; count: number; delayMs: number }
  | { type: 'packets.dropped'; functionKey: string; reason: HoldDropReason; count: number }
  /** The health prober took a backend out of a load balancer's pool (`misses` echo requests in a row unanswered). */
  | { type: 'backend.unhealthy'; loadBalancerId: string; endpointId: string; misses: number }
  /** The health prober put a backend it had taken out back into the pool (`successes` answers in a row). */
  | { type: 'backend.healthy'; loadBalancerId: string; endpointId: string; successes: number }
  /** An endpoint was attached to a volume (committed; its flows follow at the barrier). */
  | { type: 'volume.attached'; volumeId: string; attachmentId: string; endpointId: string; mode: string }
  /** An attachment was removed (detached over REST, or its endpoint deleted). */
  | { type: 'volume.detached'; volumeId: string; attachmentId: string; endpointId: string }
  /** A volume's target stopped serving: it failed its health probes, or its switch or link went down. */
  | { type: 'volume.target-down'; volumeId: string; endpointId: string; reason: string }
  /** A target that was down serves again. */
  | { type: 'volume.target-up'; volumeId: string; endpointId: string }
  /** A security group was created, had its rules or name changed, or was deleted (docs/security-groups.md). */
  | { type: 'security-group.changed'; securityGroupId: string; vpcId: string; op: 'add' | 'update' | 'delete' }
  /** A network ACL was created, had its rules replaced, or was deleted. */
  | { type: 'network-acl.changed'; networkAclId: string; subnetId: string; op: 'add' | 'update' | 'delete' };

export type ControllerEventType = ControllerEventBody['type'];

export interface EventStamp {
  /** 1, 2, 3... in emission order, per process. */
  readonly id: number;
  /** Wall-clock milliseconds (epoch) from the injected clock. */
  readonly timeMs: number;
}

export type ControllerEvent = ControllerEventBody & EventStamp;

/** Every event type, in one place (the record makes the compiler flag a type missing here). */
const TYPES: Record<ControllerEventType, true> = {
  'switch.connected': true,
  'switch.disconnected': true,
  'switch.synced': true,
  'switch.sync-failed': true,
  'port.status': true,
  'link.down': true,
  'link.up': true,
  'packet-in': true,
  'endpoint.up': true,
  'endpoint.down': true,
  'function.activation-requested': true,
  'function.activated': true,
  'packets.released': true,
  'packets.dropped': true,
  'backend.unhealthy': true,
  'backend.healthy': true,
  'volume.attached': true,
  'volume.detached': true,
  'volume.target-down': true,
  'volume.target-up': true,
  'security-group.changed': true,
  'network-acl.changed': true,
};
export const CONTROLLER_EVENT_TYPES = Object.keys(TYPES) as readonly ControllerEventType[];

export function isControllerEventType(s: string): s is ControllerEventType {
  return Object.hasOwn(TYPES, s);
}

/** Enough for a client that blinked (a reconnect, a slow consumer dropped) to catch up. */
export const DEFAULT_EVENT_RING_SIZE = 1024;

export interface ControllerEventsOptions {
  /** Wall clock for `timeMs` (default Date.now). */
  nowMs?: () => number;
  ringSize?: number;
}

/** What a resume finds: the events after the given id, and whether some between were lost. */
export interface EventReplay {
  events: ControllerEvent[];
  /** True when events after `lastId` have left the ring (or `lastId` is from another process). */
  gap: boolean;
}

export type EventListener = (e: ControllerEvent) => void;

export class ControllerEvents {
  private readonly listeners = new Set<EventListener>();
  private readonly nowMs: () => number;
  private readonly ring: (ControllerEvent | undefined)[];
  private nextId = 1;
  /** Listeners that threw: counted, never thrown into the producer (a packet-in handler, a sync). */
  listenerErrors = 0;

  constructor(options: ControllerEventsOptions = {}) {
    this.nowMs = options.nowMs ?? Date.now;
    this.ring = new Array<ControllerEvent | undefined>(Math.max(1, options.ringSize ?? DEFAULT_EVENT_RING_SIZE));
  }

  /** Stamp, remember and deliver an event synchronously to every subscriber; returns the stamped event. */
  emit(body: ControllerEventBody): ControllerEvent {
    const e: ControllerEvent = { ...body, id: this.nextId++, timeMs: this.nowMs() };
    this.ring[e.id % this.ring.length] = e;
    // A snapshot: listeners may unsubscribe (waitFor) or subscribe while we deliver.
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        this.listenerErrors++;
      }
    }
    return e;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** The id of the newest event (0 before the first). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** The remembered events with id > lastId, oldest first. */
  since(lastId: number): EventReplay {
    const newest = this.nextId - 1;
    const oldest = Math.max(1, newest - this.ring.length + 1);
    if (lastId > newest || !Number.isInteger(lastId) || lastId < 0) {
      // An id this process never gave: the client saw another controller process. Replay all we have.
      return { events: this.range(oldest, newest), gap: true };
    }
    const from = Math.max(lastId + 1, oldest);
    return { events: this.range(from, newest), gap: from > lastId + 1 };
  }

  /** The remembered events, oldest first. */
  recent(): ControllerEvent[] {
    return this.since(0).events;
  }

  private range(from: number, to: number): ControllerEvent[] {
    const out: ControllerEvent[] = [];
    for (let id = from; id <= to; id++) {
      const e = this.ring[id % this.ring.length];
      if (e && e.id === id) out.push(e);
    }
    return out;
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

/** security-group.changed / network-acl.changed from one intent transaction. Wire it with intent.onChange. */
export function securityEvents(changes: readonly CommittedChange[]): ControllerEventBody[] {
  const out: ControllerEventBody[] = [];
  for (const c of changes) {
    if (c.kind === 'securityGroup') {
      const g = c.op === 'delete' ? c.before : c.after;
      out.push({ type: 'security-group.changed', securityGroupId: g.id, vpcId: g.vpcId, op: c.op });
    } else if (c.kind === 'networkAcl') {
      const acl = c.op === 'delete' ? c.before : c.after;
      out.push({ type: 'network-acl.changed', networkAclId: acl.id, subnetId: acl.subnetId, op: c.op });
    }
  }
  return out;
}

/**
 * endpoint.up / endpoint.down from one intent transaction: an endpoint added is up, deleted is down; an
 * update that moves it (switch or port) is down then up. Wire it with intent.onChange.
 */
export function endpointEvents(changes: readonly CommittedChange[]): ControllerEventBody[] {
  const out: ControllerEventBody[] = [];
  const ev = (type: 'endpoint.up' | 'endpoint.down', ep: { id: string; vpcId: string; labels: Readonly<Record<string, string>> }) =>
    out.push({ type, endpointId: ep.id, vpcId: ep.vpcId, labels: ep.labels });
  for (const c of changes) {
    if (c.kind !== 'endpoint') continue;
    if (c.op === 'add') ev('endpoint.up', c.after);
    else if (c.op === 'delete') ev('endpoint.down', c.before);
    else if (c.before.dpid !== c.after.dpid || c.before.port !== c.after.port) {
      ev('endpoint.down', c.before);
      ev('endpoint.up', c.after);
    }
  }
  return out;
}

/**
 * link.down / link.up from one intent transaction's topology changes: a link whose state changed, one
 * added up, one removed. Wire it with intent.onChange (the port-driven state switches report is
 * `port.status`).
 */
export function linkEvents(changes: readonly CommittedChange[]): ControllerEventBody[] {
  const out: ControllerEventBody[] = [];
  for (const c of changes) {
    if (c.kind !== 'topology') continue;
    const before = new Map(c.before.links.map((l) => [linkId(l), l.up]));
    const after = new Map(c.topology.links.map((l) => [linkId(l), l.up]));
    for (const [link, up] of after) if (before.get(link) !== up && (up || before.has(link))) out.push({ type: up ? 'link.up' : 'link.down', link });
    for (const [link, up] of before) if (!after.has(link) && up) out.push({ type: 'link.down', link });
  }
  return out;
}

/** volume.attached / volume.detached from one intent transaction's attachment changes. Wire it with intent.onChange. */
export function volumeEvents(changes: readonly CommittedChange[]): ControllerEventBody[] {
  const out: ControllerEventBody[] = [];
  for (const c of changes) {
    // An update only moves a Gluster attachment's mount addresses with its volume's targets: no event.
    if (c.kind !== 'attachment' || c.op === 'update') continue;
    if (c.op !== 'add') out.push({ type: 'volume.detached', volumeId: c.before.volumeId, attachmentId: c.before.id, endpointId: c.before.endpointId });
    if (c.op !== 'delete') out.push({ type: 'volume.attached', volumeId: c.after.volumeId, attachmentId: c.after.id, endpointId: c.after.endpointId, mode: c.after.mode });
  }
  return out;
}
