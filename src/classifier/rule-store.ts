/**
 * Flat typed-array storage of rules for the hashed classifiers. Each rule gets a small integer index;
 * its conditions live in one Int32Array pool as (slot, mask, value) triples followed by range triples
 * (slot, lo, span), so checking a rule against a key is a tight loop over typed arrays with no object
 * reads, and a lookup allocates nothing.
 *
 * Ranges are tested as ((key - lo) >>> 0) <= span, one unsigned compare that is exact for 32-bit
 * values stored in signed Int32 slots.
 */
import { MATCHABLE_WORDS } from '../flow/index.js';
import type { ClassifierRule } from './classifier.js';

/**
 * Full-width mask per packet-key slot: a mask that covers the whole field is "exact" and is never
 * relaxed by tuple merging (relaxing an exact port or protocol buys nothing and blurs the hash).
 */
export const SLOT_FULL_MASK: readonly number[] = [
  0xffffffff, // IN_PORT
  0xffffffff, // METADATA
  0xffffffff, // TUNNEL_ID
  0xffff, // ETH_SRC_HI
  0xffffffff, // ETH_SRC_LO
  0xffff, // ETH_DST_HI
  0xffffffff, // ETH_DST_LO
  0xffff, // ETH_TYPE
  0x1fff, // VLAN_VID
  0x7, // VLAN_PCP
  0xffffffff, // IP_SRC
  0xffffffff, // IP_DST
  0xff, // IP_PROTO (the ARP opcode shares it with 16 bits; such masks count as partial)
  0x3f, // IP_DSCP
  0xff, // IP_TTL
  0xffff, // L4_SRC
  0xffff, // L4_DST
  0xfff, // TCP_FLAGS
  0xffff, // ARP_SHA_HI
  0xffffffff, // ARP_SHA_LO
  0xffff, // ARP_THA_HI
  0xffffffff, // ARP_THA_LO
];

/** The longest common prefix mask of lo and hi within a slot's width: every value in [lo, hi] shares it. */
export function rangeCoverMask(lo: number, hi: number, full: number): number {
  const diff = (lo ^ hi) >>> 0;
  if (diff === 0) return full >>> 0;
  const bits = 32 - Math.clz32(diff); // bits below the common prefix
  const below = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
  return (full & ~below) >>> 0;
}

export class RuleStore<T> {
  capacity: number;
  /** Rule per index (undefined when free). */
  rules: (ClassifierRule<T> | undefined)[] = [];
  priority: Float64Array;
  id: Float64Array;
  condStart: Int32Array;
  nMask: Uint8Array;
  nRange: Uint8Array;
  conds: Int32Array;
  condEnd = 0;
  private condGarbage = 0;
  private free: number[] = [];
  private next = 0;
  readonly byId = new Map<number, number>();
  /** Effective (hashable) mask/value per slot of the rule last passed to `effective`: scratch. */
  readonly effMask = new Int32Array(MATCHABLE_WORDS);
  readonly effValue = new Int32Array(MATCHABLE_WORDS);

  constructor(initial = 64) {
    this.capacity = initial;
    this.priority = new Float64Array(initial);
    this.id = new Float64Array(initial);
    this.condStart = new Int32Array(initial);
    this.nMask = new Uint8Array(initial);
    this.nRange = new Uint8Array(initial);
    this.conds = new Int32Array(initial * 9);
  }

  get count(): number {
    return this.byId.size;
  }

  /** Store a rule's conditions; returns its index. The caller checked the id is new. */
  add(rule: ClassifierRule<T>): number {
    let r: number;
    if (this.free.length > 0) r = this.free.pop() as number;
    else {
      if (this.next === this.capacity) this.grow();
      r = this.next++;
    }
    const { value, mask } = rule.match;
    const ranges = rule.ranges ?? [];
    let nm = 0;
    for (let s = 0; s < MATCHABLE_WORDS; s++) if (mask[s] !== 0) nm++;
    const need = 3 * (nm + ranges.length);
    if (this.condEnd + need > this.conds.length) this.compactOrGrow(need);
    let p = this.condEnd;
    this.condStart[r] = p;
    const c = this.conds;
    for (let s = 0; s < MATCHABLE_WORDS; s++) {
      if (mask[s] === 0) continue;
      c[p] = s;
      c[p + 1] = mask[s] | 0;
      c[p + 2] = (value[s] & mask[s]) | 0;
      p += 3;
    }
    for (const g of ranges) {
      c[p] = g.slot;
      c[p + 1] = g.lo | 0;
      c[p + 2] = (g.hi - g.lo) | 0;
      p += 3;
    }
    this.condEnd = p;
    this.nMask[r] = nm;
    this.nRange[r] = ranges.length;
    this.priority[r] = rule.priority;
    this.id[r] = rule.id;
    this.rules[r] = rule;
    this.byId.set(rule.id, r);
    return r;
  }

  release(r: number): void {
    const rule = this.rules[r];
    if (rule === undefined) return;
    this.byId.delete(rule.id);
    this.rules[r] = undefined;
    this.condGarbage += 3 * (this.nMask[r] + this.nRange[r]);
    this.nMask[r] = 0;
    this.nRange[r] = 0;
    this.free.push(r);
  }

  /** Does the rule at index r match the key? The hot-path check. */
  matches(r: number, key: Uint32Array): boolean {
    const c = this.conds;
    let p = this.condStart[r];
    const em = p + 3 * this.nMask[r];
    for (; p < em; p += 3) if ((key[c[p]] & c[p + 1]) !== c[p + 2]) return false;
    const er = em + 3 * this.nRange[r];
    for (; p < er; p += 3) if ((key[c[p]] - c[p + 1]) >>> 0 > c[p + 2] >>> 0) return false;
    return true;
  }

  /**
   * Fill effMask/effValue with what a hash may key on: the value/mask bits, plus each range's common
   * prefix (every key inside [lo, hi] shares those bits, so they can be hashed and the range checked after).
   */
  effective(r: number): void {
    const m = this.effMask;
    const v = this.effValue;
    m.fill(0);
    v.fill(0);
    const c = this.conds;
    let p = this.condStart[r];
    const em = p + 3 * this.nMask[r];
    for (; p < em; p += 3) {
      m[c[p]] |= c[p + 1];
      v[c[p]] |= c[p + 2];
    }
    const er = em + 3 * this.nRange[r];
    for (; p < er; p += 3) {
      const s = c[p];
      const lo = c[p + 1] >>> 0;
      const hi = (lo + (c[p + 2] >>> 0)) >>> 0;
      const cover = rangeCoverMask(lo, hi, SLOT_FULL_MASK[s]) | 0;
      // Bits already fixed by value/mask win; a contradiction means the rule never matches anyway.
      v[s] |= lo & cover & ~m[s];
      m[s] |= cover;
    }
  }

  /** Bytes held by the typed arrays (the rule objects themselves belong to the caller). */
  bytes(): number {
    return (
      this.priority.byteLength +
      this.id.byteLength +
      this.condStart.byteLength +
      this.nMask.byteLength +
      this.nRange.byteLength +
      this.conds.byteLength +
      this.capacity * 8
    );
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.priority = f64(this.priority);
    this.id = f64(this.id);
    const i32 = new Int32Array(cap);
    i32.set(this.condStart);
    this.condStart = i32;
    const u8a = new Uint8Array(cap);
    u8a.set(this.nMask);
    this.nMask = u8a;
    const u8b = new Uint8Array(cap);
    u8b.set(this.nRange);
    this.nRange = u8b;
    this.capacity = cap;
  }

  /** Deleted rules leave holes in the pool: squeeze them out when they are half of it, else grow. */
  private compactOrGrow(need: number): void {
    const live = this.condEnd - this.condGarbage;
    const size = Math.max(this.conds.length, 2 * (live + need));
    const out = new Int32Array(this.condGarbage * 2 > this.condEnd ? size : Math.max(size, this.conds.length * 2));
    let p = 0;
    for (let r = 0; r < this.next; r++) {
      if (this.rules[r] === undefined) continue;
      const n = 3 * (this.nMask[r] + this.nRange[r]);
      const s = this.condStart[r];
      out.set(this.conds.subarray(s, s + n), p);
      this.condStart[r] = p;
      p += n;
    }
    this.conds = out;
    this.condEnd = p;
    this.condGarbage = 0;
  }
}
