/**
 * The executor's contract: what it needs from its caller (PipelineEnv: table lookup, groups, ports,
 * connection tracking) and what it reports (ExecResult, TraceStep).
 */
import type { Action, CtMark } from './actions.js';
import type { FieldName } from './fields.js';
import type { FlowEntry, GroupEntry } from './flow-entry.js';
import type { PacketKey } from './packet-key.js';
import type { MissBehaviour } from './pipeline.js';

/** What a table lookup returns: the flow plus whatever the caller hangs on it (counters, ids). */
export interface FlowHandle {
  readonly flow: FlowEntry;
}

export type TableMissPolicy = MissBehaviour | ((table: number) => MissBehaviour);

/**
 * Connection tracking for the `ct` action (conntrack.ts's ConnTable): fill the key's CT_STATE, CT_ZONE
 * and CT_MARK for the packet in `frame`; false drops the packet (its commit would overflow the zone).
 */
export interface ConntrackHook {
  track(key: PacketKey, frame: Uint8Array, zone: number, commit: boolean, mark: CtMark | undefined): boolean;
}

export interface PipelineEnv<H extends FlowHandle = FlowHandle> {
  /** The best flow of `table` for this key (a Classifier lookup), or undefined on a miss. */
  lookup(table: number, key: PacketKey): H | undefined;
  group?(groupId: number): GroupEntry | undefined;
  /**
   * A flow's meter instruction: may a packet of `bytes` pass meter `meterId` (false: a band drops it,
   * counted in the meter's band stats)? Without it every meter passes (the controller's trace).
   */
  meter?(meterId: number, bytes: number): boolean;
  /** Every port FLOOD and ALL send to (the ingress port is left out). */
  ports: readonly number[];
  /** Port liveness for fast-failover buckets; every port is live when absent. */
  isPortLive?(port: number): boolean;
  /** What a table miss does: drop, send to the controller, or try the next table. */
  tableMiss: TableMissPolicy;
  /** Tables are 0..tableCount-1 ('next' past the last one drops). */
  tableCount: number;
  /**
   * Connection tracking; without it a `ct` answers what Open vSwitch's ofproto/trace assumes by
   * default: a new connection (TRK | NEW), with the committed mark.
   */
  conntrack?: ConntrackHook;
}

/** Why nothing left; 'mplsTooDeep': an MPLS label stack deeper than MAX_MPLS_LABELS (packet-key.ts). */
/** 'conntrackLimit': a `ct` commit found its zone full; 'recirculationLimit': more `ct` passes than MAX_RECIRCULATIONS. */
/** 'meter': a band of the matched flow's meter dropped it (over the band's rate). */
export type DropReason =
  | 'malformed'
  | 'mplsTooDeep'
  | 'tableMiss'
  | 'noOutput'
  | 'ttlExpired'
  | 'groupMissing'
  | 'groupLoop'
  | 'conntrackLimit'
  | 'recirculationLimit'
  | 'meter';
export const DROP_REASONS: readonly DropReason[] = [
  'malformed',
  'mplsTooDeep',
  'tableMiss',
  'noOutput',
  'ttlExpired',
  'groupMissing',
  'groupLoop',
  'conntrackLimit',
  'recirculationLimit',
  'meter',
];

export type PacketInCause = 'noMatch' | 'action' | 'invalidTtl';

export interface PacketInRecord {
  table: number;
  reason: PacketInCause;
  cookie: number;
  metadata: number;
  frame: Uint8Array;
}

/**
 * The outcome of one frame, reused between runs: outputs as parallel arrays (port i gets frame i, for
 * i < outCount; frames may be shared between outputs and must not be written by the caller),
 * packet-ins, the flows that matched in table order (the first matchedCount), and why nothing left,
 * if nothing did. The arrays keep their length between runs (truncating a V8 array to 0 frees its
 * store, and regrowing it costs more than the whole lookup): read the counts, or trimResult() first.
 */
export interface ExecResult<H extends FlowHandle = FlowHandle> {
  outPorts: number[];
  outFrames: Uint8Array[];
  outCount: number;
  packetIns: PacketInRecord[];
  matched: H[];
  matchedCount: number;
  drop: DropReason | undefined;
}

export function createExecResult<H extends FlowHandle = FlowHandle>(): ExecResult<H> {
  return { outPorts: [], outFrames: [], outCount: 0, packetIns: [], matched: [], matchedCount: 0, drop: undefined };
}

/** Cut the arrays to their counts (slow paths: trace, packet-out, tests), so they can be read whole. */
export function trimResult<H extends FlowHandle>(r: ExecResult<H>): ExecResult<H> {
  r.outPorts.length = r.outCount;
  r.outFrames.length = r.outCount;
  r.matched.length = r.matchedCount;
  return r;
}

export type TraceStep =
  | { kind: 'table'; table: number; flow: FlowEntry | undefined; miss?: MissBehaviour }
  | { kind: 'action'; action: Action; skipped?: string }
  /** 'vlan' and 'mpls': tags or label stack entries before and after a push or pop. */
  | { kind: 'rewrite'; field: FieldName | 'vlan' | 'mpls' | 'ipTtl'; from: number; to: number }
  | { kind: 'metadata'; from: number; to: number }
  /** A flow's meter instruction: the meter the packet went through, and whether it passed. */
  | { kind: 'meter'; meterId: number; passed: boolean }
  /** What a `ct` action found: the ct fields the packet carries from then on. */
  | { kind: 'conntrack'; zone: number; state: number; mark: number }
  /** A `ct` with a table: the lookup starts over there (a new pass). */
  | { kind: 'recirculate'; table: number }
  | { kind: 'group'; groupId: number; type: GroupEntry['type'] | 'missing'; bucket: number }
  | { kind: 'output'; port: number }
  | { kind: 'packetIn'; reason: PacketInCause }
  | { kind: 'drop'; reason: DropReason };

export interface RunOptions {
  /** May the executor write into the given frame? (The softswitch owns each received datagram.) */
  mutable?: boolean;
  tunnelId?: number;
  metadata?: number;
  /** First table (default 0). */
  table?: number;
  /** Collect every step here (trace mode; slower, for the controller's trace and debugging). */
  trace?: TraceStep[];
}
