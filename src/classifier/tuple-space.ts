/**
 * Tuple-space classifiers, one engine with three settings (tuple-space-options.ts):
 *
 * - `tss`: plain tuple-space search (Srinivasan et al.): one hash table per distinct rule mask, every
 *   table probed on every lookup. The baseline Open vSwitch started from.
 * - `pstss`: the same tables probed in order of their best rule's priority, stopping once the answer in
 *   hand beats every rule left (Open vSwitch's priority-sorted subtables).
 * - `tuplemerge` (the default, see docs/classifier.md): TupleMerge (Daly, Liu, Torng 2019). A rule may
 *   join any table whose tuple asks for a subset of its mask bits, so there are far fewer tables; a new
 *   table takes a relaxed version of its first rule's mask so later rules fit; when too many rules
 *   pile onto one hash key (the collision limit) they move to a more specific table
 *   (tuple-choice.ts). Tables are probed in priority order as in `pstss`, through one generated
 *   function once they settle, and a lookup stops at a decisive rule (decisive-marks.ts).
 *
 * All three update online: insert and remove touch one table (plus, rarely, a split), never a rebuild.
 * Port ranges are hashed on their common prefix and checked exactly afterwards. Rules live in one
 * fixed record layout (rule-records.ts) and each table probes with code generated for its tuple and
 * that layout (codegen.ts). This file is the engine: placing rules in tables and bucket chains, the
 * tables' probe order, and the lookup.
 */
import { MATCHABLE_WORDS } from '../flow/index.js';
import { NO_MATCH, checkNewRuleId, ruleMatches, type Classifier, type ClassifierRule } from './classifier.js';
import { KEY_OUT_OF_WIDTH, buildFusedLookup, buildProbe, type FusedLookupFn, type ProbeFn, type ProbeLayout } from './codegen.js';
import { DecisiveMarks } from './decisive-marks.js';
import { SLOT_FULL_MASK } from './rule-store.js';
import { RuleRecords } from './rule-records.js';
import { narrowSplitSlot, relaxTuple, selectiveSlots, splitTuple } from './tuple-choice.js';
import { TUPLE_MERGE_DEFAULTS, type TupleSpaceOptions } from './tuple-space-options.js';
import { NO_RULE, TupleTable, tupleSignature } from './tuple-table.js';

/** Above this many tables the fused function is not built (its code grows with the tables; TupleMerge keeps ~10). */
export const MAX_FUSED_TABLES = 48;
/**
 * Tables of fewer rules than this keep their buckets at most a quarter full, larger ones half: a
 * bucket shared with another key costs a record read to reject it, and a small table's buckets cost
 * little memory; a large table's buckets outgrow the CPU's caches, where the smaller array is worth
 * more than the rejects it saves (docs/classifier.md, "Updates").
 */
const SPARSE_TABLE_RULES = 1 << 14;
/** See `insert`: a list under one hash key that could not be split is looked at again after this many more rules. */
const NARROW_RETRY = 8;
/** The longest wait (lookups) before fusing, however much the tables churn. */
export const MAX_FUSE_WAIT = 1 << 22;
/** Fused code that served fewer than this many times its wait before the shape changed died young. */
const YOUNG = 16;

export class TupleSpaceClassifier<T> implements Classifier<T> {
  readonly name: string;
  private readonly opts: TupleSpaceOptions;
  private readonly sorted: boolean;
  private readonly store: RuleRecords<T>;
  private rulePos = new Int32Array(64);
  /** The table of each rule index (undefined: free, or a rule that can never match). */
  private readonly ruleTable: (TupleTable | undefined)[] = [];
  /** Lookup order: by best rule when prioritySort, else creation order. */
  private readonly tables: TupleTable[] = [];
  private readonly marks: DecisiveMarks<T>;
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
  /** Splits of an over-full hash key tried so far: each reads the key's list and may move a table's rules. */
  splitsTried = 0;
  /** Lookups served by the current fused code. */
  private fusedServed = 0;
  /** The current wait before fusing: `fuseAfter`, grown by churn. */
  private fuseWait: number;
  /** The fused lookup count (`fusedServed`) at which the next marking step of decisive rules comes. */
  private markAt = -1;

  constructor(name: string, options: Partial<TupleSpaceOptions> = {}) {
    this.name = name;
    this.opts = { ...TUPLE_MERGE_DEFAULTS, ...options };
    this.store = new RuleRecords<T>(64, this.opts.prefixRecordsFrom);
    this.sorted = this.opts.prioritySort;
    this.fuseWait = this.opts.fuseAfter;
    this.marks = new DecisiveMarks<T>(this.store, this.tables, this.ruleTable, this.opts);
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
      // A table that asks only for bits this rule fixes: the first in probe order, or the most specific.
      // A table that hashes nothing (a catch-all's) is one chain: only a rule whose own tuple would
      // hash nothing joins it, or every rule inserted after a table-miss flow would pile into it.
      const relaxed = relaxTuple(eff, this.opts, this.scratchMask);
      const wildcard = hashesNothing(relaxed);
      if (this.opts.choose === 'first') {
        for (const t of this.tables) if ((t.n > 0 || wildcard) && t.accepts(eff)) { table = t; break; }
      } else for (const t of this.tables) if ((t.n > 0 || wildcard) && t.accepts(eff) && (table === undefined || t.bits > table.bits)) table = t;
      table ??= this.tableFor(relaxed);
      table = this.followSplits(table, eff);
    } else {
      table = this.tableFor(eff);
    }
    const h = table.hashValue(this.store.effValue);
    const chain = this.place(r, table, h);
    if (this.opts.merge && chain > this.opts.collisionLimit) this.split(table, h, chain);
    // Tried when a list first passes the bar and then every NARROW_RETRY rules, not on every insert
    // into a long list that has no field to split on (the check reads every rule of the list).
    else if (this.opts.merge && chain > this.opts.narrowSplitAt && (chain - this.opts.narrowSplitAt) % NARROW_RETRY === 1) this.narrowSplit(table, h);
  }

  /**
   * Where a rule for table t goes once t's over-full lists have moved out (split, narrowSplit): into
   * the table they moved to when it accepts the rule, and on down, so the lists do not grow back in
   * t's chain, to be walked by every insert and moved again. Children are more specific than their
   * parent (they hash every bit it does, and more), so this ends.
   */
  private followSplits(t: TupleTable, eff: Int32Array): TupleTable {
    for (let i = 0; i < t.splitChildren.length; ) {
      const c = t.splitChildren[i];
      if (this.bySignature.get(c.signature) !== c) {
        // Emptied and dropped since: forgotten.
        t.splitChildren.splice(i, 1);
        continue;
      }
      if (c.accepts(eff)) return this.followSplits(c, eff);
      i++;
    }
    return t;
  }

  /** Record that some of t's rules moved to target (a more specific table), for followSplits. */
  private splitInto(t: TupleTable, target: TupleTable): void {
    if (!t.splitChildren.includes(target)) t.splitChildren.push(target);
  }

  /**
   * Rules sharing one hash key that tell themselves apart by one narrow field they fix exactly (a
   * host's services, by destination port and protocol): the table's rules that fix that field move to
   * a tuple that hashes it too, so a lookup finds its service by hash instead of walking the list.
   */
  private narrowSplit(t: TupleTable, h: number): void {
    const slot = narrowSplitSlot(this.store, t, this.sameKeyRules(t, h));
    if (slot < 0) return;
    const mask = new Int32Array(MATCHABLE_WORDS);
    for (let i = 0; i < t.n; i++) mask[t.slots[i]] = t.masks[i];
    mask[slot] = SLOT_FULL_MASK[slot];
    const target = this.tableFor(mask);
    this.splitInto(t, target);
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
      this.marks.noteRemoval();
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
      if (++this.fusedServed === this.markAt) this.markAt = this.fusedServed + this.marks.step();
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
      if (best === NO_RULE || store.beats(r, best)) best = r;
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
    for (const t of this.tables) t.selective = selectiveSlots(this.store, t);
    this.fused = buildFusedLookup(this.tables, this.probeLayout());
    this.fusedShape = this.shape;
    this.fusedServed = 0;
    if (this.opts.markEvery !== Infinity) this.markAt = this.fusedServed + this.marks.step();
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
    this.marks.queue(r);
    const pri = this.store.priority(r);
    const id = this.store.id(r);
    if (pri < t.minPri) t.minPri = pri;
    if (pri > t.maxPri || (pri === t.maxPri && id < t.maxId)) {
      t.maxPri = pri;
      t.maxId = id;
      this.reposition(t);
    }
    this.marks.unsettle(r, t);
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
    while (cur !== NO_RULE && store.beats(cur, r)) {
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
    this.marks.leave(r, t);
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
    if (i < from) this.marks.unmarkAll(t);
    while (i < a.length - 1 && better(a[i + 1], t)) {
      this.marks.unmarkAll(a[i + 1]);
      a[i] = a[i + 1];
      a[++i] = t;
    }
    if (i !== from) this.reshaped();
  }

  /**
   * Too many rules share one hash key in t: move them to the most specific tuple they all fit, so
   * lookups stop walking long chains. If that tuple is t itself, the rules are too alike to separate
   * by hashing and the chain stays (their order still lets lookups stop early), and is not tried
   * again before it has doubled: else every insert into it would read the whole chain.
   * The tuple is chosen among the rules that fix bits the table does not hash; one that fixes none (a
   * table's catch-all, such as a table-miss flow, which makes an empty tuple every later rule fits)
   * can go nowhere more specific and would leave the colliders nothing in common.
   */
  private split(t: TupleTable, h: number, chain: number): void {
    if (chain < t.splitRetryAt) return;
    this.splitsTried++;
    const colliders = this.sameKeyRules(t, h);
    const movable = colliders.filter((r) => {
      this.store.effective(this.store.rules[r] as ClassifierRule<T>);
      return t.fixesMore(this.store.effMask);
    });
    // When the movable rules all fix the same bits (so the midpoint finds no slot to split on), the
    // tuple of those bits is still more specific than t's.
    const mask = movable.length > 1 ? (splitTuple(this.store, movable, this.opts.split) ?? splitTuple(this.store, movable, 'common')) : undefined;
    const target = mask === undefined ? t : this.tableFor(mask);
    if (target === t) {
      t.splitRetryAt = colliders.length * 2;
      return;
    }
    this.splitInto(t, target);
    // TupleMerge's midpoint split moves every rule of t that fits the new tuple, not just the colliders.
    this.moveFitting(this.opts.split === 'midpoint' ? Array.from(t.members.subarray(0, t.count)) : movable, target);
    // When most colliders did not fit the new tuple, the list is still over the limit: split again only
    // once it has doubled, or every insert under this key would move the whole table again.
    const left = this.sameKeyRules(t, h).length;
    if (left > this.opts.collisionLimit) t.splitRetryAt = left * 2;
  }
}

/** Does a tuple mask hash no bit at all? */
function hashesNothing(mask: Int32Array): boolean {
  for (let s = 0; s < mask.length; s++) if (mask[s] !== 0) return false;
  return true;
}
