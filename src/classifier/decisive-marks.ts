/**
 * Decisive rules: where a lookup may stop before the tables that cannot beat what it found.
 *
 * A lookup probes tables in order of their best rule and stops once its answer beats every table
 * left, so it still probes a table whose best rule outranks its answer even when no rule there can
 * match the packet its answer matches. A rule is DECISIVE when no rule of a table probed after its
 * own both beats it and may overlap it (could match a packet it matches): a lookup that matches it
 * has its answer and returns (the record's REC_DECISIVE bit, read by the generated code). The tables
 * probed before its own have been probed, and within its own table the chain walk found the best.
 *
 * The invariant (no beating, overlapping rule in a later table) is kept by:
 * - a rule entering a table (insert, or moved by a split) starts not decisive, and `unsettle` clears
 *   every decisive rule of an earlier table that it beats and may overlap; removals only ever make
 *   rules more decisive, so they change nothing;
 * - a table that comes to be probed before a table it came after (the engine's `reposition`: its best
 *   rule rose, or the other's fell) loses all its marks (`unmarkAll`): they never looked at that table;
 * - marking (`step`, at fuse time and every `markEvery` fused lookups, `markChunk` rules per step)
 *   decides the rules placed or unsettled since. A decision looks, in each later table whose best
 *   rule beats the rule, at the buckets where an overlapping rule would be: one when that table hashes
 *   only bits the rule fixes, else one per value of the hashed bits the rule leaves open, up to
 *   `decisiveKeyLimit` (a source /24 against a table of source /32s: 256 buckets); else it scans the
 *   table when it is small (`decisiveScanLimit`), or gives up (not decisive).
 * Unsettling finds rules the same three ways, buckets only up to `unsettleKeyLimit` since an update
 * pays for them at once. Where it cannot, it clears the whole table, which then waits `clearHold`
 * lookups per unit of what marking it cost last time (`TupleTable.markCost`: a unit per decision and
 * per bucket or rule it visited) before it is marked whole again: so re-marking the tables that
 * updates keep clearing costs about the same small share of the lookups whatever a decision costs.
 * A table is also marked whole once the rules removed since it last was number `remarkRemovals`
 * times its rules that are not decisive (each removal may have been what kept some of them from it).
 *
 * Overlap is judged on masks and range bounds (`mayOverlap`); a wrong "may overlap" only costs a
 * decisive rule, never a wrong answer.
 */
import { MATCHABLE_WORDS } from '../flow/index.js';
import type { ClassifierRule } from './classifier.js';
import { rangeOf, type RuleRecords } from './rule-records.js';
import type { TupleSpaceOptions } from './tuple-space-options.js';
import { NO_RULE, type TupleTable } from './tuple-table.js';

/** Fused lookups between two steps of a marking round that has more than `markChunk` rules to decide. */
const MARK_STEP = 256;
/**
 * A marking step also ends once its decisions have visited this many buckets and rules (a decision
 * visits up to decisiveKeyLimit buckets or decisiveScanLimit rules per later table), so a step stays
 * around a millisecond whatever the rules.
 */
const MARK_STEP_WORK = 1 << 16;

/** The decisive marks of one engine's rules: it shares the engine's records, tables and rule placement. */
export class DecisiveMarks<T> {
  private readonly store: RuleRecords<T>;
  /** The engine's tables in probe order (the same array, kept in order by the engine). */
  private readonly tables: readonly TupleTable[];
  /** The engine's table of each rule index (the same array). */
  private readonly ruleTable: readonly (TupleTable | undefined)[];
  private readonly opts: TupleSpaceOptions;
  /** Rules to decide at the next marking: placed, or unsettled, since the last one (may repeat or be gone). */
  private readonly pendingDecide: number[] = [];
  /** How far the current marking round has gone through pendingDecide. */
  private pendingAt = 0;
  /** Rules removed so far, moves by splits not counted (a removal may make rules of other tables decisive). */
  private removals = 0;
  /** Buckets and rules visited by decisions (and unsettling) since the marking step began: see MARK_STEP_WORK. */
  private markWork = 0;

  constructor(store: RuleRecords<T>, tables: readonly TupleTable[], ruleTable: readonly (TupleTable | undefined)[], opts: TupleSpaceOptions) {
    this.store = store;
    this.tables = tables;
    this.ruleTable = ruleTable;
    this.opts = opts;
  }

  /** A rule left the classifier. */
  noteRemoval(): void {
    this.removals++;
  }

  /**
   * One marking step: decide the rules placed or unsettled since the last marking, and the tables due
   * whole, `markChunk` rules at most, so that the lookup that runs it stalls for a chunk, not for a
   * whole classifier. Returns how many fused lookups later the next step is due.
   */
  step(): number {
    if (this.pendingAt === 0) {
      // A new round: queue the tables due whole.
      for (const t of this.tables) {
        const removed = this.removals - t.markedRemovals;
        if (t.markDue) {
          if (t.markHold > 0) {
            t.markHold--;
            continue;
          }
        } else if (removed === 0 || removed < this.opts.remarkRemovals * (t.count - t.decisive)) continue;
        t.markDue = false;
        t.markedRemovals = this.removals;
        t.markCost = 0;
        for (let i = 0; i < t.count; i++) this.pendingDecide.push(t.members[i]);
      }
    }
    const queue = this.pendingDecide;
    const end = Math.min(queue.length, this.pendingAt + this.opts.markChunk);
    this.markWork = 0;
    for (; this.pendingAt < end && this.markWork < MARK_STEP_WORK; this.pendingAt++) {
      const r = queue[this.pendingAt];
      const t = this.ruleTable[r];
      if (t !== undefined && !t.markDue) this.markRule(r, t);
    }
    if (this.pendingAt < queue.length) return Math.min(MARK_STEP, this.opts.markEvery);
    queue.length = 0;
    this.pendingAt = 0;
    return this.opts.markEvery;
  }

  /** Queue rule r for the next marking; past two per rule, mark every table whole instead. */
  queue(r: number): void {
    // An engine that never fuses never marks (the baselines; fused code needs tables in priority order).
    if (this.opts.fuseAfter === Infinity || this.opts.markEvery === Infinity || !this.opts.prioritySort) return;
    if (this.pendingDecide.length < 2 * this.store.capacity) {
      this.pendingDecide.push(r);
      return;
    }
    this.pendingDecide.length = 0;
    this.pendingAt = 0;
    for (const t of this.tables) t.markDue = true;
  }

  /** Rule r has just joined table t: the rules of earlier tables it beats and may overlap are not decisive any more. */
  unsettle(r: number, t: TupleTable): void {
    const store = this.store;
    const rule = store.rules[r] as ClassifierRule<T>;
    const pri = store.priority(r);
    // Made at the first table that needs it: most inserts meet none (no marks, or r beats nothing).
    let visit: ((q: number, u: TupleTable) => void) | undefined;
    // Only the tables probed before t: the marks of the later ones do not look at t.
    for (const u of this.tables) {
      if (u === t) break;
      // Below a table's lowest priority, r beats none of its rules.
      if (u.decisive === 0 || pri < u.minPri) continue;
      if (visit === undefined) {
        store.effective(rule);
        visit = (q, v) => this.unsettleOne(r, rule, q, v);
      }
      if (!this.visitMayOverlap(u, visit, this.opts.unsettleKeyLimit)) this.unmarkAll(u);
    }
  }

  /** Clear every mark of table u; it is marked again whole after `clearHold` lookups per unit of its marking cost. */
  unmarkAll(u: TupleTable): void {
    // Nothing marked, nothing to clear: its rules still queued are decided in turn.
    if (u.decisive === 0) return;
    for (let i = 0; i < u.count; i++) this.store.setDecisive(u.members[i], false);
    u.decisive = 0;
    u.markDue = true;
    // In proportion to what its marking cost (at least a unit per rule), so that re-marking tables that
    // updates keep clearing costs about the same small share of the lookups whatever a decision costs.
    u.markHold = Math.ceil((this.opts.clearHold * Math.max(u.count, u.markCost)) / this.opts.markEvery);
  }

  /** Rule r leaves table t: its mark goes with it. */
  leave(r: number, t: TupleTable): void {
    if (!this.store.isDecisive(r)) return;
    this.store.setDecisive(r, false);
    t.decisive--;
  }

  private markRule(r: number, t: TupleTable): void {
    if (this.store.isDecisive(r)) return;
    const before = this.markWork;
    const decisive = this.decide(r, t);
    t.markCost += 1 + this.markWork - before;
    if (!decisive) return;
    this.store.setDecisive(r, true);
    t.decisive++;
  }

  /** Is rule r (of table t) decisive: does no rule of a later table both beat it and overlap it? */
  private decide(r: number, t: TupleTable): boolean {
    const store = this.store;
    const rule = store.rules[r] as ClassifierRule<T>;
    const pri = store.priority(r);
    const id = store.id(r);
    store.effective(rule);
    let clash = false;
    const visit = (q: number) => {
      if (!clash && store.beats(q, r) && mayOverlap(store.rules[q] as ClassifierRule<T>, rule)) clash = true;
    };
    const tables = this.tables;
    // Only the tables probed after t: a lookup that reaches t has probed the others already.
    for (let i = tables.indexOf(t) + 1; i < tables.length; i++) {
      const u = tables[i];
      if (!(u.maxPri > pri || (u.maxPri === pri && u.maxId < id))) continue;
      if (!this.visitMayOverlap(u, visit, this.opts.decisiveKeyLimit) || clash) return false;
    }
    return true;
  }

  /**
   * Visit the rules of table u that may overlap the rule whose effective mask and value
   * `store.effective` last filled: they agree with it on the bits of u's tuple that it fixes, so they
   * are in the buckets of the hash keys that do (one when it fixes them all, else up to `keyLimit`),
   * or, when cheaper or the only way, every rule of u when u is small (`decisiveScanLimit`). False,
   * having visited nothing, when u can be searched neither way. Counts its visits in `markWork`.
   */
  private visitMayOverlap(u: TupleTable, visit: (q: number, u: TupleTable) => void, keyLimit: number): boolean {
    const store = this.store;
    const keysMeeting = u.keysMeeting(store.effMask);
    const keys = keysMeeting <= keyLimit ? keysMeeting : Infinity;
    const scan = u.count <= this.opts.decisiveScanLimit ? u.count : Infinity;
    if (keys === Infinity && scan === Infinity) return false;
    if (scan < keys) {
      this.markWork += scan;
      for (let i = 0; i < u.count; i++) visit(u.members[i], u);
      return true;
    }
    this.markWork += keys;
    // One bucket is the common case, and unsettling runs on the update path: no enumeration for it
    // (forEachBucketMeeting would visit the same bucket, with three scratch arrays and a closure).
    if (keys === 1) {
      for (let q = u.heads[u.bucketOf(u.hashValue(store.effValue))]; q !== NO_RULE; q = store.getNext(q)) visit(q, u);
    } else {
      u.forEachBucketMeeting(store.effMask, store.effValue, (head) => {
        for (let q = head; q !== NO_RULE; q = store.getNext(q)) visit(q, u);
      });
    }
    return true;
  }

  private unsettleOne(r: number, rule: ClassifierRule<T>, q: number, u: TupleTable): void {
    if (!this.store.isDecisive(q) || !this.store.beats(r, q) || !mayOverlap(rule, this.store.rules[q] as ClassifierRule<T>)) return;
    this.store.setDecisive(q, false);
    u.decisive--;
    // Decided again at the next marking: r may be gone by then.
    this.queue(q);
  }
}

/**
 * May some key match both rules? No when a bit both fix differs, or when on some slot one rule's
 * range and the other's bounds there (its range, or the least and greatest values of its masked
 * value) do not meet. Ranges against masks are judged by bounds only, so it may say yes wrongly
 * (which only costs a decisive rule), never no wrongly.
 */
function mayOverlap(x: ClassifierRule<unknown>, y: ClassifierRule<unknown>): boolean {
  const xm = x.match.mask;
  const xv = x.match.value;
  const ym = y.match.mask;
  const yv = y.match.value;
  for (let s = 0; s < MATCHABLE_WORDS; s++) if (((xv[s] ^ yv[s]) & xm[s] & ym[s]) !== 0) return false;
  return rangesMeet(x, y) && rangesMeet(y, x);
}

/** Does each range of x meet y's bounds on its slot (see mayOverlap)? */
function rangesMeet(x: ClassifierRule<unknown>, y: ClassifierRule<unknown>): boolean {
  if (x.ranges === undefined) return true;
  for (const g of x.ranges) {
    const m = y.match.mask[g.slot];
    const v = y.match.value[g.slot] & m;
    // A rule in a table has no empty range intersection (it could never match), so none = no range.
    const yr = rangeOf(y, g.slot);
    const lo = Math.max(g.lo, v >>> 0, yr?.lo ?? 0);
    const hi = Math.min(g.hi, (v | ~m) >>> 0, yr?.hi ?? 0xffffffff);
    if (lo > hi) return false;
  }
  return true;
}
