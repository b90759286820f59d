/**
 * The classifier contract: priority-ordered rules over packet-key slots, online insert/remove, and
 * lookup of the highest-priority rule matching a key. Ties between equal priorities break towards the
 * rule inserted first (smaller id), so every implementation answers exactly what the linear oracle does.
 */
import type { CompiledMatch } from '../flow/index.js';

export interface ClassifierRule<T> {
  /** Unique per classifier; also the tie-breaker (smaller wins at equal priority). */
  id: number;
  priority: number;
  /** Value/mask per packet-key slot (see flow/packet-key.ts). */
  match: CompiledMatch;
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
