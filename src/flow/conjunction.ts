/**
 * Conjunctive matches, as Open vSwitch's classifier does them (ovs-fields(7), "Conjunctive Match
 * Fields"): a flow whose actions are all `conjunction(id, k/n)` is not a flow a packet runs but clause
 * k of conjunction `id`. When a packet matches, at one priority P, at least one flow of every clause
 * 1..n of `id`, and P is above the best ordinary flow's priority, the table is looked up again with
 * `conjId = id` (clause flows left out) and that answer wins; otherwise the clause flows are ignored.
 * A group of M members named by N rules then costs M + N flows, not M x N.
 *
 * A table keeps its clause flows here, apart from its classifier, and `resolve` finishes each lookup.
 * Clause flows are scanned priority by priority from the top, down to the ordinary match's priority;
 * the cost is linear in the clause flows above that priority (docs/conntrack.md).
 */
import type { Action } from './actions.js';
import { keyMatches, type CompiledMatch } from './match.js';
import { K, type PacketKey } from './packet-key.js';

interface Clause<H> {
  handle: H;
  match: CompiledMatch;
  /** [id, clause, nClauses] triples, flattened. */
  conj: number[];
}

interface Level<H> {
  priority: number;
  clauses: Clause<H>[];
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
  private readonly where = new Map<H, Level<H>>();
  // Reused per lookup: clauses seen (id * 64 + clause) and how many distinct clauses per id.
  private readonly seen = new Set<number>();
  private readonly counts = new Map<number, number>();

  get size(): number {
    return this.where.size;
  }

  add(handle: H, priority: number, match: CompiledMatch, actions: readonly Action[]): void {
    const conj: number[] = [];
    for (const a of actions) if (a.type === 'conjunction') conj.push(a.id, a.clause, a.nClauses);
    let i = 0;
    while (i < this.levels.length && this.levels[i].priority > priority) i++;
    let level = this.levels[i];
    if (level === undefined || level.priority !== priority) {
      level = { priority, clauses: [] };
      this.levels.splice(i, 0, level);
    }
    level.clauses.push({ handle, match, conj });
    this.where.set(handle, level);
  }

  remove(handle: H): boolean {
    const level = this.where.get(handle);
    if (level === undefined) return false;
    this.where.delete(handle);
    level.clauses = level.clauses.filter((c) => c.handle !== handle);
    if (level.clauses.length === 0) this.levels.splice(this.levels.indexOf(level), 1);
    return true;
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

  /** The smallest id whose every clause matches at this level, or -1. */
  private completeAt(level: Level<H>, key: PacketKey): number {
    const seen = this.seen;
    const counts = this.counts;
    seen.clear();
    counts.clear();
    let best = -1;
    const clauses = level.clauses;
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
    return best;
  }
}
