/**
 * Tuple-space classifiers, one engine with three settings:
 *
 * - `tss`: plain tuple-space search (Srinivasan et al.): one hash table per distinct rule mask, every
 *   table probed on every lookup. The baseline Open vSwitch started from.
 * - `pstss`: the same tables probed in order of their best rule's priority, stopping once the answer in
 *   hand beats every rule left (Open vSwitch's priority-sorted subtables).
 * - `tuplemerge` (the default, see docs/classifier.md): TupleMerge (Daly, Liu, Torng 2019). A rule may
 *   join any table whose tuple asks for a subset of its mask bits, so there are far fewer tables; a new
 *   table takes a relaxed version of its first rule's mask (prefix lengths rounded down to a multiple
 *   of 4) so later rules fit; when too many rules pile onto one hash key (the collision limit) they
 *   move to a more specific table. Tables are probed in priority order as in `pstss`.
 *
 * All three update online: insert and remove touch one table (plus, rarely, a split), never a rebuild.
 * Port ranges are hashed on their common prefix and checked exactly afterwards. Rules live in one
 * fixed record layout (rule-records.ts) and each table probes with code generated for its tuple and
 * that layout (codegen.ts).
 */
import { K, MATCHABLE_WORDS } from '../flow/index.js';
import { NO_MATCH, checkNewRuleId, ruleMatches, type Classifier, type ClassifierRule } from './classifier.js';
import { KEY_OUT_OF_WIDTH, buildFusedLookup, buildProbe, type FusedLookupFn, type ProbeFn, type ProbeLayout } from './codegen.js';
import { SLOT_FULL_MASK } from './rule-store.js';
import { PREFIX_MASKS, PREFIX_RECORDS_FROM, RuleRecords, rangeOf } from './rule-records.js';
import { NO_RULE, TupleTable, isPrefixMask, popcount, tupleSignature } from './tuple-table.js';

export interface TupleSpaceOptions {
  /** Let a rule join a table with a less specific tuple (TupleMerge). */
  merge: boolean;
  /** Probe tables best-first and stop early. */
  prioritySort: boolean;
  /** TupleMerge: most rules allowed under one hash key before they split into a more specific table. */
  collisionLimit: number;
  /** TupleMerge: an address prefix this many bits shorter than the other one is left out of a new table's tuple. */
  relaxStep: number;
  /** TupleMerge: new tables wildcard narrow (<= 16-bit) fields that their first rule only partly fixes (port ranges). */
  wildcardNarrow: boolean;
  /** Which compatible table a new rule joins. */
  choose: 'specific' | 'first';
  /**
   * More rules than this under one hash key, and under the collision limit, try `narrowSplit`. fw1 1k
   * checked 6.9 rules per lookup (one destination's services in one chain); 3.2 with a bar of 16 (the
   * suite's `probes` column) or of 8 (a scratch `probeCost` count, as the ipc1 figures here), but 8 also split ipc1 10k's tables (5.1 tables probed per lookup, then 7.0). With the looser
   * rule of 4 distinct values (narrowSplit), bars of 8 and 12 ran ipc1 10k at 0.80x and 0.86x.
   */
  narrowSplitAt: number;
  /** Records keep address prefixes as lengths from this many rules on (rule-records.ts PREFIX_RECORDS_FROM). */
  prefixRecordsFrom: number;
  /** How an over-full hash key is split: TupleMerge's midpoint, or straight to the colliders' common tuple. */
  split: 'midpoint' | 'common';
  /** How new tables relax their first rule's tuple: TupleMerge's, or coarse (addresses to /8 steps, no ports). */
  relaxMode: 'tm' | 'coarse';
  /**
   * Look up through one generated function for all tables (codegen.ts `buildFusedLookup`) once the
   * tables have kept their shape for this many lookups; Infinity = always the loop over per-table
   * probes. Until then lookups take the loop, which is right for any shape. The wait grows (x4, up to
   * MAX_FUSE_WAIT) each time fused code is thrown away young, so churn (tables made, dropped or
   * reordered by a stream of updates) cannot make the classifier compile code all the time: a new
   * function costs ~0.1 ms to build and ~40 ms of V8 compiler CPU to optimize (10 tables).
   */
  fuseAfter: number;
  /**
   * Fused lookups between two markings of decisive rules (see "Decisive rules" below); the first
   * marking comes with the first fused code. Infinity: never marked, none decisive.
   */
  markEvery: number;
  /** Rules of another table a decision may check one by one when that table cannot point at one bucket. */
  decisiveScanLimit: number;
  /**
   * Hash keys of another table whose buckets a decision may visit, one per value of the bits that
   * table hashes and the rule leaves free (a /24 rule against a table of /32s: 256). 1 = only a rule
   * that fixes every hashed bit points at buckets.
   */
  decisiveKeyLimit: number;
  /**
   * The same limit for a rule that has just joined a table, on the earlier tables whose rules it may
   * unsettle (past it, such a table is cleared whole). An update pays for these buckets at once (each
   * a likely cache miss in a big table), a decision only at marking time: 16 kept updates with lookups
   * between them at the cost of before (1024 cost 1.18x and 1.77x on ipc1 and acl1 100k with 100
   * lookups after each update).
   */
  unsettleKeyLimit: number;
  /**
   * After its decisive rules were cleared all at once, a table waits this many lookups per unit of
   * what marking it cost last time (`TupleTable.markCost`: a unit per decision and per bucket or rule
   * it visited) before it is marked whole again.
   */
  clearHold: number;
  /** Rules decided per marking step (a step runs inside one lookup; see markPending). */
  markChunk: number;
  /** Removals since a table was last marked whole, per rule of it not decisive, before it is marked whole again. */
  remarkRemovals: number;
}

/** Fused lookups between two steps of a marking round that has more than `markChunk` rules to decide. */
const MARK_STEP = 256;
/**
 * A marking step also ends once its decisions have visited this many buckets and rules (a decision
 * visits up to decisiveKeyLimit buckets or decisiveScanLimit rules per later table), so a step stays
 * around a millisecond whatever the rules.
 */
const MARK_STEP_WORK = 1 << 16;
/** Above this many tables the fused function is not built (its code grows with the tables; TupleMerge keeps ~10). */
export const MAX_FUSED_TABLES = 48;
/**
 * Tables of fewer rules than this keep their buckets at most a quarter full, larger ones half: a
 * bucket shared with another key costs a record read that rejects it (acl1 1k's first table: 0.41 per
 * lookup at half load, a scratch per-table count), and a small table's buckets cost little memory. Measured with
 * `classifier-ab -- --base 79e836f` (all nine sets, two runs): 1k and 10k sets 1.02-1.07x (fw1 10k
 * 0.91x once), 100k sets 0.91-1.04x around even (their largest table stays at half).
 */
const SPARSE_TABLE_RULES = 1 << 14;
/** See `insert`: a list under one hash key that could not be split is looked at again after this many more rules. */
const NARROW_RETRY = 8;
/** How many of a table's rules `selectiveSlots` looks at. */
const SELECTIVE_SAMPLE = 256;
/** The longest wait (lookups) before fusing, however much the tables churn. */
export const MAX_FUSE_WAIT = 1 << 22;
/** Fused code that served fewer than this many times its wait before the shape changed died young. */
const YOUNG = 16;

export const TUPLE_MERGE_DEFAULTS: TupleSpaceOptions = {
  merge: true,
  prioritySort: true,
  collisionLimit: 40,
  narrowSplitAt: 16,
  prefixRecordsFrom: PREFIX_RECORDS_FROM,
  relaxStep: 4,
  wildcardNarrow: true,
  choose: 'first',
  split: 'midpoint',
  relaxMode: 'coarse',
  fuseAfter: 1024,
  markEvery: 1 << 16,
  decisiveScanLimit: 256,
  decisiveKeyLimit: 1024,
  unsettleKeyLimit: 16,
  clearHold: 1024,
  markChunk: 1024,
  remarkRemovals: 8,
};

export class TupleSpaceClassifier<T> implements Classifier<T> {
  readonly name: string;
  private readonly opts: TupleSpaceOptions;
  private readonly sorted: boolean;
  private readonly store: RuleRecords<T>;
  private rulePos = new Int32Array(64);
  private ruleTable: (TupleTable | undefined)[] = [];
  /** Lookup order: by best rule when prioritySort, else creation order. */
  private tables: TupleTable[] = [];
  private readonly bySignature = new Map<string, TupleTable>();
  private readonly scratchMask = new Int32Array(MATCHABLE_WORDS);
  /**
   * Generated probes by tuple signature, for the current record layout: a table that empties and comes
   * back (update churn; TSS makes and drops tables all the time) reuses its code instead of compiling
   * it again (a compile costs tens of microseconds, an update should cost a few).
   */
  private probes = new Map<string, ProbeFn>();
  private probesLayout = -1;
  /** The record layout the tables' probes were generated for. */
  private tablesLayout = -1;
  /**
   * Moves whenever the fused lookup would need new code: a table made or dropped, tables changing
   * places, the record layout widening.
   */
  private shape = 0;
  private fused: FusedLookupFn | undefined;
  private fusedShape = -1;
  /** Lookups served by the loop since the shape last changed (see `fuseAfter`). */
  private staleLookups = 0;
  /** Lookups served by the current fused code. */
  private fusedServed = 0;
  /** The current wait before fusing: `fuseAfter`, grown by churn. */
  private fuseWait: number;
  /** The fused lookup count (`fusedServed`) at which the next marking of decisive rules comes. */
  private markAt = -1;
  /** Rules to decide at the next marking: placed, or unsettled, since the last one (may repeat or be gone). */
  private pendingDecide: number[] = [];
  /** How far the current marking round has gone through pendingDecide. */
  private pendingAt = 0;
  /** Rules removed so far, moves by splits not counted (a removal may make rules of other tables decisive). */
  private removals = 0;
  /** Buckets and rules visited by decisions (and unsettling) since the marking step began: see MARK_STEP_WORK. */
  private markWork = 0;

  constructor(name: string, options: Partial<TupleSpaceOptions> = {}) {
    this.name = name;
    this.opts = { ...TUPLE_MERGE_DEFAULTS, ...options };
    this.store = new RuleRecords<T>(64, this.opts.prefixRecordsFrom);
    this.sorted = this.opts.prioritySort;
    this.fuseWait = this.opts.fuseAfter;
  }

  get size(): number {
    return this.store.count;
  }

  /** How many hash tables a lookup may probe (a cost figure for the benchmark). */
  get tableCount(): number {
    return this.tables.length;
  }

  insert(rule: ClassifierRule<T>): void {
    checkNewRuleId(rule.id, this.store.byId.has(rule.id));
    const r = this.store.add(rule);
    this.ensureCapacity();
    // A new slot in the record layout moves every condition: regenerate every table's probe.
    if (this.tablesLayout !== this.store.layoutVersion) {
      this.tablesLayout = this.store.layoutVersion;
      for (const t of this.tables) this.generate(t);
      this.reshaped();
    }
    // A rule that can never match is stored (for size and remove) but joins no table.
    if (!this.store.effective(rule)) return;
    const eff = this.store.effMask;
    let table: TupleTable | undefined;
    if (this.opts.merge) {
      // The most specific table that asks only for bits this rule fixes.
      if (this.opts.choose === 'first') {
        for (const t of this.tables) if (t.accepts(eff)) { table = t; break; }
      } else for (const t of this.tables) if (t.accepts(eff) && (table === undefined || t.bits > table.bits)) table = t;
      table ??= this.tableFor(this.relax(eff));
      // A rule for a table whose service lists moved out (narrowSplit) follows them, so the lists do
      // not grow back in the chain and get moved again and again.
      const child = table.narrowChild;
      if (child !== undefined && this.bySignature.get(child.signature) === child && child.accepts(eff)) table = child;
    } else {
      table = this.tableFor(eff);
    }
    const h = table.hashValue(this.store.effValue);
    const chain = this.place(r, table, h);
    if (this.opts.merge && chain > this.opts.collisionLimit) this.split(table, h);
    // Tried when a list first passes the bar and then every NARROW_RETRY rules, not on every insert
    // into a long list that has no field to split on (the check reads every rule of the list).
    else if (this.opts.merge && chain > this.opts.narrowSplitAt && (chain - this.opts.narrowSplitAt) % NARROW_RETRY === 1) this.narrowSplit(table, h);
  }

  /**
   * Rules sharing one hash key that tell themselves apart by one narrow field they fix exactly (fw1's
   * hosts listing their services by destination port and protocol): the table's rules that fix that
   * field move to a tuple that hashes it too, so a lookup finds its service by hash instead of walking
   * the list. Only when the field has a distinct value for at least 3 in 4 of the colliders: a field
   * that leaves groups behind (ipc1's protocols, 3 values in 17 rules) made tables that every lookup
   * probed and slowed ipc1 10k (see TupleSpaceOptions.narrowSplitAt).
   */
  private narrowSplit(t: TupleTable, h: number): void {
    const colliders = this.sameKeyRules(t, h);
    let bestSlot = -1;
    let bestDistinct = 0;
    for (let s = 0; s < MATCHABLE_WORDS; s++) {
      const full = SLOT_FULL_MASK[s];
      if (full > 0xffff || t.maskOf(s) !== 0) continue;
      const values = new Set<number>();
      let fixed = 0;
      for (const r of colliders) {
        const rule = this.store.rules[r] as ClassifierRule<T>;
        if ((rule.match.mask[s] & full) !== full) continue;
        fixed++;
        values.add(rule.match.value[s] & full);
      }
      if (fixed * 2 >= colliders.length && values.size > bestDistinct) {
        bestDistinct = values.size;
        bestSlot = s;
      }
    }
    if (bestSlot < 0 || bestDistinct * 4 < colliders.length * 3) return;
    const mask = new Int32Array(MATCHABLE_WORDS);
    for (let i = 0; i < t.n; i++) mask[t.slots[i]] = t.masks[i];
    mask[bestSlot] = SLOT_FULL_MASK[bestSlot];
    const target = this.tableFor(mask);
    t.narrowChild = target;
    this.moveFitting(Array.from(t.members.subarray(0, t.count)), target);
  }

  /** The rules of table t whose hash is h (one key's list; the bucket may hold other keys too). */
  private sameKeyRules(t: TupleTable, h: number): number[] {
    const out: number[] = [];
    for (let c = t.heads[t.bucketOf(h)]; c !== NO_RULE; c = this.store.getNext(c)) if (this.store.getHash(c) === h) out.push(c);
    return out;
  }

  /** Move each of these rules that the target table accepts into it (splits). */
  private moveFitting(rules: readonly number[], target: TupleTable): void {
    for (const r of rules) {
      this.store.effective(this.store.rules[r] as ClassifierRule<T>);
      if (!target.accepts(this.store.effMask)) continue;
      this.unlink(r);
      this.place(r, target, target.hashValue(this.store.effValue));
    }
  }

  remove(id: number): boolean {
    const r = this.store.byId.get(id);
    if (r === undefined) return false;
    if (this.ruleTable[r] !== undefined) {
      this.unlink(r);
      this.removals++;
    }
    this.store.release(r);
    return true;
  }

  lookup(key: Uint32Array): ClassifierRule<T> | undefined {
    const r = this.lookupIndex(key);
    return r === NO_RULE ? undefined : this.store.rules[r];
  }

  lookupId(key: Uint32Array): number {
    const r = this.lookupIndex(key);
    return r === NO_RULE ? NO_MATCH : this.store.id(r);
  }

  /** The id of the rule at an index `lookupIndex` returned (read from its record, no rule object). */
  idAt(r: number): number {
    return r === NO_RULE ? NO_MATCH : this.store.id(r);
  }

  /** The rule at an index `lookupIndex` returned (valid until the next insert or remove). */
  ruleAt(r: number): ClassifierRule<T> | undefined {
    return r === NO_RULE ? undefined : this.store.rules[r];
  }

  /**
   * `lookup` as a small integer (NO_RULE = -1 for none): lets the flow cache keep the answer inside its
   * own record instead of a parallel array of objects, one memory access less per hit.
   */
  lookupIndex(key: Uint32Array): number {
    if (this.fusedShape === this.shape) {
      if (++this.fusedServed === this.markAt) this.markPending();
      const r = (this.fused as FusedLookupFn)(key, this.store.rec, this.store.f64);
      return r !== KEY_OUT_OF_WIDTH ? r : this.lookupScan(key);
    }
    // The fused code exits early between tables, so it needs them in priority order.
    if (++this.staleLookups > this.fuseWait && this.sorted && this.tables.length <= MAX_FUSED_TABLES) {
      this.fuse();
      const r = (this.fused as FusedLookupFn)(key, this.store.rec, this.store.f64);
      return r !== KEY_OUT_OF_WIDTH ? r : this.lookupScan(key);
    }
    return this.lookupLoop(key);
  }

  /** Whether lookups currently go through the fused function (for tests and the benchmark). */
  get fusedActive(): boolean {
    return this.fusedShape === this.shape;
  }

  /** The lookup as a loop over the tables' own probes: right for any shape, used while the fused code is stale. */
  private lookupLoop(key: Uint32Array): number {
    const store = this.store;
    const rec = store.rec;
    const f64 = store.f64;
    const tables = this.tables;
    const sorted = this.sorted;
    let best = NO_RULE;
    let bestPri = -Infinity;
    let bestId = Infinity;
    for (let t = 0; t < tables.length; t++) {
      const table = tables[t];
      if (sorted && (bestPri > table.maxPri || (bestPri === table.maxPri && bestId < table.maxId))) break;
      // The table's own generated code: hash of its tuple, chain walk, straight-line rule check.
      const r = table.probe(table, rec, f64, key, bestPri, bestId);
      if (r === KEY_OUT_OF_WIDTH) return this.lookupScan(key);
      if (r !== NO_RULE) {
        if (store.isDecisive(r)) return r;
        best = r;
        bestPri = store.priority(r);
        bestId = store.id(r);
      }
    }
    return best;
  }

  /**
   * The best rule by a scan of every rule, for a key the records' packed ranges cannot judge (a word
   * wider than its field, as a frame's parser never produces; see rule-records.ts). Exact, and O(rules).
   */
  private lookupScan(key: Uint32Array): number {
    const store = this.store;
    let best = NO_RULE;
    for (let r = 0; r < store.rules.length; r++) {
      const rule = store.rules[r];
      if (rule === undefined || this.ruleTable[r] === undefined || !ruleMatches(key, rule)) continue;
      if (best === NO_RULE || this.beatsIdx(r, best)) best = r;
    }
    return best;
  }

  /**
   * What a lookup of `key` costs: tables hashed and rules compared. Mirrors `lookup` (kept apart so
   * the hot path carries no counters); used by the benchmark and tests.
   */
  probeCost(key: Uint32Array): { tables: number; rules: number } {
    const store = this.store;
    let tables = 0;
    let rules = 0;
    let bestPri = -Infinity;
    let bestId = Infinity;
    for (const table of this.tables) {
      if (this.opts.prioritySort && (bestPri > table.maxPri || (bestPri === table.maxPri && bestId < table.maxId))) break;
      tables++;
      const h = table.hashKey(key);
      for (let r = table.heads[table.bucketOf(h)]; r !== NO_RULE; r = store.getNext(r)) {
        const p = store.priority(r);
        if (p < bestPri || (p === bestPri && store.id(r) > bestId)) break;
        if (store.getHash(r) !== h) continue;
        rules++;
        if (ruleMatches(key, store.rules[r] as ClassifierRule<T>)) {
          if (store.isDecisive(r)) return { tables, rules };
          bestPri = p;
          bestId = store.id(r);
          break;
        }
      }
    }
    return { tables, rules };
  }

  /** Bytes of the index (typed arrays and table headers), excluding the caller's rule objects. */
  memoryBytes(): number {
    let b = this.store.bytes() + this.rulePos.byteLength + this.ruleTable.length * 8;
    for (const t of this.tables) b += t.heads.byteLength + t.members.byteLength + t.slots.byteLength * 2 + 96;
    return b;
  }

  // --- internals -------------------------------------------------------------------------------

  private fuse(): void {
    for (const t of this.tables) t.selective = this.selectiveSlots(t);
    this.fused = buildFusedLookup(this.tables, this.probeLayout());
    this.fusedShape = this.shape;
    this.fusedServed = 0;
    if (this.opts.markEvery !== Infinity) this.markPending();
  }

  // --- decisive rules ----------------------------------------------------------------------------
  //
  // A lookup walks tables in order of their best rule and stops once its answer beats every table
  // left; on acl1 100k half the lookups that match in the first table (host pairs, 75% of the rules)
  // still probe six more, whose best rules outrank theirs, and find nothing better. A rule is
  // DECISIVE when no rule of a table probed after its own both beats it and overlaps it (could match
  // a packet it matches): a lookup that matches it has its answer, and returns (the record's
  // REC_DECISIVE bit, read by the generated code). The tables probed before have been probed, and
  // within its own table the chain walk found the best.
  //
  // The invariant (no beating, overlapping rule in a later table) is kept by:
  // - a rule entering a table (insert, or moved by a split) starts not decisive, and `unsettle`
  //   clears every rule of an earlier table that it beats and may overlap; removals only ever make
  //   rules more decisive, so they change nothing;
  // - a table that comes to be probed before a table it came after (`reposition`: its best rule rose,
  //   or the other's fell) loses all its marks (`unmarkAll`): they never looked at that table;
  // - marking (at fuse time and every `markEvery` fused lookups, `markChunk` rules per step) decides
  //   the rules placed or unsettled since. A decision looks at the buckets of the later table where
  //   such rules would be: one when that table hashes only bits the rule fixes, else one per value
  //   of the hashed bits the rule leaves open, up to `decisiveKeyLimit` (a source /24 against a table
  //   of source /32s: 256 buckets; ipc1 100k then hashes 3.84 tables per lookup instead of 4.19, acl1
  //   100k 1.93 instead of 2.32); else it scans a small table, or gives up (not decisive).
  //   Unsettling follows the same three ways (buckets only up to `unsettleKeyLimit`: an update pays
  //   them at once), the third being to clear the whole table, which then waits `clearHold` lookups
  //   per unit of what marking it cost last time (`markCost`: a unit per decision and per bucket or
  //   rule it visited; 1-10 per rule where decisions look into one bucket of each later table,
  //   150-320 where they enumerate open keys) before it is marked again whole: re-marking the tables
  //   that updates keep clearing then costs a small share of the lookups whatever the churn (with a
  //   wait per rule, tables whose decisions enumerate keys were re-marked over and over, up to a fifth
  //   of a run of updates with 1000 lookups after each). A table is also marked
  //   whole once the rules removed since it last was number `remarkRemovals` times its rules that are
  //   not decisive (each removal may have been what kept some of them from it; an eighth of a
  //   decision per removal).
  // Overlap is judged on masks and range bounds (`mayOverlap`); a wrong "may overlap" only costs a
  // decisive rule, never a wrong answer.

  /**
   * Decide the rules placed or unsettled since the last marking, and the tables due whole (see above),
   * `markChunk` rules per call: a lookup that marks stalls for a chunk at most (a few ms at worst,
   * while V8 has not compiled `decide` yet), not for a whole classifier (~75 ms for acl1 100k's first
   * marking); the rest follows every MARK_STEP lookups.
   */
  private markPending(): void {
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
    if (this.pendingAt < queue.length) {
      this.markAt = this.fusedServed + Math.min(MARK_STEP, this.opts.markEvery);
      return;
    }
    queue.length = 0;
    this.pendingAt = 0;
    this.markAt = this.fusedServed + this.opts.markEvery;
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

  /** Queue rule r for the next marking; past two per rule, mark every table whole instead. */
  private toDecide(r: number): void {
    // An engine that never fuses never marks (the baselines; fused code needs tables in priority order).
    if (this.opts.fuseAfter === Infinity || this.opts.markEvery === Infinity || !this.sorted) return;
    if (this.pendingDecide.length < 2 * this.store.capacity) {
      this.pendingDecide.push(r);
      return;
    }
    this.pendingDecide.length = 0;
    this.pendingAt = 0;
    for (const t of this.tables) t.markDue = true;
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
      if (!clash && this.beatsIdx(q, r) && mayOverlap(store.rules[q] as ClassifierRule<T>, rule)) clash = true;
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

  /** Rule r has just joined table t: the rules of earlier tables it beats and may overlap are not decisive any more. */
  private unsettle(r: number, t: TupleTable): void {
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

  /** Clear every mark of table u; it is marked again whole after `clearHold` lookups per unit of its marking cost. */
  private unmarkAll(u: TupleTable): void {
    // Nothing marked, nothing to clear: its rules still queued are decided in the order of that day.
    if (u.decisive === 0) return;
    for (let i = 0; i < u.count; i++) this.store.setDecisive(u.members[i], false);
    u.decisive = 0;
    u.markDue = true;
    // In proportion to what its marking cost (at least a unit per rule), so that re-marking tables that
    // updates keep clearing costs about the same small share of the lookups whatever a decision costs.
    u.markHold = Math.ceil((this.opts.clearHold * Math.max(u.count, u.markCost)) / this.opts.markEvery);
  }

  private unsettleOne(r: number, rule: ClassifierRule<T>, q: number, u: TupleTable): void {
    if (!this.store.isDecisive(q) || !this.beatsIdx(r, q) || !mayOverlap(rule, this.store.rules[q] as ClassifierRule<T>)) return;
    this.store.setDecisive(q, false);
    u.decisive--;
    // Decided again at the next marking: r may be gone by then.
    this.toDecide(q);
  }

  /**
   * The slots table t does not hash on which its rules constrain in the most different ways, most
   * first: a chain holds rules that agree on the hashed slots, so these are where a rule met in a chain
   * that does not match the packet most likely fails (fw1's hosts list their services: rules of one
   * destination differing in port and protocol). Counted over at most SELECTIVE_SAMPLE of its rules.
   */
  private selectiveSlots(t: TupleTable): number[] {
    const step = Math.max(1, Math.floor(t.count / SELECTIVE_SAMPLE));
    const seen = new Map<number, Set<string>>();
    for (let i = 0; i < t.count; i += step) {
      const rule = this.store.rules[t.members[i]] as ClassifierRule<T>;
      const { value, mask } = rule.match;
      for (let s = 0; s < MATCHABLE_WORDS; s++) {
        if (t.maskOf(s) !== 0) continue;
        let c = `${value[s] & mask[s]}/${mask[s]}`;
        for (const g of rule.ranges ?? []) if (g.slot === s) c += ` ${g.lo}-${g.hi}`;
        let set = seen.get(s);
        if (set === undefined) seen.set(s, (set = new Set()));
        set.add(c);
      }
    }
    return [...seen].filter(([, set]) => set.size > 1).sort((a, b) => b[1].size - a[1].size).map(([s]) => s);
  }

  /** The fused lookup's code no longer fits the tables: back to the loop until they settle again. */
  private reshaped(): void {
    if (this.fusedShape === this.shape) {
      const young = this.fusedServed < this.fuseWait * YOUNG;
      this.fuseWait = young ? Math.min(MAX_FUSE_WAIT, this.fuseWait * 4) : this.opts.fuseAfter;
    }
    this.shape++;
    this.staleLookups = 0;
  }

  private ensureCapacity(): void {
    const cap = this.store.capacity;
    if (this.rulePos.length >= cap) return;
    const grow = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.rulePos = grow(this.rulePos);
  }

  /**
   * TupleMerge's relaxation, which decides how many later rules can share a new table:
   * - IPv4 addresses: when one prefix is more than 4 bits longer than the other, the shorter address
   *   and its port leave the tuple (rules keyed mostly by one address then share tables); the prefix
   *   lengths that stay are shortened (32 -> 28, 25..31 by 3, 17..24 by 2, 9..16 by 1), as in
   *   TupleMerge's reference code.
   * - narrow fields (16 bits or less: ports, protocol, EtherType, VLAN) stay only when fully fixed to
   *   their slot's width; a partial one (a port range, the 8-bit protocol in its 16-bit slot) is left
   *   to the exact check after the hash.
   * - other wide fields (in_port, metadata, tunnel id, MACs) are exact identifiers: kept as they are.
   */
  private relax(eff: Int32Array): Int32Array {
    const out = this.scratchMask;
    for (let s = 0; s < MATCHABLE_WORDS; s++) {
      const m = eff[s];
      const full = SLOT_FULL_MASK[s];
      out[s] = full <= 0xffff && this.opts.wildcardNarrow && m !== full ? 0 : m;
    }
    const src = popcount(out[K.IP_SRC]);
    const dst = popcount(out[K.IP_DST]);
    if (dst > src + this.opts.relaxStep) {
      out[K.IP_SRC] = 0;
      out[K.L4_SRC] = 0;
    } else if (src > dst + this.opts.relaxStep) {
      out[K.IP_DST] = 0;
      out[K.L4_DST] = 0;
    }
    if (this.opts.relaxMode === 'coarse') {
      for (let s = 0; s < MATCHABLE_WORDS; s++) if (SLOT_FULL_MASK[s] <= 0xffff) out[s] = 0;
      out[K.IP_SRC] = PREFIX_MASKS[popcount(out[K.IP_SRC]) & ~7];
      out[K.IP_DST] = PREFIX_MASKS[popcount(out[K.IP_DST]) & ~7];
    } else {
      out[K.IP_SRC] = shortenPrefix(out[K.IP_SRC]);
      out[K.IP_DST] = shortenPrefix(out[K.IP_DST]);
    }
    return out;
  }

  private tableFor(mask: Int32Array): TupleTable {
    const sig = tupleSignature(mask);
    let t = this.bySignature.get(sig);
    if (t === undefined) {
      t = new TupleTable(mask);
      this.generate(t);
      this.bySignature.set(sig, t);
      this.tables.push(t);
      this.reshaped();
    }
    return t;
  }

  /** The record layout as generated code needs it, with the key words packed ranges require to fit their width. */
  private probeLayout(): ProbeLayout {
    const guard: [number, number][] = this.store.rangeGuardSlots().map((slot) => [slot, ~SLOT_FULL_MASK[slot] | 0]);
    return { ...this.store.layout(), guard };
  }

  /** (Re)generate a table's probe for its tuple and the current record layout. */
  private generate(t: TupleTable): void {
    const s = this.store;
    if (this.probesLayout !== s.layoutVersion) {
      this.probes.clear();
      this.probesLayout = s.layoutVersion;
    }
    let probe = this.probes.get(t.signature);
    if (probe === undefined) {
      probe = buildProbe(t.slots, t.masks, this.probeLayout());
      this.probes.set(t.signature, probe);
    }
    t.probe = probe;
  }

  private beatsIdx(a: number, b: number): boolean {
    const pa = this.store.priority(a);
    const pb = this.store.priority(b);
    return pa > pb || (pa === pb && this.store.id(a) < this.store.id(b));
  }

  /** Link rule r into table t under hash h; returns how many rules share that hash there. */
  private place(r: number, t: TupleTable, h: number): number {
    const fill = t.count < SPARSE_TABLE_RULES ? 4 : 2;
    if ((t.count + 1) * fill > t.heads.length) this.rehash(t, t.heads.length * 2);
    this.ruleTable[r] = t;
    this.store.setHash(r, h);
    this.store.setDecisive(r, false);
    const sameKey = this.link(r, t);
    if (t.count === t.members.length) {
      const m = new Int32Array(t.members.length * 2);
      m.set(t.members);
      t.members = m;
    }
    t.members[t.count] = r;
    this.rulePos[r] = t.count;
    t.count++;
    this.toDecide(r);
    const pri = this.store.priority(r);
    const id = this.store.id(r);
    if (pri < t.minPri) t.minPri = pri;
    if (pri > t.maxPri || (pri === t.maxPri && id < t.maxId)) {
      t.maxPri = pri;
      t.maxId = id;
      this.reposition(t);
    }
    this.unsettle(r, t);
    return sameKey;
  }

  /** Insert into the bucket chain, keeping it best-first. Returns the number of rules with r's hash. */
  private link(r: number, t: TupleTable): number {
    const h = this.store.getHash(r);
    const b = t.bucketOf(h);
    const store = this.store;
    let prev = NO_RULE;
    let cur = t.heads[b];
    let same = 1;
    while (cur !== NO_RULE && this.beatsIdx(cur, r)) {
      if (store.getHash(cur) === h) same++;
      prev = cur;
      cur = store.getNext(cur);
    }
    store.setNext(r, cur);
    if (prev === NO_RULE) t.heads[b] = r;
    else store.setNext(prev, r);
    for (let c = cur; c !== NO_RULE; c = store.getNext(c)) if (store.getHash(c) === h) same++;
    return same;
  }

  private unlink(r: number): void {
    const t = this.ruleTable[r] as TupleTable;
    const store = this.store;
    const b = t.bucketOf(store.getHash(r));
    let prev = NO_RULE;
    let cur = t.heads[b];
    while (cur !== r) {
      prev = cur;
      cur = store.getNext(cur);
    }
    if (prev === NO_RULE) t.heads[b] = store.getNext(r);
    else store.setNext(prev, store.getNext(r));
    const pos = this.rulePos[r];
    const last = t.members[t.count - 1];
    t.members[pos] = last;
    this.rulePos[last] = pos;
    t.count--;
    if (store.isDecisive(r)) {
      store.setDecisive(r, false);
      t.decisive--;
    }
    this.ruleTable[r] = undefined;
    if (t.count === 0) {
      this.bySignature.delete(t.signature);
      this.tables.splice(this.tables.indexOf(t), 1);
      this.reshaped();
      return;
    }
    if (this.store.priority(r) === t.maxPri && this.store.id(r) === t.maxId) {
      // The best rule left: find the new best. O(table), and only when the table's top rule goes.
      let bp = -Infinity;
      let bi = Infinity;
      for (let i = 0; i < t.count; i++) {
        const m = t.members[i];
        const p = this.store.priority(m);
        const id = this.store.id(m);
        if (p > bp || (p === bp && id < bi)) {
          bp = p;
          bi = id;
        }
      }
      t.maxPri = bp;
      t.maxId = bi;
      this.reposition(t);
    }
  }

  private rehash(t: TupleTable, buckets: number): void {
    t.heads = new Int32Array(buckets).fill(NO_RULE);
    t.shift = 32 - Math.log2(buckets);
    for (let i = 0; i < t.count; i++) this.link(t.members[i], t);
  }

  /** Keep `tables` ordered by best rule (only when probing best-first). */
  private reposition(t: TupleTable): void {
    if (!this.opts.prioritySort) return;
    const a = this.tables;
    let i = a.indexOf(t);
    const better = (x: TupleTable, y: TupleTable) => x.maxPri > y.maxPri || (x.maxPri === y.maxPri && x.maxId < y.maxId);
    const from = i;
    // A table that comes to be probed before one it came after has marks that did not look at that
    // one (decisive rules): cleared.
    while (i > 0 && better(t, a[i - 1])) {
      a[i] = a[i - 1];
      a[--i] = t;
    }
    if (i < from) this.unmarkAll(t);
    while (i < a.length - 1 && better(a[i + 1], t)) {
      this.unmarkAll(a[i + 1]);
      a[i] = a[i + 1];
      a[++i] = t;
    }
    if (i !== from) this.reshaped();
  }

  /**
   * Too many rules share one hash key in t: move them to the most specific tuple they all fit, so
   * lookups stop walking long chains. If that tuple is t itself, the rules are too alike to separate
   * by hashing and the chain stays (their order still lets lookups stop early).
   */
  private split(t: TupleTable, h: number): void {
    const colliders = this.sameKeyRules(t, h);
    const common = new Int32Array(MATCHABLE_WORDS).fill(-1);
    const union = new Int32Array(MATCHABLE_WORDS);
    for (const r of colliders) {
      this.store.effective(this.store.rules[r] as ClassifierRule<T>);
      for (let s = 0; s < MATCHABLE_WORDS; s++) {
        common[s] &= this.store.effMask[s];
        union[s] |= this.store.effMask[s];
      }
    }
    if (this.opts.split === 'midpoint') {
      // TupleMerge's split: from the tuple all colliders share, lengthen the one field where they
      // differ most, halfway towards the longest; every rule of t that fits the result moves there.
      let best = -1;
      let gain = 0;
      for (let s = 0; s < MATCHABLE_WORDS; s++) {
        const d = popcount(union[s]) - popcount(common[s]);
        if (d > gain) {
          gain = d;
          best = s;
        }
      }
      if (best < 0) return;
      const a = popcount(common[best]);
      const b = popcount(union[best]);
      common[best] = isPrefixMask(common[best]) && isPrefixMask(union[best]) ? PREFIX_MASKS[(a + b + 1) >> 1] : union[best];
    }
    const target = this.tableFor(common);
    if (target === t) return;
    this.moveFitting(this.opts.split === 'midpoint' ? Array.from(t.members.subarray(0, t.count)) : colliders, target);
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

/** Shorten a prefix mask for a new table's tuple; non-prefix masks are left alone. */
function shortenPrefix(m: number): number {
  const len = popcount(m);
  if (len === 0 || !isPrefixMask(m)) return m;
  const cut = len === 32 ? 4 : len > 24 ? 3 : len > 16 ? 2 : len > 8 ? 1 : 0;
  return PREFIX_MASKS[len - cut];
}

