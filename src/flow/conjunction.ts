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
 * the cost is linear in the clause flows above that priority (docs/conntrack.md). Adding or removing
 * a clause flow costs the same whatever the number of flows: a level's clauses are an unordered
 * array (the answer does not depend on their order) and each clause knows its slot, so a removal
 * moves the last clause into the hole (docs/security-groups.md: a membership change replaces a few
 * clause flows on leaves holding ~92,000 each, 19,000 to 27,000 per table and priority).
 */
import type { Action } from './actions.js';
import { keyMatches, type CompiledMatch } from './match.js';
import { K, type PacketKey } from './packet-key.js';

interface Clause<H> {
  handle: H;
  match: CompiledMatch;
  /** [id, clause, nClauses] triples, flattened. */
  conj: number[];
  level: Level<H>;
  /** Its index in level.clauses. */
  slot: number;
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
    const clause: Clause<H> = { handle, match, conj, level, slot: level.clauses.length };
    level.clauses.push(clause);
    this.where.set(handle, clause);
  }

  /** Removes a clause flow; false when the handle is not here. */
  remove(handle: H): boolean {
    const clause = this.where.get(handle);
    if (clause === undefined) return false;
    this.where.delete(handle);
    const level = clause.level;
    const clauses = level.clauses;
    const last = clauses.pop() as Clause<H>;
    if (last !== clause) {
      clauses[clause.slot] = last;
      last.slot = clause.slot;
    }
    if (clauses.length === 0) {
      this.levels.splice(this.levels.indexOf(level), 1);
      this.byPriority.delete(level.priority);
    }
    return true;
  }

  /** The level of a priority, made (in priority order) when it has none. */
  private levelAt(priority: number): Level<H> {
    const found = this.byPriority.get(priority);
    if (found !== undefined) return found;
    const level: Level<H> = { priority, clauses: [] };
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
