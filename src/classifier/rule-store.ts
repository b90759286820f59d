/**
 * Flat typed-array storage of rules for linear search over records (`linear-flat`), and the slot widths
 * and range cover masks the tuple-space engine also uses. Each rule gets a small integer index; its
 * conditions live in one Int32Array pool as (slot, mask, value) triples followed by range triples
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
  0xffffffff, // CT_STATE
  0xffff, // CT_ZONE
  0xffffffff, // CT_MARK
  0xffffffff, // CONJ_ID
];

/** The longest common prefix mask of lo and hi within a slot's width: every value in [lo, hi] shares it. */
export function rangeCoverMask(lo: number, hi: number, full: number): number {
  const diff = (lo ^ hi) >>> 0;
  if (diff === 0) return full >>> 0;
  const bits = 32 - Math.clz32(diff); // bits below the common prefix
  const below = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
  return (full & ~below) >>> 0;
}

/** Record layout, in Int32 words from the record start (always even, so the f64 view lines up). */
const R_PRI = 0; // f64 at word 0-1
const R_ID = 2; // f64 at word 2-3
const R_NMASK = 4;
const R_NRANGE = 5;
const R_CONDS = 6;

export class RuleStore<T> {
  capacity: number;
  /** Int32 words per rule record; grows (with a re-layout) when a rule needs more conditions. */
  stride: number;
  /**
   * One record per rule index: priority and id (as f64, via `f64`), condition counts and the
   * (slot, mask, value) / (slot, lo, span) triples. Everything a lookup touches for one rule sits in
   * one or two cache lines, where a structure of arrays would cost a miss per array.
   */
  rec: Int32Array;
  f64: Float64Array;
  /** Rule per index (undefined when free). */
  rules: (ClassifierRule<T> | undefined)[] = [];
  private free: number[] = [];
  private next = 0;
  readonly byId = new Map<number, number>();

  constructor(initial = 64, stride = 30) {
    this.capacity = initial;
    this.stride = stride;
    this.rec = new Int32Array(initial * stride);
    this.f64 = new Float64Array(this.rec.buffer);
  }

  get count(): number {
    return this.byId.size;
  }

  priority(r: number): number {
    return this.f64[(r * this.stride + R_PRI) >> 1];
  }
  id(r: number): number {
    return this.f64[(r * this.stride + R_ID) >> 1];
  }

  /** Store a rule's conditions; returns its index. The caller checked the id is new. */
  add(rule: ClassifierRule<T>): number {
    const { value, mask } = rule.match;
    const ranges = rule.ranges ?? [];
    let nm = 0;
    for (let s = 0; s < MATCHABLE_WORDS; s++) if (mask[s] !== 0) nm++;
    const need = (R_CONDS + 3 * (nm + ranges.length) + 1) & ~1;
    if (need > this.stride) this.relayout(this.capacity, need);
    let r: number;
    if (this.free.length > 0) r = this.free.pop() as number;
    else {
      if (this.next === this.capacity) this.relayout(this.capacity * 2, this.stride);
      r = this.next++;
    }
    const o = r * this.stride;
    const c = this.rec;
    this.f64[(o + R_PRI) >> 1] = rule.priority;
    this.f64[(o + R_ID) >> 1] = rule.id;
    c[o + R_NMASK] = nm;
    c[o + R_NRANGE] = ranges.length;
    let p = o + R_CONDS;
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
    this.rules[r] = rule;
    this.byId.set(rule.id, r);
    return r;
  }

  release(r: number): void {
    const rule = this.rules[r];
    if (rule === undefined) return;
    this.byId.delete(rule.id);
    this.rules[r] = undefined;
    this.free.push(r);
  }

  /** Does the rule at index r match the key? The hot-path check. */
  matches(r: number, key: Uint32Array): boolean {
    const c = this.rec;
    const o = r * this.stride;
    let p = o + R_CONDS;
    const em = p + 3 * c[o + R_NMASK];
    for (; p < em; p += 3) if ((key[c[p]] & c[p + 1]) !== c[p + 2]) return false;
    const er = em + 3 * c[o + R_NRANGE];
    for (; p < er; p += 3) if ((key[c[p]] - c[p + 1]) >>> 0 > c[p + 2] >>> 0) return false;
    return true;
  }

  /** Bytes held by the typed arrays (the rule objects themselves belong to the caller). */
  bytes(): number {
    return this.rec.byteLength + this.capacity * 8;
  }

  /** Grow the record array and/or widen every record (rule indices stay valid). */
  private relayout(capacity: number, stride: number): void {
    const out = new Int32Array(capacity * stride);
    const old = this.stride;
    for (let r = 0; r < this.next; r++) out.set(this.rec.subarray(r * old, (r + 1) * old), r * stride);
    this.rec = out;
    this.f64 = new Float64Array(out.buffer);
    this.capacity = capacity;
    this.stride = stride;
  }
}
