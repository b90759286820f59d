/**
 * The classifier contract: priority-ordered rules over packet-key slots, online insert/remove, and
 * lookup of the highest-priority rule matching a key. Ties between equal priorities break towards the
 * rule inserted first (smaller id), so every implementation answers exactly what the linear oracle does.
 */
import { keyMatches, type CompiledMatch } from '../flow/index.js';

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
  /** Unique per classifier; also the tie-breaker (smaller wins at equal priority). */
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
