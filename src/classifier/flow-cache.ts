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
 *
 * Stepping aside: a cache that has grown all it may and still mostly misses costs more than it saves
 * (every miss pays a probe of a table larger than the CPU's caches on top of the classifier). Such
 * traffic (100k-rule ClassBench traces, a scan, a flood of new flows) is detected by counting, per
 * window of misses, the "far" hits, those not on the previous packet's entry: a repeat of the previous
 * packet is nearly free for the classifier too (its records are still in L1), so only far hits save
 * anything. Under `BYPASS_BELOW` far hits per non-repeat lookup, lookups go straight to the classifier
 * for a while, then the cache is tried again (the span doubling while the traffic stays the same). A
 * cold cache is not judged: after an invalidation or a grow, the first misses (half as many as the
 * cache has entries) only fill it. Half, not all: on traffic the cache does not pay for, the warm-up
 * is where it costs, and traffic it pays for already shows its far hits after half.
 * It is OVS's answer to the same problem (`emc-insert-inv-prob`: insert into the EMC rarely) taken
 * further: there the EMC is still probed on every packet.
 */
import { OvercastError } from '../errors/index.js';
import { MATCHABLE_WORDS } from '../flow/index.js';
import { NO_MATCH, type Classifier, type ClassifierRule } from './classifier.js';
import { CACHE_KEY_OFFSET, buildCacheFill, buildCacheFind, buildCacheRehash, type CacheFillFn, type CacheFindFn } from './codegen.js';

export interface FlowCacheStats {
  hits: number;
  misses: number;
  /** Generation bumps (rule changes) since creation. */
  invalidations: number;
  /** Times the cache grew (it starts small and grows x4 while flows keep evicting each other). */
  grows: number;
  /** Lookups sent straight to the classifier while the cache stood aside (see the module comment). */
  bypassed: number;
}

/** Where a cache starts (entries): small, so a table with few flows costs a few KB. */
export const INITIAL_CACHE_ENTRIES = 1 << 12;

/**
 * The most entries a cache grows to: 64K (2 MB of records for a 5-field key). ClassBench traces at 10k
 * rules hold 44K-101K distinct headers and reuse half of them only after 30K-150K other packets; OVS's
 * 8K EMC would catch little more than the back-to-back half (its 1M-entry signature cache, SMC, plays
 * the role of the rest). A larger cache hits more but is not faster: past a few MB a hit is a trip to
 * memory, no longer much cheaper than the classifier, whose own working set it also pushes out of the
 * CPU's caches; a smaller one judges too few far hits on the 10k sets and stands aside where it pays
 * (docs/classifier.md). Growth is on demand, so small tables never pay for this.
 */
export const DEFAULT_CACHE_ENTRIES = 1 << 16;

/** Misses per judgement of whether the cache pays (see the module comment). */
export const BYPASS_WINDOW_MISSES = 1 << 14;
/**
 * The cache stands aside below this many far hits per lookup that does not repeat the previous packet.
 * The ClassBench 100k traces give 10-31% far hits: there the cache is at best even with the bare
 * classifier and much slower when the host's memory is slow, since a miss pays a trip to memory for
 * the cache's probe on top of the classifier. The 10k traces give 55-85%, where the cache pays
 * (docs/classifier.md).
 */
export const BYPASS_BELOW = 0.4;
/** Lookups a first bypass lasts; each further one in a row doubles it, up to BYPASS_MAX_LOOKUPS. */
export const BYPASS_MIN_LOOKUPS = 1 << 20;
const BYPASS_MAX_LOOKUPS = 1 << 24;

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
  // The counters are plain fields, not an object's: the hit path then writes one field of `this`
  // (already in a register) instead of loading another object first. `stats` gathers them.
  private hits = 0;
  private misses = 0;
  private invalidations = 0;
  private grows = 0;
  private bypassed = 0;
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
  private fill: CacheFillFn = () => undefined;
  private readonly indexed: IndexedClassifier<T> | undefined;
  /** The entry the previous lookup used (see buildCacheFind). */
  private last = 0;
  /** The bypass judgement: this window's misses, its hits on the previous packet's entry, the hits before it. */
  private windowMisses = 0;
  private windowRepeatHits = 0;
  private windowHitsBefore = 0;
  /** Misses since the cache was last emptied or grown: it is judged only once they fill it. */
  private missesSinceCold = 0;
  /** Lookups left to send straight to the classifier, and how long the next bypass lasts. */
  private bypassLeft = 0;
  private bypassSpan = BYPASS_MIN_LOOKUPS;

  /** @param entries the maximum size, rounded up to a power of two (the cache starts smaller and grows). */
  constructor(
    readonly inner: Classifier<T>,
    entries = DEFAULT_CACHE_ENTRIES,
  ) {
    // The cache keys on the bits its rules read, learnt as they are inserted through it: around a
    // classifier that already holds rules it would key on nothing and answer every packet alike.
    if (inner.size > 0) {
      throw new OvercastError('OVC_ERR_CLASSIFIER_NOT_EMPTY', `a flow cache must wrap an empty classifier (${inner.name} holds ${inner.size} rules); insert through the cache`, 'inner');
    }
    this.name = `${inner.name}+cache`;
    let n = 1;
    while (n < entries) n <<= 1;
    this.maxEntries = n;
    this.entries = Math.min(n, INITIAL_CACHE_ENTRIES);
    this.indexed = isIndexed(inner) ? inner : undefined;
    this.rebuildLayout();
    // Stored a second time on purpose: V8 treats a field written only once as a constant and compiles
    // it into the lookup, whose optimized code then dies at the first later write (the first forget()
    // or bypass). A second store here makes the field an ordinary one before any lookup is compiled.
    this.bypassLeft = 0;
  }

  /** The counters, as of now (a new object each call). */
  get stats(): FlowCacheStats {
    return { hits: this.hits, misses: this.misses, invalidations: this.invalidations, grows: this.grows, bypassed: this.bypassed };
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
      // The whole word, not the field's width: a range compares all 32 bits of the key word, so a key
      // word wider than its field (no parser makes one, the contract allows it) must not share an entry
      // with the in-width key of the same low bits.
      const u = this.unionMask[g.slot] | -1;
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
    this.invalidations++;
    if (this.generation === 0x7fffffff) {
      this.table.fill(0);
      this.generation = 0;
    }
    this.generation++;
    this.evictions = 0;
    this.startCold();
  }

  /**
   * Back to the state of a new cache of this size: no entries, and no judgement about the traffic
   * (a bypass under way ends). `invalidate` keeps a bypass going: a rule change says nothing about how
   * the packets repeat. Benchmarks call this between passes so one pass does not learn from another.
   */
  forget(): void {
    this.invalidate();
    this.bypassLeft = 0;
    this.bypassSpan = BYPASS_MIN_LOOKUPS;
  }

  private startCold(): void {
    this.missesSinceCold = 0;
    this.windowMisses = 0;
    this.windowRepeatHits = 0;
    this.windowHitsBefore = this.hits;
  }

  lookup(key: Uint32Array): ClassifierRule<T> | undefined {
    if (this.bypassLeft > 0) return this.bypassRule(key);
    const o = this.find(this.table, this.generation, key, this.last, this.entries - 1);
    const ix = this.indexed;
    if (o >= 0) {
      this.hit(o);
      return ix !== undefined ? ix.ruleAt(this.table[o + 1]) : this.answers[o >> this.shift];
    }
    return ix !== undefined ? ix.ruleAt(this.missIndex(ix, key, ~o)) : this.missRule(key, ~o);
  }

  lookupId(key: Uint32Array): number {
    if (this.bypassLeft > 0) return this.bypassId(key);
    const tab = this.table;
    const o = this.find(tab, this.generation, key, this.last, this.entries - 1);
    if (o < 0) return this.missId(key, ~o);
    this.hit(o);
    const id = tab[o + 2];
    return id !== ID_ELSEWHERE ? id : this.idElsewhere(o);
  }

  private idElsewhere(o: number): number {
    const ix = this.indexed;
    return ix !== undefined ? ix.idAt(this.table[o + 1]) : (this.answers[o >> this.shift]?.id ?? NO_MATCH);
  }

  /** lookupId's miss: one call out of the hit path, whatever the inner classifier. */
  private missId(key: Uint32Array, o: number): number {
    const ix = this.indexed;
    return ix !== undefined ? ix.idAt(this.missIndex(ix, key, o)) : (this.missRule(key, o)?.id ?? NO_MATCH);
  }

  /** Whether the cache is standing aside now (see the module comment). */
  get bypassing(): boolean {
    return this.bypassLeft > 0;
  }

  private hit(o: number): void {
    this.hits++;
    if (o === this.last) this.windowRepeatHits++;
    else this.last = o;
  }

  // The slow paths are kept out of the lookups so the hit paths stay small enough to inline.

  private bypassId(key: Uint32Array): number {
    this.bypassLeft--;
    this.bypassed++;
    return this.inner.lookupId(key);
  }

  private bypassRule(key: Uint32Array): ClassifierRule<T> | undefined {
    this.bypassLeft--;
    this.bypassed++;
    return this.inner.lookup(key);
  }

  /** Count a miss; every BYPASS_WINDOW_MISSES of them, judge whether the cache pays for itself. */
  private countMiss(): void {
    this.misses++;
    if (++this.windowMisses < BYPASS_WINDOW_MISSES) return;
    const farHits = this.hits - this.windowHitsBefore - this.windowRepeatHits;
    // Only a warm cache that may not grow any more is judged: growing is the first answer to misses.
    if (this.entries === this.maxEntries && this.missesSinceCold >= this.entries >> 1) {
      if (farHits < BYPASS_BELOW * (farHits + this.windowMisses)) {
        this.bypassLeft = this.bypassSpan;
        this.bypassSpan = Math.min(BYPASS_MAX_LOOKUPS, this.bypassSpan * 2);
      } else {
        this.bypassSpan = BYPASS_MIN_LOOKUPS;
      }
    }
    this.missesSinceCold += this.windowMisses;
    this.windowMisses = 0;
    this.windowRepeatHits = 0;
    this.windowHitsBefore = this.hits;
  }

  /** A miss with an indexed inner classifier: its answer as a rule index, remembered in the entry. */
  private missIndex(ix: IndexedClassifier<T>, key: Uint32Array, o: number): number {
    this.countMiss();
    const idx = ix.lookupIndex(key);
    this.remember(key, o, idx, undefined);
    return idx;
  }

  /** A miss with any other inner classifier: the rule, remembered beside the entry. */
  private missRule(key: Uint32Array, o: number): ClassifierRule<T> | undefined {
    this.countMiss();
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
    this.fill(tab, o, key);
    if (this.indexed === undefined) this.answers[o >> this.shift] = rule;
  }

  /** Four times the entries, moving the live ones over (a few times in a table's life, O(entries)). */
  private grow(): void {
    const oldTab = this.table;
    const oldAnswers = this.answers;
    const stride = this.stride;
    this.entries = Math.min(this.maxEntries, this.entries * 4);
    this.grows++;
    this.startCold();
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
    this.find = buildCacheFind(this.usedSlots, this.usedMasks, this.stride);
    this.fill = buildCacheFill(this.usedSlots, this.usedMasks);
  }

  memoryBytes(): number {
    return this.table.byteLength + this.answers.length * 8;
  }
}
