/**
 * The classifier contract: priority-ordered rules over packet-key slots, online insert/remove, and
 * lookup of the highest-priority rule matching a key. Ties between equal priorities break towards the
 * rule inserted first (smaller id), so every implementation answers exactly what the linear oracle does.
 */
import { OvercastError } from '../errors/index.js';
import { keyMatches, type CompiledMatch } from '../flow/index.js';

/** What `lookupId` returns when no rule matches (rule ids are non-negative). */
export const NO_MATCH = -1;

/**
 * An inclusive range on one packet-key slot: lo <= key[slot] <= hi (unsigned 32-bit compare).
 * ClassBench port ranges such as 1024:65535 are not value/mask; keeping them as ranges avoids the
 * prefix expansion that multiplies rules (up to 30 prefixes per 16-bit range, 900 per port pair).
 */
export interface RangeMatch {
  slot: number;
  lo: number;
  hi: number;
}

export interface ClassifierRule<T> {
  /** Unique per classifier, a non-negative safe integer; also the tie-breaker (smaller wins at equal priority). */
  id: number;
  priority: number;
  /** Value/mask per packet-key slot (see flow/packet-key.ts). */
  match: CompiledMatch;
  /** Optional ranges, ANDed with `match`. Flows from the controller have none. */
  ranges?: readonly RangeMatch[];
  payload: T;
}

export interface Classifier<T> {
  readonly name: string;
  readonly size: number;
  insert(rule: ClassifierRule<T>): void;
  /** Returns false when no rule has that id. */
  remove(id: number): boolean;
  /** The best matching rule, or undefined. Must not allocate on the hot path. */
  lookup(key: Uint32Array): ClassifierRule<T> | undefined;
  /**
   * The best matching rule's id, or NO_MATCH. For a datapath that keeps its actions by rule id, and
   * what the ClassBench harnesses return (the rule's number): it touches no rule object, which at 100k
   * rules saves a dependent cache miss per lookup (docs/classifier.md).
   */
  lookupId(key: Uint32Array): number;
}

/** Throws the typed error for a rule id a classifier cannot take (`present`: the id is already in use). */
export function checkNewRuleId(id: number, present: boolean): void {
  if (!Number.isSafeInteger(id) || id < 0) throw new OvercastError('OVC_ERR_CLASSIFIER_BAD_ID', `rule id ${id} is not a non-negative safe integer`, 'id');
  if (present) throw new OvercastError('OVC_ERR_CLASSIFIER_DUPLICATE_ID', `rule id ${id} is already present`, 'id');
}

/** Does rule a beat rule b? Higher priority first; equal priority: smaller id. */
export function beats(a: { priority: number; id: number }, b: { priority: number; id: number }): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.id < b.id);
}

/** The reference semantics of a rule (value/mask and ranges); every classifier must agree with it. */
export function ruleMatches(key: Uint32Array, rule: { match: CompiledMatch; ranges?: readonly RangeMatch[] }): boolean {
  if (!keyMatches(key, rule.match)) return false;
  const ranges = rule.ranges;
  if (ranges !== undefined) {
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i];
      const v = key[r.slot];
      if (v < r.lo || v > r.hi) return false;
    }
  }
  return true;
}
