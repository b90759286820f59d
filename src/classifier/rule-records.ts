/**
 * Rule records for the tuple-space engine: one Int32Array record per rule, in ONE fixed layout shared
 * by every rule of the classifier, so that code generated for that layout (codegen.ts) reads each
 * condition at a constant offset, with no loop, no slot indirection and no per-rule condition count.
 *
 * The layout lists the slots some rule constrains by value/mask (`mslots`, two words each: mask,
 * value) and the slots some rule constrains by a range (`rslots`, two words each: lo, span). A rule
 * that leaves a listed slot free stores mask 0 / value 0 (always true) or lo 0 / span 0xffffffff
 * (always true). The layout only widens: when a rule brings a new slot, every record is rewritten once
 * and `layoutVersion` moves, which tells the engine to regenerate its per-table code. Real tables use a
 * handful of slots (ClassBench: 5; a softswitch table: in_port, metadata, eth_type, addresses, ports),
 * so a record is 10-30 words and the layout settles after the first few rules.
 *
 * Ranges are tested as ((key - lo) >>> 0) <= span: one unsigned compare, exact for 32-bit values.
 */
import { MATCHABLE_WORDS } from '../flow/index.js';
import type { ClassifierRule } from './classifier.js';
import { SLOT_FULL_MASK, rangeCoverMask } from './rule-store.js';

/** Priority as f64 at words 0-1; id as f64 at words 2-3 (records start at even words). */
export const REC_PRI = 0;
export const REC_ID = 2;
/** Next rule in the bucket chain (owned by the tuple tables). */
export const REC_NEXT = 4;
/** The rule's hash under its table's tuple: lookups compare it before any condition. */
export const REC_HASH = 5;
export const REC_CONDS = 6;

export class RuleRecords<T> {
  capacity: number;
  stride = REC_CONDS;
  rec: Int32Array;
  f64: Float64Array;
  /** Rule per index (undefined when free). */
  rules: (ClassifierRule<T> | undefined)[] = [];
  readonly byId = new Map<number, number>();
  /** The layout: slots with value/mask conditions, slots with range conditions (both ascending). */
  mslots: number[] = [];
  rslots: number[] = [];
  layoutVersion = 0;
  /** Effective (hashable) mask/value per slot of the rule last passed to `effective`: scratch. */
  readonly effMask = new Int32Array(MATCHABLE_WORDS);
  readonly effValue = new Int32Array(MATCHABLE_WORDS);
  private readonly free: number[] = [];
  private next = 0;

  constructor(initial = 64) {
    this.capacity = initial;
    this.rec = new Int32Array(initial * this.stride);
    this.f64 = new Float64Array(this.rec.buffer);
  }

  get count(): number {
    return this.byId.size;
  }

  priority(r: number): number {
    return this.f64[(r * this.stride + REC_PRI) >> 1];
  }
  id(r: number): number {
    return this.f64[(r * this.stride + REC_ID) >> 1];
  }
  getNext(r: number): number {
    return this.rec[r * this.stride + REC_NEXT];
  }
  setNext(r: number, v: number): void {
    this.rec[r * this.stride + REC_NEXT] = v;
  }
  getHash(r: number): number {
    return this.rec[r * this.stride + REC_HASH];
  }
  setHash(r: number, h: number): void {
    this.rec[r * this.stride + REC_HASH] = h;
  }
  /** Word offset, inside a record, of slot s's mask (value follows), or -1 when s is not in the layout. */
  maskOffset(s: number): number {
    const i = this.mslots.indexOf(s);
    return i < 0 ? -1 : REC_CONDS + 2 * i;
  }
  /** Word offset of slot s's range lo (span follows), or -1. */
  rangeOffset(s: number): number {
    const i = this.rslots.indexOf(s);
    return i < 0 ? -1 : REC_CONDS + 2 * this.mslots.length + 2 * i;
  }

  /** Store a rule; returns its index. The caller checked the id is new. */
  add(rule: ClassifierRule<T>): number {
    this.widen(rule);
    let r: number;
    if (this.free.length > 0) r = this.free.pop() as number;
    else {
      if (this.next === this.capacity) this.relayout(this.capacity * 2, this.mslots, this.rslots);
      r = this.next++;
    }
    this.rules[r] = rule;
    this.byId.set(rule.id, r);
    this.write(r);
    return r;
  }

  release(r: number): void {
    const rule = this.rules[r];
    if (rule === undefined) return;
    this.byId.delete(rule.id);
    this.rules[r] = undefined;
    this.free.push(r);
  }

  /**
   * Fill effMask/effValue with what a hash may key on: the value/mask bits, plus the common prefix of
   * each slot's range (every key inside [lo, hi] shares those bits, so they can be hashed and the range
   * checked after). Returns false when the rule can never match (a value bit outside its mask, or
   * ranges on one slot with an empty intersection): such a rule is stored but never linked.
   */
  effective(rule: ClassifierRule<T>): boolean {
    const m = this.effMask;
    const v = this.effValue;
    const { mask, value } = rule.match;
    let live = true;
    for (let s = 0; s < MATCHABLE_WORDS; s++) {
      m[s] = mask[s] | 0;
      v[s] = (value[s] & mask[s]) | 0;
      if (((value[s] & ~mask[s]) | 0) !== 0) live = false;
    }
    for (const g of rule.ranges ?? []) {
      const b = rangeOf(rule, g.slot);
      if (b === undefined) return false;
      const cover = rangeCoverMask(b.lo, b.hi, SLOT_FULL_MASK[g.slot]) | 0;
      // Bits already fixed by value/mask win; a contradiction means the rule never matches anyway.
      v[g.slot] |= b.lo & cover & ~m[g.slot];
      m[g.slot] |= cover;
    }
    return live;
  }

  bytes(): number {
    return this.rec.byteLength;
  }

  /** Add the rule's slots to the layout (rewriting every record) when it brings new ones. */
  private widen(rule: ClassifierRule<T>): void {
    let ms = this.mslots;
    let rs = this.rslots;
    const mask = rule.match.mask;
    for (let s = 0; s < MATCHABLE_WORDS; s++) if (mask[s] !== 0 && !ms.includes(s)) ms = [...ms, s].sort((a, b) => a - b);
    for (const g of rule.ranges ?? []) if (!rs.includes(g.slot)) rs = [...rs, g.slot].sort((a, b) => a - b);
    if (ms !== this.mslots || rs !== this.rslots) this.relayout(this.capacity, ms, rs);
  }

  /** Write rule r's conditions into its record, in the current layout (links and hash untouched). */
  private write(r: number): void {
    const rule = this.rules[r] as ClassifierRule<T>;
    const o = r * this.stride;
    const c = this.rec;
    this.f64[(o + REC_PRI) >> 1] = rule.priority;
    this.f64[(o + REC_ID) >> 1] = rule.id;
    const { mask, value } = rule.match;
    let p = o + REC_CONDS;
    for (const s of this.mslots) {
      c[p] = mask[s] | 0;
      c[p + 1] = (value[s] & mask[s]) | 0;
      p += 2;
    }
    for (const s of this.rslots) {
      const b = rule.ranges === undefined ? undefined : rangeOf(rule, s);
      // No range on this slot: [0, 0xffffffff] always holds. An empty intersection never reaches a
      // table (see `effective`), so its record content does not matter.
      c[p] = b === undefined ? 0 : b.lo | 0;
      c[p + 1] = b === undefined ? -1 : (b.hi - b.lo) | 0;
      p += 2;
    }
  }

  /** Grow the record array and/or change the layout (rule indices, and so chains, stay valid). */
  private relayout(capacity: number, mslots: number[], rslots: number[]): void {
    const stride = (REC_CONDS + 2 * (mslots.length + rslots.length) + 1) & ~1;
    const out = new Int32Array(capacity * stride);
    const old = this.stride;
    const same = mslots === this.mslots && rslots === this.rslots;
    for (let r = 0; r < this.next; r++) {
      if (same) out.set(this.rec.subarray(r * old, (r + 1) * old), r * stride);
      else {
        out[r * stride + REC_NEXT] = this.rec[r * old + REC_NEXT];
        out[r * stride + REC_HASH] = this.rec[r * old + REC_HASH];
      }
    }
    this.rec = out;
    this.f64 = new Float64Array(out.buffer);
    this.capacity = capacity;
    this.stride = stride;
    if (!same) {
      this.mslots = mslots;
      this.rslots = rslots;
      this.layoutVersion++;
      for (let r = 0; r < this.next; r++) if (this.rules[r] !== undefined) this.write(r);
    }
  }
}

/** The intersection of a rule's ranges on one slot (unsigned), or undefined when there is none or it is empty. */
function rangeOf(rule: { ranges?: readonly { slot: number; lo: number; hi: number }[] }, slot: number): { lo: number; hi: number } | undefined {
  let lo = 0;
  let hi = 0xffffffff;
  let any = false;
  for (const g of rule.ranges ?? []) {
    if (g.slot !== slot) continue;
    any = true;
    lo = Math.max(lo, g.lo >>> 0);
    hi = Math.min(hi, g.hi >>> 0);
  }
  return any && lo <= hi ? { lo, hi } : undefined;
}
