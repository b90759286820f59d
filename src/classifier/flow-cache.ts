/**
 * An exact-match flow cache in front of any classifier (Open vSwitch's EMC, made a little wider).
 *
 * The cache key is the packet key ANDed with the union of every mask and range slot of every rule
 * inserted so far: bits no rule looks at cannot change the answer, so packets that differ only there
 * share an entry (a poor man's megaflow that needs no per-rule bookkeeping). The union only grows;
 * a superset of the needed bits is still exact.
 *
 * Invalidation: any insert or remove bumps a generation number and an entry is valid only when it
 * carries the current one, so a change costs O(1) and can never leave a stale answer behind. The
 * controller changes rules far less often than packets arrive; the cost is a cold cache after a
 * change, never a wrong one.
 *
 * Direct-mapped, one entry per bucket; misses (no rule) are cached too. The probe (hash of exactly the
 * slots rules read, with their union masks as constants, and the word compare) is generated for the
 * current layout (codegen.ts), so a hit is one hash, one record read, a few compares and one array read.
 *
 * Sizing: the cache starts small and grows (x4, up to `cacheEntries`) when the flows it sees do not
 * fit: when misses have replaced a quarter as many live entries as the cache holds since it last grew.
 * Growing moves the live entries over (the cache stays warm). A table with a few flows keeps a few KB;
 * a table under a ClassBench-like trace grows to its maximum within a few hundred thousand packets.
 */
import { MATCHABLE_WORDS } from '../flow/index.js';
import { NO_MATCH, type Classifier, type ClassifierRule } from './classifier.js';
import { CACHE_KEY_OFFSET, buildCacheFind, buildCacheRehash, type CacheFindFn } from './codegen.js';
import { SLOT_FULL_MASK } from './rule-store.js';

export interface FlowCacheStats {
  hits: number;
  misses: number;
  /** Generation bumps (rule changes) since creation. */
  invalidations: number;
  /** Times the cache grew (it starts small and grows x4 while flows keep evicting each other). */
  grows: number;
}

/** Where a cache starts (entries): small, so a table with few flows costs a few KB. */
export const INITIAL_CACHE_ENTRIES = 1 << 12;

/**
 * The most entries a cache grows to: 256K (8 MB of records for a 5-field key). ClassBench traces at 10k
 * rules hold 44K-101K distinct headers and reuse half of them only after 30K-150K other packets; OVS's
 * 8K EMC would catch little more than the back-to-back half (its 1M-entry signature cache, SMC, plays
 * the role of the rest). Growth is on demand, so small tables never pay for this.
 */
export const DEFAULT_CACHE_ENTRIES = 1 << 18;

/** In an entry's id word: the id does not fit in 31 bits, ask the answer index (or the rule). */
const ID_ELSEWHERE = -2;

/** A classifier that can answer with a rule index (TupleSpaceClassifier does). */
interface IndexedClassifier<T> {
  lookupIndex(key: Uint32Array): number;
  ruleAt(r: number): ClassifierRule<T> | undefined;
  idAt(r: number): number;
}

function isIndexed<T>(c: Classifier<T>): c is Classifier<T> & IndexedClassifier<T> {
  const x = c as Partial<IndexedClassifier<T>>;
  return typeof x.lookupIndex === 'function' && typeof x.ruleAt === 'function' && typeof x.idAt === 'function';
}

export class CachedClassifier<T> implements Classifier<T> {
  readonly name: string;
  readonly stats: FlowCacheStats = { hits: 0, misses: 0, invalidations: 0, grows: 0 };
  /** The most entries the cache may grow to. */
  readonly maxEntries: number;
  private entries: number;
  /**
   * One record per entry: [generation, answer index, answer id, masked key words...], padded to `stride` (a
   * power of two, so records do not straddle more cache lines than they must). Generation 0 = empty.
   * The answer index is the inner classifier's rule index when it has one (`indexed`): a hit then
   * touches the record and the rule, nothing else; other classifiers' answers go to `answers`.
   */
  private table = new Int32Array(0);
  private stride = 2;
  /** The answer of each entry, by entry index (a parallel array: records hold numbers only). */
  private answers: (ClassifierRule<T> | undefined)[] = [];
  private shift = 1;
  private usedSlots = new Int32Array(0);
  private usedMasks = new Int32Array(0);
  private readonly unionMask = new Int32Array(MATCHABLE_WORDS);
  private generation = 1;
  /** Live entries replaced by a miss since the last grow: the signal that the flows do not fit. */
  private evictions = 0;
  private find: CacheFindFn = () => -1;
  private readonly indexed: IndexedClassifier<T> | undefined;
  /** The entry the previous lookup used (see buildCacheFind). */
  private last = 0;

  /** @param entries the maximum size, rounded up to a power of two (the cache starts smaller and grows). */
  constructor(
    readonly inner: Classifier<T>,
    entries = DEFAULT_CACHE_ENTRIES,
  ) {
    this.name = `${inner.name}+cache`;
    let n = 1;
    while (n < entries) n <<= 1;
    this.maxEntries = n;
    this.entries = Math.min(n, INITIAL_CACHE_ENTRIES);
    this.indexed = isIndexed(inner) ? inner : undefined;
    this.rebuildLayout();
  }

  get size(): number {
    return this.inner.size;
  }

  /** Entries the cache holds now (it grows towards `maxEntries`). */
  get capacity(): number {
    return this.entries;
  }

  insert(rule: ClassifierRule<T>): void {
    this.inner.insert(rule);
    let widened = false;
    const m = rule.match.mask;
    for (let s = 0; s < MATCHABLE_WORDS; s++) {
      const u = this.unionMask[s] | m[s];
      if (u !== this.unionMask[s]) {
        this.unionMask[s] = u;
        widened = true;
      }
    }
    for (const g of rule.ranges ?? []) {
      const u = this.unionMask[g.slot] | SLOT_FULL_MASK[g.slot];
      if (u !== this.unionMask[g.slot]) {
        this.unionMask[g.slot] = u;
        widened = true;
      }
    }
    if (widened) this.rebuildLayout();
    this.invalidate();
  }

  remove(id: number): boolean {
    const removed = this.inner.remove(id);
    if (removed) this.invalidate();
    return removed;
  }

  /** Drop every cached answer (O(1), except a full clear once every 2^31 changes). */
  invalidate(): void {
    this.stats.invalidations++;
    if (this.generation === 0x7fffffff) {
      this.table.fill(0);
      this.generation = 0;
    }
    this.generation++;
    this.evictions = 0;
  }

  lookup(key: Uint32Array): ClassifierRule<T> | undefined {
    const o = this.find(this.table, this.generation, key, this.last);
    const ix = this.indexed;
    if (o >= 0) {
      this.last = o;
      this.stats.hits++;
      return ix !== undefined ? ix.ruleAt(this.table[o + 1]) : this.answers[o >> this.shift];
    }
    return ix !== undefined ? ix.ruleAt(this.missIndex(ix, key, ~o)) : this.missRule(key, ~o);
  }

  lookupId(key: Uint32Array): number {
    const o = this.find(this.table, this.generation, key, this.last);
    const ix = this.indexed;
    if (o >= 0) {
      this.last = o;
      this.stats.hits++;
      const id = this.table[o + 2];
      if (id !== ID_ELSEWHERE) return id;
      return ix !== undefined ? ix.idAt(this.table[o + 1]) : (this.answers[o >> this.shift]?.id ?? NO_MATCH);
    }
    return ix !== undefined ? ix.idAt(this.missIndex(ix, key, ~o)) : (this.missRule(key, ~o)?.id ?? NO_MATCH);
  }

  // The slow paths are kept out of the lookups so the hit paths stay small enough to inline.

  /** A miss with an indexed inner classifier: its answer as a rule index, remembered in the entry. */
  private missIndex(ix: IndexedClassifier<T>, key: Uint32Array, o: number): number {
    this.stats.misses++;
    const idx = ix.lookupIndex(key);
    this.remember(key, o, idx, undefined);
    return idx;
  }

  /** A miss with any other inner classifier: the rule, remembered beside the entry. */
  private missRule(key: Uint32Array, o: number): ClassifierRule<T> | undefined {
    this.stats.misses++;
    const r = this.inner.lookup(key);
    this.remember(key, o, 0, r);
    return r;
  }

  /** Store an answer in entry o, or grow instead when misses keep replacing live entries. */
  private remember(key: Uint32Array, o: number, idx: number, rule: ClassifierRule<T> | undefined): void {
    const tab = this.table;
    if (tab[o] === this.generation && ++this.evictions >= this.entries >> 2 && this.entries < this.maxEntries) {
      this.grow();
      return;
    }
    tab[o] = this.generation;
    tab[o + 1] = idx;
    // The answer's id in the entry too: a lookupId hit then reads no rule record (a miss of its own at 100k rules).
    const id = this.indexed !== undefined ? this.indexed.idAt(idx) : (rule?.id ?? NO_MATCH);
    tab[o + 2] = id <= 0x7fffffff ? id : ID_ELSEWHERE;
    this.last = o;
    const slots = this.usedSlots;
    const masks = this.usedMasks;
    for (let i = 0; i < slots.length; i++) tab[o + CACHE_KEY_OFFSET + i] = key[slots[i]] & masks[i];
    if (this.indexed === undefined) this.answers[o >> this.shift] = rule;
  }

  /** Four times the entries, moving the live ones over (a few times in a table's life, O(entries)). */
  private grow(): void {
    const oldTab = this.table;
    const oldAnswers = this.answers;
    const stride = this.stride;
    this.entries = Math.min(this.maxEntries, this.entries * 4);
    this.stats.grows++;
    this.rebuildLayout();
    const rehash = buildCacheRehash(this.usedSlots.length);
    const tab = this.table;
    const capMask = this.entries - 1;
    for (let i = 0; i < oldTab.length / stride; i++) {
      const from = i * stride;
      if (oldTab[from] !== this.generation) continue;
      const to = (rehash(oldTab, from) & capMask) * stride;
      tab.set(oldTab.subarray(from, from + stride), to);
      if (this.indexed === undefined) this.answers[to >> this.shift] = oldAnswers[i];
    }
  }

  private rebuildLayout(): void {
    const slots: number[] = [];
    const masks: number[] = [];
    for (let s = 0; s < MATCHABLE_WORDS; s++) {
      if (this.unionMask[s] === 0) continue;
      slots.push(s);
      masks.push(this.unionMask[s]);
    }
    this.usedSlots = Int32Array.from(slots);
    this.usedMasks = Int32Array.from(masks);
    let shift = 1;
    while (1 << shift < CACHE_KEY_OFFSET + slots.length) shift++;
    this.shift = shift;
    this.stride = 1 << shift;
    this.table = new Int32Array(this.entries * this.stride);
    this.answers = this.indexed !== undefined ? [] : new Array<ClassifierRule<T> | undefined>(this.entries).fill(undefined);
    this.evictions = 0;
    this.last = 0;
    this.find = buildCacheFind(this.usedSlots, this.usedMasks, this.stride, this.entries - 1);
  }

  memoryBytes(): number {
    return this.table.byteLength + this.answers.length * 8;
  }
}
