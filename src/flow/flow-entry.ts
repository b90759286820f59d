/**
 * A flow entry and a group entry: the unit the compiler produces, the controller diffs and pushes,
 * the softswitch executes, and the OpenFlow codec encodes. Channel-neutral.
 */
import { OvercastError, type ProblemDetail } from '../errors/index.js';
import { checkActions, type Action } from './actions.js';
import { checkMatch, matchKey, normalizeMatch, type Match, type MaskedValue } from './match.js';

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

/** Same behaviour? (instructions, cookie and timeouts; not the identity fields) */
export function sameFlowBody(a: FlowEntry, b: FlowEntry): boolean {
  return (
    a.cookie === b.cookie &&
    (a.idleTimeoutSec ?? 0) === (b.idleTimeoutSec ?? 0) &&
    (a.hardTimeoutSec ?? 0) === (b.hardTimeoutSec ?? 0) &&
    (a.gotoTable ?? -1) === (b.gotoTable ?? -1) &&
    (a.meterId ?? -1) === (b.meterId ?? -1) &&
    JSON.stringify(a.writeMetadata ?? null) === JSON.stringify(b.writeMetadata ?? null) &&
    JSON.stringify(a.actions) === JSON.stringify(b.actions)
  );
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
  return problems;
}

export function assertFlow(f: FlowEntry, tableCount: number, path = 'flow'): void {
  const problems = checkFlow(f, tableCount, path);
  if (problems.length > 0) throw OvercastError.fromProblems(problems);
}
