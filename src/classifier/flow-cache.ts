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

export const DEFAULT_CACHE_ENTRIES = 1 << 13;

export class CachedClassifier<T> implements Classifier<T> {
  readonly name: string;
  readonly stats: FlowCacheStats = { hits: 0, misses: 0, invalidations: 0 };
  private readonly capMask: number;
  private readonly gen: Float64Array;
  private readonly hashes: Int32Array;
  private readonly results: (ClassifierRule<T> | undefined)[];
  private keys: Int32Array;
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
    this.capMask = n - 1;
    this.gen = new Float64Array(n);
    this.hashes = new Int32Array(n);
    this.results = new Array<ClassifierRule<T> | undefined>(n).fill(undefined);
    this.keys = new Int32Array(0);
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

  /** Drop every cached answer (O(1)). */
  invalidate(): void {
    this.generation++;
    this.stats.invalidations++;
  }

  lookup(key: Uint32Array): ClassifierRule<T> | undefined {
    const slots = this.usedSlots;
    const masks = this.usedMasks;
    const n = slots.length;
    let h = HASH_SEED;
    for (let i = 0; i < n; i++) h = mixWord(h, key[slots[i]] & masks[i]);
    const e = h & this.capMask;
    const keys = this.keys;
    const base = e * n;
    if (this.gen[e] === this.generation && this.hashes[e] === h) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (keys[base + i] !== (key[slots[i]] & masks[i])) {
          same = false;
          break;
        }
      }
      if (same) {
        this.stats.hits++;
        return this.results[e];
      }
    }
    this.stats.misses++;
    const r = this.inner.lookup(key);
    this.gen[e] = this.generation;
    this.hashes[e] = h;
    for (let i = 0; i < n; i++) keys[base + i] = key[slots[i]] & masks[i];
    this.results[e] = r;
    return r;
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
    this.keys = new Int32Array((this.capMask + 1) * slots.length);
  }

  memoryBytes(): number {
    return this.gen.byteLength + this.hashes.byteLength + this.keys.byteLength + this.results.length * 8;
  }
}
