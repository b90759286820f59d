/**
 * Structural equality of two flows (identity AND body), without building strings: the incremental
 * compiler compares an owner's old and new flows on every recompute, and most of them are unchanged.
 */
import type { Action, FlowEntry, FieldMatch, Match } from '../flow/index.js';

function sameFieldMatch(a: FieldMatch | undefined, b: FieldMatch | undefined): boolean {
  if (typeof a === 'number' || typeof b === 'number' || a === undefined || b === undefined) return a === b;
  return a.value === b.value && a.mask === b.mask;
}

function sameMatch(a: Match, b: Match): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    n++;
    if (!sameFieldMatch(a[k as keyof Match], b[k as keyof Match])) return false;
  }
  for (const k in b) {
    n--;
    if (!(k in a)) return false;
  }
  return n === 0;
}

function sameAction(a: Action, b: Action): boolean {
  if (a === b) return true;
  if (a.type !== b.type) return false;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const k in x) if (x[k] !== y[k]) return false;
  for (const k in y) if (!(k in x)) return false;
  return true;
}

export function sameFlow(a: FlowEntry, b: FlowEntry): boolean {
  if (a === b) return true;
  if (
    a.table !== b.table ||
    a.priority !== b.priority ||
    a.cookie !== b.cookie ||
    a.gotoTable !== b.gotoTable ||
    a.meterId !== b.meterId ||
    a.idleTimeoutSec !== b.idleTimeoutSec ||
    a.hardTimeoutSec !== b.hardTimeoutSec
  ) {
    return false;
  }
  const wa = a.writeMetadata;
  const wb = b.writeMetadata;
  if (wa !== wb && (wa === undefined || wb === undefined || wa.value !== wb.value || wa.mask !== wb.mask)) return false;
  if (a.actions.length !== b.actions.length) return false;
  for (let i = 0; i < a.actions.length; i++) if (!sameAction(a.actions[i], b.actions[i])) return false;
  return sameMatch(a.match, b.match);
}
