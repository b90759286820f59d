/**
 * Conjunctive matches, as Open vSwitch's classifier does them (ovs-fields(7), "Conjunctive Match
 * Fields"): a flow whose actions are all `conjunction(id, k/n)` is not a flow a packet runs but clause
 * k of conjunction `id`. When a packet matches, at one priority P, at least one flow of every clause
 * 1..n of `id`, and P is above the best ordinary flow's priority, the table is looked up again with
 * `conjId = id` (clause flows left out) and that answer wins; otherwise the clause flows are ignored.
 * A group of M members named by N rules then costs M + N flows, not M x N.
 *
 * A table keeps its clause flows here, apart from its classifier, and `resolve` finishes each lookup.
 * Clause flows are looked at priority by priority from the top, down to the ordinary match's priority.
 * Within a priority they are indexed as a tuple space: one subtable per distinct mask, each a hash map
 * from the masked field values to the clauses with those values, so a lookup costs one hash probe per
 * mask at each priority (clause flows come in a few shapes: a member's address, a cidr, a port prefix),
 * not a scan of the priority's clauses (docs/security-groups.md: leaves hold ~92,000 clause flows,
 * 19,000 to 27,000 per table and priority). Adding or removing a clause flow costs the same whatever
 * the number of flows: a bucket's clauses are an unordered array (the answer does not depend on their
 * order) and each clause knows its slot, so a removal moves the last clause into the hole.
 */
import type { Action } from './actions.js';
import { keyMatches, type CompiledMatch } from './match.js';
import { K, MATCHABLE_WORDS, type PacketKey } from './packet-key.js';

interface Clause<H> {
  handle: H;
  match: CompiledMatch;
  /** [id, clause, nClauses] triples, flattened. */
  conj: number[];
  level: Level<H>;
  subtable: Subtable<H>;
  /** Its bucket's hash (of its masked values) and its index in the bucket. */
  hash: number;
  slot: number;
}

/** The clauses of one priority with one mask, by the hash of their masked values. */
interface Subtable<H> {
  /** The mask's words, as a string: the level's key for this subtable. */
  signature: string;
  mask: Uint32Array;
  /** The indices of the mask's nonzero words (the only ones hashed). */
  words: Uint8Array;
  buckets: Map<number, Clause<H>[]>;
  size: number;
}

interface Level<H> {
  priority: number;
  subtables: Subtable<H>[];
  bySignature: Map<string, Subtable<H>>;
}

/** The index's contents in a canonical order, for tests: per priority (highest first), per mask, per bucket. */
export type ClauseIndexShape = { priority: number; subtables: { signature: string; buckets: { hash: number; handles: string[] }[] }[] }[];

function maskSignature(mask: Uint32Array): string {
  let s = '';
  for (let i = 0; i < MATCHABLE_WORDS; i++) s += `${mask[i]},`;
  return s;
}

/** The hash of `words` of `values` masked by `mask` (a key, or a match's value, already masked). */
function maskedHash(values: Uint32Array, mask: Uint32Array, words: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    h = Math.imul(h ^ ((values[w] & mask[w]) >>> 0), 0x01000193);
    h ^= h >>> 15;
  }
  return h | 0;
}

/** Is this action list a conjunction clause (every action a conjunction, at least one)? */
export function isConjunctionClause(actions: readonly Action[]): boolean {
  if (actions.length === 0) return false;
  for (let i = 0; i < actions.length; i++) if (actions[i].type !== 'conjunction') return false;
  return true;
}

export class ConjunctionClauses<H> {
  /** By priority, highest first. */
  private readonly levels: Level<H>[] = [];
  private readonly byPriority = new Map<number, Level<H>>();
  private readonly where = new Map<H, Clause<H>>();
  // Reused per lookup: clauses seen (id * 64 + clause) and how many distinct clauses per id.
  private readonly seen = new Set<number>();
  private readonly counts = new Map<number, number>();

  get size(): number {
    return this.where.size;
  }

  /** Adds a clause flow; a handle already present is replaced. */
  add(handle: H, priority: number, match: CompiledMatch, actions: readonly Action[]): void {
    this.remove(handle);
    const conj: number[] = [];
    for (const a of actions) if (a.type === 'conjunction') conj.push(a.id, a.clause, a.nClauses);
    const level = this.levelAt(priority);
    const subtable = subtableOf(level, match.mask);
    const hash = maskedHash(match.value, subtable.mask, subtable.words);
    let bucket = subtable.buckets.get(hash);
    if (bucket === undefined) subtable.buckets.set(hash, (bucket = []));
    const clause: Clause<H> = { handle, match, conj, level, subtable, hash, slot: bucket.length };
    bucket.push(clause);
    subtable.size++;
    this.where.set(handle, clause);
  }

  /** Removes a clause flow; false when the handle is not here. */
  remove(handle: H): boolean {
    const clause = this.where.get(handle);
    if (clause === undefined) return false;
    this.where.delete(handle);
    const { level, subtable } = clause;
    const bucket = subtable.buckets.get(clause.hash) as Clause<H>[];
    const last = bucket.pop() as Clause<H>;
    if (last !== clause) {
      bucket[clause.slot] = last;
      last.slot = clause.slot;
    }
    if (bucket.length === 0) subtable.buckets.delete(clause.hash);
    if (--subtable.size === 0) {
      level.subtables.splice(level.subtables.indexOf(subtable), 1);
      level.bySignature.delete(subtable.signature);
      if (level.subtables.length === 0) {
        this.levels.splice(this.levels.indexOf(level), 1);
        this.byPriority.delete(level.priority);
      }
    }
    return true;
  }

  /** The level of a priority, made (in priority order) when it has none. */
  private levelAt(priority: number): Level<H> {
    const found = this.byPriority.get(priority);
    if (found !== undefined) return found;
    const level: Level<H> = { priority, subtables: [], bySignature: new Map() };
    let i = 0;
    while (i < this.levels.length && this.levels[i].priority > priority) i++;
    this.levels.splice(i, 0, level);
    this.byPriority.set(priority, level);
    return level;
  }

  /**
   * Finish a lookup whose ordinary answer is `hard` (priority `hardPriority`, -1 for none): the
   * conjunction flow when a conjunction completes above it, else `hard`. `relookup` is the table's
   * ordinary lookup; it is called with the key's CONJ_ID set, which is zero again afterwards.
   */
  resolve(key: PacketKey, hard: H | undefined, hardPriority: number, relookup: (key: PacketKey) => H | undefined): H | undefined {
    const levels = this.levels;
    for (let l = 0; l < levels.length && levels[l].priority > hardPriority; l++) {
      const id = this.completeAt(levels[l], key);
      if (id < 0) continue;
      key[K.CONJ_ID] = id;
      const found = relookup(key);
      key[K.CONJ_ID] = 0;
      if (found !== undefined) return found;
    }
    return hard;
  }

  /**
   * The index in a canonical order, each handle by `name` (tests compare it with one rebuilt from the
   * same clauses).
   */
  shape(name: (handle: H) => string): ClauseIndexShape {
    const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return this.levels.map((level) => ({
      priority: level.priority,
      subtables: [...level.subtables]
        .sort((a, b) => byString(a.signature, b.signature))
        .map((t) => ({
          signature: t.signature,
          buckets: [...t.buckets].sort(([a], [b]) => a - b).map(([hash, clauses]) => ({ hash, handles: clauses.map((c) => name(c.handle)).sort(byString) })),
        })),
    }));
  }

  /** The smallest id whose every clause matches at this level, or -1. */
  private completeAt(level: Level<H>, key: PacketKey): number {
    const seen = this.seen;
    const counts = this.counts;
    seen.clear();
    counts.clear();
    let best = -1;
    const subtables = level.subtables;
    for (let t = 0; t < subtables.length; t++) {
      const sub = subtables[t];
      const clauses = sub.buckets.get(maskedHash(key, sub.mask, sub.words));
      if (clauses === undefined) continue;
      for (let i = 0; i < clauses.length; i++) {
        const c = clauses[i];
        if (!keyMatches(key, c.match)) continue;
        const conj = c.conj;
        for (let j = 0; j < conj.length; j += 3) {
          const id = conj[j];
          const tag = id * 64 + conj[j + 1] - 1;
          if (seen.has(tag)) continue;
          seen.add(tag);
          const n = (counts.get(id) ?? 0) + 1;
          counts.set(id, n);
          if (n === conj[j + 2] && (best < 0 || id < best)) best = id;
        }
      }
    }
    return best;
  }
}

/** The level's subtable for `mask`, made when it has none. */
function subtableOf<H>(level: Level<H>, mask: Uint32Array): Subtable<H> {
  const signature = maskSignature(mask);
  let t = level.bySignature.get(signature);
  if (t === undefined) {
    const words: number[] = [];
    for (let i = 0; i < MATCHABLE_WORDS; i++) if (mask[i] !== 0) words.push(i);
    t = { signature, mask, words: Uint8Array.from(words), buckets: new Map(), size: 0 };
    level.subtables.push(t);
    level.bySignature.set(signature, t);
  }
  return t;
}
