/**
 * Mapping between the channel-neutral flow model (src/flow) and the generated protobuf messages:
 * matches, actions, flows, flow-mods, groups. Decoding validates shape (known enums, present bodies,
 * safe integers) and throws WireError, which decodeMessage turns into a Malformed result.
 */
import {
  FIELD_NAMES,
  PORT,
  type Action,
  type Bucket,
  type FieldMatch,
  type FieldName,
  type FlowEntry,
  type FlowMod,
  type FlowModCommand,
  type GroupEntry,
  type GroupMod,
  type GroupModCommand,
  type GroupType,
  type Match,
} from '../../flow/index.js';
import type { overcast } from './generated/overcast.js';

type IMatchField = overcast.native.IMatchField;
type IAction = overcast.native.IAction;
type IFlow = overcast.native.IFlow;
type IFlowMod = overcast.native.IFlowMod;
type IBucket = overcast.native.IBucket;
type IGroup = overcast.native.IGroup;
type IGroupMod = overcast.native.IGroupMod;

/** A shape problem found while decoding; never escapes decodeMessage. */
export class WireError extends Error {}

/** Wire numbers of the match fields (the `Field` enum in overcast.proto). */
export const FIELD_WIRE: { readonly [F in FieldName]: number } = {
  inPort: 0,
  metadata: 1,
  tunnelId: 2,
  ethDst: 3,
  ethSrc: 4,
  ethType: 5,
  vlanVid: 6,
  vlanPcp: 7,
  ipDscp: 8,
  ipProto: 9,
  ipv4Src: 10,
  ipv4Dst: 11,
  tcpSrc: 12,
  tcpDst: 13,
  tcpFlags: 14,
  udpSrc: 15,
  udpDst: 16,
  icmpType: 17,
  icmpCode: 18,
  arpOp: 19,
  arpSpa: 20,
  arpTpa: 21,
  arpSha: 22,
  arpTha: 23,
  mplsLabel: 24,
  mplsTc: 25,
  mplsBos: 26,
  ctState: 27,
  ctZone: 28,
  ctMark: 29,
  conjId: 30,
};
const WIRE_FIELD: FieldName[] = [];
for (const name of FIELD_NAMES) WIRE_FIELD[FIELD_WIRE[name]] = name;

/** Enum tables: the TypeScript name at the index of its wire number. */
export const FLOW_MOD_COMMANDS: readonly FlowModCommand[] = ['add', 'modify', 'modifyStrict', 'delete', 'deleteStrict'];
export const GROUP_TYPES: readonly GroupType[] = ['all', 'select', 'indirect', 'fastFailover'];
export const GROUP_MOD_COMMANDS: readonly GroupModCommand[] = ['add', 'modify', 'delete'];

export function toWire<T>(table: readonly T[], value: T, what: string): number {
  const i = table.indexOf(value);
  if (i < 0) throw new WireError(`unknown ${what} ${String(value)}`);
  return i;
}
export function fromWire<T>(table: readonly T[], n: number | null | undefined, what: string): T {
  const v = table[n ?? 0];
  if (v === undefined) throw new WireError(`unknown ${what} ${n}`);
  return v;
}

/** protobufjs decodes uint64 as Long when the long package is present; the public API uses numbers. */
type Wide = number | { toNumber(): number } | null | undefined;
export function u64(v: Wide): number {
  if (v == null) return 0;
  const n = typeof v === 'number' ? v : v.toNumber();
  if (!Number.isSafeInteger(n) || n < 0) throw new WireError(`64-bit value beyond 2^53`);
  return n;
}

function fieldOf(n: number | null | undefined): FieldName {
  const f = WIRE_FIELD[n ?? 0];
  if (f === undefined) throw new WireError(`unknown field ${n}`);
  return f;
}

export function encodeMatch(match: Match): IMatchField[] {
  const out: IMatchField[] = [];
  for (const name of FIELD_NAMES) {
    const m = match[name];
    if (m === undefined) continue;
    out.push(typeof m === 'number' ? { field: FIELD_WIRE[name], value: m } : { field: FIELD_WIRE[name], value: m.value, mask: m.mask });
  }
  return out;
}

export function decodeMatch(fields: IMatchField[] | null | undefined): Match {
  const match: Match = {};
  for (const f of fields ?? []) {
    const name = fieldOf(f.field);
    if (match[name] !== undefined) throw new WireError(`field ${name} repeated`);
    const value = u64(f.value);
    const m: FieldMatch = f.mask != null ? { value, mask: u64(f.mask) } : value;
    match[name] = m;
  }
  return match;
}

export function encodeAction(a: Action): IAction {
  switch (a.type) {
    case 'output':
      return { output: a.maxLen === undefined ? { port: a.port } : { port: a.port, maxLen: a.maxLen } };
    case 'group':
      return { group: { groupId: a.groupId } };
    case 'setField':
      return { setField: { field: FIELD_WIRE[a.field], value: a.value } };
    case 'copyField':
      return { copyField: { src: FIELD_WIRE[a.src], dst: FIELD_WIRE[a.dst] } };
    case 'pushVlan':
      return { pushVlan: { ethType: a.ethType } };
    case 'popVlan':
      return { popVlan: {} };
    case 'pushMpls':
      return { pushMpls: { ethType: a.ethType } };
    case 'popMpls':
      return { popMpls: { ethType: a.ethType } };
    case 'decTtl':
      return { decTtl: {} };
    case 'ct': {
      const ct: overcast.native.ICt = { zone: a.zone, commit: a.commit === true };
      if (a.table !== undefined) ct.table = a.table;
      if (a.mark !== undefined) ct.mark = { value: a.mark.value, mask: a.mark.mask };
      return { ct };
    }
    case 'conjunction':
      return { conjunction: { id: a.id, clause: a.clause, nClauses: a.nClauses } };
  }
}

/**
 * Decoded actions are immutable values, shared: a switch of a million flows decodes the same few
 * thousand actions over and over (the same output port, the same label push), and keeps each flow's.
 * Bounded: the table starts over when it holds MAX_SHARED_ACTIONS.
 */
const MAX_SHARED_ACTIONS = 65536;
const sharedActions = new Map<string, Action>();

function shared(key: string, make: () => Action): Action {
  let a = sharedActions.get(key);
  if (a === undefined) {
    if (sharedActions.size >= MAX_SHARED_ACTIONS) sharedActions.clear();
    sharedActions.set(key, (a = Object.freeze(make()) as Action));
  }
  return a;
}

export function decodeAction(a: IAction): Action {
  if (a.setField) {
    const field = fieldOf(a.setField.field);
    const value = u64(a.setField.value);
    return shared(`s${field}:${value}`, () => ({ type: 'setField', field, value }));
  }
  if (a.output) {
    const { port, maxLen } = a.output;
    return shared(`o${port}:${maxLen}`, () => decodeOutput(a));
  }
  // A security group's flows are mostly conjunction clauses and ct: keyed by their fields, not by
  // JSON.stringify, which cost more than the rest of a flow's decoding.
  if (a.conjunction) {
    const { id, clause, nClauses } = a.conjunction;
    return shared(`j${id}:${clause}:${nClauses}`, () => decodeOther(a));
  }
  if (a.ct) {
    const { zone, table, commit, mark } = a.ct;
    return shared(`c${zone}:${table}:${commit === true}:${mark == null ? '' : `${mark.value}/${mark.mask}`}`, () => decodeOther(a));
  }
  return shared(JSON.stringify(a), () => decodeOther(a));
}

function decodeOutput(a: IAction): Action {
  const out: Action = { type: 'output', port: a.output?.port ?? 0 };
  if (a.output?.maxLen != null) out.maxLen = a.output.maxLen;
  return out;
}

function decodeOther(a: IAction): Action {
  if (a.group) return { type: 'group', groupId: a.group.groupId ?? 0 };
  if (a.copyField) return { type: 'copyField', src: fieldOf(a.copyField.src), dst: fieldOf(a.copyField.dst) };
  if (a.pushVlan) return { type: 'pushVlan', ethType: a.pushVlan.ethType ?? 0 };
  if (a.popVlan) return { type: 'popVlan' };
  if (a.pushMpls) return { type: 'pushMpls', ethType: a.pushMpls.ethType ?? 0 };
  if (a.popMpls) return { type: 'popMpls', ethType: a.popMpls.ethType ?? 0 };
  if (a.decTtl) return { type: 'decTtl' };
  if (a.ct) return decodeCt(a.ct);
  if (a.conjunction) return { type: 'conjunction', id: a.conjunction.id ?? 0, clause: a.conjunction.clause ?? 0, nClauses: a.conjunction.nClauses ?? 0 };
  throw new WireError('action without a body');
}

function decodeCt(c: overcast.native.ICt): Action {
  const out: Action = { type: 'ct', zone: c.zone ?? 0 };
  if (c.table != null) out.table = c.table;
  if (c.commit === true) out.commit = true;
  if (c.mark != null) out.mark = { value: c.mark.value ?? 0, mask: c.mark.mask ?? 0 };
  return out;
}

export const encodeActions = (actions: readonly Action[]): IAction[] => actions.map(encodeAction);
export const decodeActions = (actions: IAction[] | null | undefined): Action[] => (actions ?? []).map(decodeAction);

export function encodeFlow(f: FlowEntry): IFlow {
  const out: IFlow = {
    table: f.table,
    priority: f.priority,
    match: encodeMatch(f.match),
    actions: encodeActions(f.actions),
    cookie: f.cookie,
    idleTimeoutSec: f.idleTimeoutSec ?? 0,
    hardTimeoutSec: f.hardTimeoutSec ?? 0,
  };
  if (f.writeMetadata) {
    out.writeMetadata = f.writeMetadata.value;
    out.writeMetadataMask = f.writeMetadata.mask;
  }
  if (f.gotoTable !== undefined) out.gotoTable = f.gotoTable;
  if (f.meterId !== undefined) out.meterId = f.meterId;
  return out;
}

export function decodeFlow(f: IFlow | null | undefined): FlowEntry {
  if (!f) throw new WireError('missing flow');
  const out: FlowEntry = {
    table: f.table ?? 0,
    priority: f.priority ?? 0,
    match: decodeMatch(f.match),
    actions: decodeActions(f.actions),
    cookie: u64(f.cookie),
  };
  if (f.writeMetadata != null) out.writeMetadata = { value: f.writeMetadata, mask: f.writeMetadataMask ?? 0xffffffff };
  if (f.gotoTable != null) out.gotoTable = f.gotoTable;
  if (f.meterId != null) out.meterId = f.meterId;
  if (f.idleTimeoutSec) out.idleTimeoutSec = f.idleTimeoutSec;
  if (f.hardTimeoutSec) out.hardTimeoutSec = f.hardTimeoutSec;
  return out;
}

export function encodeFlowMod(m: FlowMod): IFlowMod {
  const out: IFlowMod = { command: toWire(FLOW_MOD_COMMANDS, m.command, 'flow-mod command'), flow: encodeFlow(m.flow) };
  if (m.cookieMask !== undefined) out.cookieMask = m.cookieMask;
  if (m.outPort !== undefined) out.outPort = m.outPort;
  if (m.outGroup !== undefined) out.outGroup = m.outGroup;
  if (m.allTables) out.allTables = true;
  return out;
}

export function decodeFlowMod(m: IFlowMod | null | undefined): FlowMod {
  if (!m) throw new WireError('missing flow-mod');
  const out: FlowMod = { command: fromWire(FLOW_MOD_COMMANDS, m.command, 'flow-mod command'), flow: decodeFlow(m.flow) };
  if (m.cookieMask != null) out.cookieMask = u64(m.cookieMask);
  if (m.outPort != null && m.outPort !== PORT.ANY) out.outPort = m.outPort;
  if (m.outGroup != null) out.outGroup = m.outGroup;
  if (m.allTables) out.allTables = true;
  return out;
}

function encodeBucket(b: Bucket): IBucket {
  const out: IBucket = { actions: encodeActions(b.actions) };
  if (b.weight !== undefined) out.weight = b.weight;
  if (b.watchPort !== undefined) out.watchPort = b.watchPort;
  if (b.watchGroup !== undefined) out.watchGroup = b.watchGroup;
  return out;
}

function decodeBucket(b: IBucket): Bucket {
  const out = {} as Bucket;
  // Same key order as the Bucket interface, so JSON comparisons of groups (diffGroups) agree.
  if (b.weight != null) out.weight = b.weight;
  if (b.watchPort != null) out.watchPort = b.watchPort;
  if (b.watchGroup != null) out.watchGroup = b.watchGroup;
  out.actions = decodeActions(b.actions);
  return out;
}

export function encodeGroup(g: GroupEntry): IGroup {
  const out: IGroup = { groupId: g.groupId, type: toWire(GROUP_TYPES, g.type, 'group type'), buckets: g.buckets.map(encodeBucket) };
  if (g.cookie !== undefined) out.cookie = g.cookie;
  return out;
}

export function decodeGroup(g: IGroup | null | undefined): GroupEntry {
  if (!g) throw new WireError('missing group');
  const out: GroupEntry = { groupId: g.groupId ?? 0, type: fromWire(GROUP_TYPES, g.type, 'group type'), buckets: (g.buckets ?? []).map(decodeBucket) };
  if (g.cookie != null) out.cookie = u64(g.cookie);
  return out;
}

export function encodeGroupMod(m: GroupMod): IGroupMod {
  return { command: toWire(GROUP_MOD_COMMANDS, m.command, 'group-mod command'), group: encodeGroup(m.group) };
}

export function decodeGroupMod(m: IGroupMod | null | undefined): GroupMod {
  if (!m) throw new WireError('missing group-mod');
  return { command: fromWire(GROUP_MOD_COMMANDS, m.command, 'group-mod command'), group: decodeGroup(m.group) };
}
