/**
 * A flow entry and a group entry: the unit the compiler produces, the controller diffs and pushes,
 * the softswitch executes, and the OpenFlow codec encodes. Channel-neutral.
 */
import { OvercastError, type ProblemDetail } from '../errors/index.js';
import { checkActions, CONTROLLER_MAX_LEN_NO_BUFFER, PORT, type Action } from './actions.js';
import { FIELDS, FIELD_NAMES } from './fields.js';
import { and48, checkMatch, matchKey, normalizeMatch, type FieldMatch, type Match, type MaskedValue } from './match.js';
import { ETH_TYPE_IPV4 } from './packet-key.js';

export interface FlowEntry {
  table: number;
  priority: number;
  match: Match;
  /** Apply-actions instruction; empty (and no goto) = drop. */
  actions: Action[];
  /** Write-metadata instruction (32-bit; the upper 32 bits of OpenFlow's 64-bit metadata are zero). */
  writeMetadata?: MaskedValue;
  /** Goto-table instruction; must name a later table. */
  gotoTable?: number;
  /** Meter instruction. */
  meterId?: number;
  /**
   * Names the intent object the flow came from (a 53-bit safe integer; OpenFlow's upper 11 cookie bits
   * are zero). The controller replaces one owner's flows by cookie.
   */
  cookie: number;
  idleTimeoutSec?: number;
  hardTimeoutSec?: number;
}

export type GroupType = 'all' | 'select' | 'indirect' | 'fastFailover';

export interface Bucket {
  weight?: number;
  watchPort?: number;
  watchGroup?: number;
  actions: Action[];
}

export interface GroupEntry {
  groupId: number;
  type: GroupType;
  buckets: Bucket[];
  cookie?: number;
}

export const MAX_PRIORITY = 0xffff;

/** Identity of a flow within a switch (OpenFlow: table + priority + match). */
export function flowKey(f: Pick<FlowEntry, 'table' | 'priority' | 'match'>): string {
  return `${f.table}|${f.priority}|${matchKey(f.match)}`;
}

/*
 * Equality of flows and groups: identity (what a strict flow-mod names) and body (what the entry does).
 * Both compare field by field, never through strings, and read an absent optional field as its
 * default, as a switch does: no timeout is 0, an output's missing max_len is the controller's full
 * frame (0xffff) or 0, a select bucket's missing weight is 1. Key order never matters.
 */

/** Width in bits of each match field, by name (null prototype: a plain lookup, no inherited keys). */
const FIELD_BITS: Record<string, number | undefined> = Object.create(null) as Record<string, number | undefined>;
for (const name of FIELD_NAMES) FIELD_BITS[name] = FIELDS[name].bits;

/** OpenFlow's OFPG_ANY: a bucket watching no group. */
const WATCH_GROUP_NONE = 0xffffffff;

/** One field of two matches, in canonical form (normalizeMatch): mask, and the value under it; absent = mask 0. */
function sameFieldMatch(bits: number, a: FieldMatch | undefined, b: FieldMatch | undefined): boolean {
  if (a === b) return true;
  const full = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  const ma = a === undefined ? 0 : typeof a === 'number' ? full : a.mask;
  const mb = b === undefined ? 0 : typeof b === 'number' ? full : b.mask;
  if (ma !== mb) return false;
  if (ma === 0) return true;
  const va = typeof a === 'number' ? a : (a as MaskedValue).value;
  const vb = typeof b === 'number' ? b : (b as MaskedValue).value;
  if (va === vb) return true;
  return bits > 32 ? and48(va, ma) === and48(vb, ma) : ((va & ma) >>> 0) === ((vb & ma) >>> 0);
}

/** Do two matches match the same packets (equal canonical forms; unknown fields are ignored, as normalizeMatch does)? */
function sameMatch(a: Match, b: Match): boolean {
  if (a === b) return true;
  const x = a as Record<string, FieldMatch | undefined>;
  const y = b as Record<string, FieldMatch | undefined>;
  for (const k in x) {
    const bits = FIELD_BITS[k];
    if (bits !== undefined && !sameFieldMatch(bits, x[k], y[k])) return false;
  }
  for (const k in y) {
    if (x[k] !== undefined) continue;
    const bits = FIELD_BITS[k];
    if (bits !== undefined && !sameFieldMatch(bits, undefined, y[k])) return false;
  }
  return true;
}

const outputMaxLen = (a: { port: number; maxLen?: number }): number => a.maxLen ?? (a.port === PORT.CONTROLLER ? CONTROLLER_MAX_LEN_NO_BUFFER : 0);

function sameAction(a: Action, b: Action): boolean {
  if (a === b) return true;
  switch (a.type) {
    case 'output':
      return b.type === 'output' && a.port === b.port && outputMaxLen(a) === outputMaxLen(b);
    case 'group':
      return b.type === 'group' && a.groupId === b.groupId;
    case 'setField':
      return b.type === 'setField' && a.field === b.field && a.value === b.value;
    case 'copyField':
      return b.type === 'copyField' && a.src === b.src && a.dst === b.dst;
    case 'pushVlan':
      return b.type === 'pushVlan' && a.ethType === b.ethType;
    case 'pushMpls':
      return b.type === 'pushMpls' && a.ethType === b.ethType;
    case 'popMpls':
      return b.type === 'popMpls' && a.ethType === b.ethType;
    case 'popVlan':
    case 'decTtl':
      return b.type === a.type;
    case 'ct':
      return (
        b.type === 'ct' &&
        a.zone === b.zone &&
        a.table === b.table &&
        (a.commit === true) === (b.commit === true) &&
        sameWrite(a.mark, b.mark)
      );
    case 'conjunction':
      return b.type === 'conjunction' && a.id === b.id && a.clause === b.clause && a.nClauses === b.nClauses;
  }
}

function sameActions(a: readonly Action[], b: readonly Action[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameAction(a[i], b[i])) return false;
  return true;
}

function sameWrite(a: MaskedValue | undefined, b: MaskedValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.mask === b.mask && ((a.value & a.mask) >>> 0) === ((b.value & b.mask) >>> 0);
}

/** Same identity (table, priority, canonical match): what `flowKey` compares, without the strings. */
export function sameFlowKey(a: FlowEntry, b: FlowEntry): boolean {
  return a === b || (a.table === b.table && a.priority === b.priority && sameMatch(a.match, b.match));
}

/** Same behaviour: instructions, cookie and timeouts, not the identity fields. */
export function sameFlowBody(a: FlowEntry, b: FlowEntry): boolean {
  if (a === b) return true;
  return (
    a.cookie === b.cookie &&
    (a.idleTimeoutSec ?? 0) === (b.idleTimeoutSec ?? 0) &&
    (a.hardTimeoutSec ?? 0) === (b.hardTimeoutSec ?? 0) &&
    a.gotoTable === b.gotoTable &&
    a.meterId === b.meterId &&
    sameWrite(a.writeMetadata, b.writeMetadata) &&
    sameActions(a.actions, b.actions)
  );
}

/** Same identity and same behaviour. */
export function sameFlow(a: FlowEntry, b: FlowEntry): boolean {
  return a === b || (sameFlowKey(a, b) && sameFlowBody(a, b));
}

/**
 * Same group as the switch holds it: id, type and buckets (in order: a select group's hashing depends
 * on it). Not the cookie: it names the group's owner for the controller, and an OpenFlow 1.3 switch
 * keeps none, so a group read back from Open vSwitch equals the desired one.
 */
export function sameGroup(a: GroupEntry, b: GroupEntry): boolean {
  if (a === b) return true;
  if (a.groupId !== b.groupId || a.type !== b.type || a.buckets.length !== b.buckets.length) return false;
  const weight = a.type === 'select' ? 1 : 0;
  for (let i = 0; i < a.buckets.length; i++) {
    const x = a.buckets[i];
    const y = b.buckets[i];
    if (
      (x.weight ?? weight) !== (y.weight ?? weight) ||
      (x.watchPort ?? PORT.ANY) !== (y.watchPort ?? PORT.ANY) ||
      (x.watchGroup ?? WATCH_GROUP_NONE) !== (y.watchGroup ?? WATCH_GROUP_NONE) ||
      !sameActions(x.actions, y.actions)
    ) {
      return false;
    }
  }
  return true;
}

export function canonicalFlow(f: FlowEntry): FlowEntry {
  return { ...f, match: normalizeMatch(f.match) };
}

export function checkFlow(f: FlowEntry, tableCount: number, path = 'flow'): ProblemDetail[] {
  const problems: ProblemDetail[] = [
    ...checkMatch(f.match, `${path}.match`),
    ...checkActions(f.actions, `${path}.actions`),
  ];
  const bad = (field: string, message: string) => problems.push({ code: 'OVC_ERR_FLOW_BAD_TABLE', message, field: `${path}.${field}` });
  if (!Number.isInteger(f.table) || f.table < 0 || f.table >= tableCount) bad('table', `no table ${f.table}`);
  if (f.gotoTable !== undefined && (f.gotoTable <= f.table || f.gotoTable >= tableCount)) {
    bad('gotoTable', `goto-table ${f.gotoTable} must name a later table than ${f.table}`);
  }
  if (!Number.isInteger(f.priority) || f.priority < 0 || f.priority > MAX_PRIORITY) {
    problems.push({ code: 'OVC_ERR_FLOW_BAD_MATCH', message: `priority ${f.priority} out of range`, field: `${path}.priority` });
  }
  // Open vSwitch refuses a ct on a flow not limited to IP (OFPBAC_MATCH_INCONSISTENT); so does Overcast.
  const ctAt = f.actions.findIndex((a) => a.type === 'ct');
  if (ctAt >= 0 && f.match.ethType !== ETH_TYPE_IPV4) {
    problems.push({ code: 'OVC_ERR_FLOW_BAD_ACTION', message: 'a flow with ct must match ethType 0x0800', field: `${path}.actions[${ctAt}]` });
  }
  return problems;
}

export function assertFlow(f: FlowEntry, tableCount: number, path = 'flow'): void {
  const problems = checkFlow(f, tableCount, path);
  if (problems.length > 0) throw OvercastError.fromProblems(problems);
}
