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
 * Direct-mapped, one entry per bucket; misses (no rule) are cached too.
 */
import { MATCHABLE_WORDS } from '../flow/index.js';
import type { Classifier, ClassifierRule } from './classifier.js';
import { SLOT_FULL_MASK } from './rule-store.js';
import { HASH_SEED, mixWord } from './tuple-table.js';

export interface FlowCacheStats {
  hits: number;
  misses: number;
  /** Generation bumps (rule changes) since creation. */
  invalidations: number;
}

/**
 * 64K entries (~2.5 MB for a 5-field key). ClassBench traces reuse half their headers at once and the
 * rest only after 30K-150K other packets; OVS's 8K EMC would catch little more than the first half
 * (its 1M-entry signature cache, SMC, plays the role of the rest).
 */
export const DEFAULT_CACHE_ENTRIES = 1 << 16;

export class CachedClassifier<T> implements Classifier<T> {
  readonly name: string;
  readonly stats: FlowCacheStats = { hits: 0, misses: 0, invalidations: 0 };
  private readonly entries: number;
  private readonly capMask: number;
  /**
   * One record per entry: [hash, generation, result index, masked key words...], padded to `stride`.
   * A hit reads one record (one or two cache lines); separate arrays per column cost a miss each.
   */
  private table = new Int32Array(0);
  private stride = 3;
  /** Results by small index (0 = no match), so a record holds a number, not an object. */
  private results: (ClassifierRule<T> | undefined)[] = [undefined];
  private readonly resultIndex = new Map<ClassifierRule<T>, number>();
  private usedSlots = new Int32Array(0);
  private usedMasks = new Int32Array(0);
  private readonly unionMask = new Int32Array(MATCHABLE_WORDS);
  private generation = 1;

  /** @param entries rounded up to a power of two. */
  constructor(
    readonly inner: Classifier<T>,
    entries = DEFAULT_CACHE_ENTRIES,
  ) {
    this.name = `${inner.name}+cache`;
    let n = 1;
    while (n < entries) n <<= 1;
    this.entries = n;
    this.capMask = n - 1;
    this.rebuildLayout();
  }

  get size(): number {
    return this.inner.size;
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
    // The result index only ever grows with distinct answers; start afresh when it gets large.
    if (this.results.length > 4 * this.entries) {
      this.results = [undefined];
      this.resultIndex.clear();
      this.table.fill(0);
    }
  }

  lookup(key: Uint32Array): ClassifierRule<T> | undefined {
    const slots = this.usedSlots;
    const masks = this.usedMasks;
    const n = slots.length;
    let h = HASH_SEED;
    for (let i = 0; i < n; i++) h = mixWord(h, key[slots[i]] & masks[i]);
    const tab = this.table;
    const o = (h & this.capMask) * this.stride;
    if (tab[o] === h && tab[o + 1] === this.generation) {
      let i = 0;
      while (i < n && tab[o + 3 + i] === (key[slots[i]] & masks[i])) i++;
      if (i === n) {
        this.stats.hits++;
        return this.results[tab[o + 2]];
      }
    }
    this.stats.misses++;
    const r = this.inner.lookup(key);
    tab[o] = h;
    tab[o + 1] = this.generation;
    tab[o + 2] = this.indexOf(r);
    for (let i = 0; i < n; i++) tab[o + 3 + i] = key[slots[i]] & masks[i];
    return r;
  }

  private indexOf(r: ClassifierRule<T> | undefined): number {
    if (r === undefined) return 0;
    let i = this.resultIndex.get(r);
    if (i === undefined) {
      i = this.results.length;
      this.results.push(r);
      this.resultIndex.set(r, i);
    }
    return i;
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
    // Round records to a power of two words so one never straddles more cache lines than it must.
    let stride = 4;
    while (stride < 3 + slots.length) stride <<= 1;
    this.stride = stride;
    this.table = new Int32Array(this.entries * stride);
  }

  memoryBytes(): number {
    return this.table.byteLength + this.results.length * 8;
  }
}
