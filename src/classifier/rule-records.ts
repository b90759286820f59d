/**
 * Rule records for the tuple-space engine: one Int32Array record per rule, in ONE fixed layout shared
 * by every rule of the classifier, so that code generated for that layout (codegen.ts) reads each
 * condition at a constant offset, with no loop, no slot indirection and no per-rule condition count.
 *
 * A record is [next, hash, priority, id, conditions...]:
 * - `next` links the rule into its table's chain and `hash` is its hash under that table's tuple
 *   (both owned by the tuple tables), with the rule's decisive bit on top (REC_DECISIVE);
 * - priority and id are one int32 word each while every rule's fit ("narrow order"; OpenFlow
 *   priorities are 16-bit and ids small integers), else f64 pairs at even words through a Float64Array
 *   view of the same buffer ("wide order");
 * - the conditions: for each slot some rule constrains by value/mask (`mslots`), mask and value; for
 *   each slot some rule constrains by a range (`rslots`), lo and span. A rule that leaves a listed slot
 *   free stores an always-true condition (mask 0 / value 0; lo 0 / span the whole slot).
 *
 * Narrow slots take one word instead of two: a value/mask slot whose every mask fits 16 bits stores
 * mask << 16 | value, a range slot of a field of 16 bits or less (ports) whose every range ends within
 * it stores span << 16 | lo. The records are the classifier's largest structure and at 100k rules they
 * outgrow the CPU's caches, so their size is lookup speed: narrow order and narrow slots make a
 * ClassBench record 44 bytes instead of 64 (acl1) and 52 instead of 80 (fw1, ipc1: ports both ways).
 * From PREFIX_RECORDS_FROM rules on, up to two wide slots whose masks are all prefixes (addresses)
 * keep one value word and put their prefix lengths in the hash word (`prefixSlots`, REC_HASH): 36 and
 * 44 bytes.
 * A narrow range cannot say "any value" for a key word above its field's width, so lookups check that
 * the key's words on narrow range slots fit their width first (`rangeGuardSlots`); a key that does
 * not (never one parsed from a frame) is answered by a scan of the rules (`TupleSpaceClassifier`).
 *
 * The layout only widens: when a rule brings a new slot, a wider value or a priority or id that needs
 * f64, every record is rewritten once and `layoutVersion` moves, which tells the engine to regenerate
 * its per-table code. Real tables use a handful of slots, so the layout settles after the first rules.
 *
 * Ranges are tested as ((key - lo) >>> 0) <= span: one unsigned compare, exact for 32-bit values.
 */
import { MATCHABLE_WORDS } from '../flow/index.js';
import type { ClassifierRule } from './classifier.js';
import { SLOT_FULL_MASK, rangeCoverMask } from './rule-store.js';
import { isPrefixMask, popcount } from './tuple-table.js';

/** Next rule in the chain (owned by the tuple tables). */
export const REC_NEXT = 0;
/**
 * The rule's hash under its table's tuple (lookups compare it before any condition), and in its top
 * bit whether the rule is decisive (REC_DECISIVE). Without prefix slots, the hash's low 31 bits
 * (REC_HASH_COMPARED); with prefix slots (`prefixSlots`), only its low REC_HASH_BITS, and above them
 * the prefix lengths of up to MAX_PREFIX_SLOTS slots, 6 bits each. The whole hash, which updates need
 * to find a rule's bucket (its top bits), is kept beside the records (`getHash`).
 */
export const REC_HASH = 1;
export const REC_HASH_BITS = 19;
export const REC_HASH_MASK = (1 << REC_HASH_BITS) - 1;
/** The hash bits a record keeps when the layout has no prefix slots. */
export const REC_HASH_COMPARED = 0x7fffffff;
/**
 * The hash word's sign bit: no rule of a table probed after this rule's own both beats it and
 * overlaps it, so a lookup that matches it has its answer (decisive-marks.ts).
 * Generated code tests it as `< 0`.
 */
export const REC_DECISIVE = 1 << 31;
/** Slots whose masks are all prefixes keep a value word here, and their prefix length in the hash word. */
export const MAX_PREFIX_SLOTS = 2;
/**
 * Records store prefixes (`prefixSlots`) once the classifier holds this many rules. Below it the
 * records fit the CPU's caches, and the plain mask word is cheaper to test than a mask read from a
 * table by the length; above it the bytes saved are worth more (docs/classifier.md).
 */
export const PREFIX_RECORDS_FROM = 1 << 14;
/** The mask of each prefix length (0..32): generated conditions index it with the length from the hash word. */
export const PREFIX_MASKS = Int32Array.from({ length: 64 }, (_, len) => (len === 0 ? 0 : len >= 32 ? -1 : -1 << (32 - len)));
/** Priority and id in narrow order: int32 words 2 and 3. */
export const REC_PRI = 2;
export const REC_ID = 3;
/** Priority and id in wide order: f64s at words 2-3 and 4-5, i.e. Float64Array index o/2 + 1 and + 2. */
export const REC_F64_PRI = 1;
export const REC_F64_ID = 2;

/** One condition of the layout: its slot, its word offset in a record, and whether it is packed into one word. */
export interface LayoutSlot {
  slot: number;
  offset: number;
  narrow: boolean;
  /** A prefix slot: one value word, and its prefix length at this bit of the hash word. */
  prefixShift?: number;
}

/** What generated code needs to know of the record layout (codegen.ts). */
export interface RecordLayout {
  stride: number;
  /** Priority and id as f64 pairs (else one int32 word each). */
  wideOrder: boolean;
  masks: LayoutSlot[];
  ranges: LayoutSlot[];
}

/** Does a priority/id pair fit narrow order? */
function orderFits(priority: number, id: number): boolean {
  return (priority | 0) === priority && id <= 0x7fffffff;
}

/** Is a slot of this width narrow enough for a packed range (span and lo in 16 bits each)? */
function narrowField(slot: number): boolean {
  return SLOT_FULL_MASK[slot] <= 0xffff;
}

/** Where the prefix length of the k-th prefix slot sits in the hash word. */
function prefixShift(k: number): number {
  return REC_HASH_BITS + 6 * k;
}

export class RuleRecords<T> {
  capacity: number;
  stride = 4;
  rec: Int32Array;
  f64: Float64Array;
  /** Rule per index (undefined when free). */
  rules: (ClassifierRule<T> | undefined)[] = [];
  readonly byId = new Map<number, number>();
  /** The layout: slots with value/mask conditions, slots with range conditions (both ascending). */
  mslots: number[] = [];
  rslots: number[] = [];
  /** Per slot: some rule constrains it by value/mask, by a range (the sets behind mslots and rslots). */
  private readonly inMask: boolean[] = new Array<boolean>(MATCHABLE_WORDS).fill(false);
  private readonly inRange: boolean[] = new Array<boolean>(MATCHABLE_WORDS).fill(false);
  /** Per slot: its value/mask condition or range is packed into one word (see the module comment). */
  private maskNarrow: boolean[] = new Array<boolean>(MATCHABLE_WORDS).fill(true);
  private rangeNarrow: boolean[] = new Array<boolean>(MATCHABLE_WORDS).fill(true);
  /** Per slot: every mask on it so far is a 32-bit prefix. */
  private readonly maskPrefix: boolean[] = new Array<boolean>(MATCHABLE_WORDS).fill(true);
  /** The value/mask slots stored as prefixes (value word + length in the hash word): the first wide prefix-only ones. */
  prefixSlots: number[] = [];
  /** Whether prefixSlots may be used: from `prefixFrom` rules on, and then for good (see PREFIX_RECORDS_FROM). */
  private prefixOn = false;
  private readonly prefixFrom: number;
  /** Each rule's whole hash (the record keeps its low bits). */
  private hashes: Int32Array;
  wideOrder = false;
  private condsAt = 4;
  layoutVersion = 0;
  /** Effective (hashable) mask/value per slot of the rule last passed to `effective`: scratch. */
  readonly effMask = new Int32Array(MATCHABLE_WORDS);
  readonly effValue = new Int32Array(MATCHABLE_WORDS);
  private readonly free: number[] = [];
  private next = 0;

  constructor(initial = 64, prefixFrom = PREFIX_RECORDS_FROM) {
    this.prefixFrom = prefixFrom;
    this.capacity = initial;
    this.rec = new Int32Array(initial * this.stride);
    this.f64 = new Float64Array(this.rec.buffer);
    this.hashes = new Int32Array(initial);
  }

  get count(): number {
    return this.byId.size;
  }

  priority(r: number): number {
    const o = r * this.stride;
    return this.wideOrder ? this.f64[(o >> 1) + REC_F64_PRI] : this.rec[o + REC_PRI];
  }
  id(r: number): number {
    const o = r * this.stride;
    return this.wideOrder ? this.f64[(o >> 1) + REC_F64_ID] : this.rec[o + REC_ID];
  }
  /** Does rule a beat rule b: a higher priority, or an equal one and a smaller id? */
  beats(a: number, b: number): boolean {
    const pa = this.priority(a);
    const pb = this.priority(b);
    return pa > pb || (pa === pb && this.id(a) < this.id(b));
  }
  getNext(r: number): number {
    return this.rec[r * this.stride + REC_NEXT];
  }
  setNext(r: number, v: number): void {
    this.rec[r * this.stride + REC_NEXT] = v;
  }
  getHash(r: number): number {
    return this.hashes[r];
  }
  setHash(r: number, h: number): void {
    this.hashes[r] = h;
    const o = r * this.stride + REC_HASH;
    const kept = this.prefixSlots.length === 0 ? REC_DECISIVE : ~REC_HASH_MASK;
    this.rec[o] = (this.rec[o] & kept) | (h & ~kept);
  }
  isDecisive(r: number): boolean {
    return this.rec[r * this.stride + REC_HASH] < 0;
  }
  setDecisive(r: number, on: boolean): void {
    const o = r * this.stride + REC_HASH;
    this.rec[o] = on ? this.rec[o] | REC_DECISIVE : this.rec[o] & ~REC_DECISIVE;
  }

  /** The current layout, for code generation. */
  layout(): RecordLayout {
    const masks: LayoutSlot[] = [];
    const ranges: LayoutSlot[] = [];
    let p = this.condsAt;
    for (const slot of this.mslots) {
      const k = this.prefixSlots.indexOf(slot);
      if (k >= 0) {
        masks.push({ slot, offset: p, narrow: false, prefixShift: prefixShift(k) });
        p += 1;
        continue;
      }
      const narrow = this.maskNarrow[slot];
      masks.push({ slot, offset: p, narrow });
      p += narrow ? 1 : 2;
    }
    for (const slot of this.rslots) {
      const narrow = this.rangeNarrow[slot];
      ranges.push({ slot, offset: p, narrow });
      p += narrow ? 1 : 2;
    }
    return { stride: this.stride, wideOrder: this.wideOrder, masks, ranges };
  }

  /** Slots whose key words must fit their field's width for the records' packed ranges to hold. */
  rangeGuardSlots(): number[] {
    return this.rslots.filter((s) => this.rangeNarrow[s]);
  }

  /** Store a rule; returns its index. The caller checked the id is new. */
  add(rule: ClassifierRule<T>): number {
    this.widen(rule);
    let r: number;
    if (this.free.length > 0) r = this.free.pop() as number;
    else {
      if (this.next === this.capacity) this.relayout(this.capacity * 2, false);
      r = this.next++;
    }
    this.rules[r] = rule;
    this.byId.set(rule.id, r);
    // Not decisive until the engine says so (a reused record may still carry its last rule's bit).
    this.rec[r * this.stride + REC_HASH] = 0;
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
    return this.rec.byteLength + this.hashes.byteLength;
  }

  /** Add the rule's slots to the layout, or make the layout wider, rewriting every record, when the rule needs it. */
  private widen(rule: ClassifierRule<T>): void {
    // Called for every insert: the common case (the rule fits the layout) allocates nothing.
    let changed = false;
    const mask = rule.match.mask;
    const value = rule.match.value;
    for (let s = 0; s < MATCHABLE_WORDS; s++) {
      const m = mask[s];
      if (m === 0) continue;
      if (!this.inMask[s]) {
        this.inMask[s] = true;
        changed = true;
      }
      if (this.maskNarrow[s] && ((m | (value[s] & m)) >>> 16) !== 0) {
        this.maskNarrow[s] = false;
        changed = true;
      }
      if (this.maskPrefix[s] && !isPrefixMask(m | 0)) {
        this.maskPrefix[s] = false;
        changed = true;
      }
    }
    const ranges = rule.ranges;
    if (ranges !== undefined) {
      for (let i = 0; i < ranges.length; i++) {
        const g = ranges[i];
        if (!this.inRange[g.slot]) {
          this.inRange[g.slot] = true;
          changed = true;
        }
        // Each range ending within the field keeps the slot packed (then so does their intersection).
        if (this.rangeNarrow[g.slot] && !(narrowField(g.slot) && g.hi >>> 0 <= SLOT_FULL_MASK[g.slot])) {
          this.rangeNarrow[g.slot] = false;
          changed = true;
        }
      }
    }
    if (!this.prefixOn && this.byId.size + 1 >= this.prefixFrom) {
      this.prefixOn = true;
      changed = true;
    }
    if (!this.wideOrder && !orderFits(rule.priority, rule.id)) {
      this.wideOrder = true;
      changed = true;
    }
    if (!changed) return;
    this.mslots = slotsOf(this.inMask);
    this.rslots = slotsOf(this.inRange);
    this.prefixSlots = this.prefixOn ? this.mslots.filter((s) => !this.maskNarrow[s] && this.maskPrefix[s]).slice(0, MAX_PREFIX_SLOTS) : [];
    this.relayout(this.capacity, true);
  }


  /** Write rule r's order and conditions into its record, in the current layout (links and hash untouched). */
  private write(r: number): void {
    const rule = this.rules[r] as ClassifierRule<T>;
    const o = r * this.stride;
    const c = this.rec;
    if (this.wideOrder) {
      this.f64[(o >> 1) + REC_F64_PRI] = rule.priority;
      this.f64[(o >> 1) + REC_F64_ID] = rule.id;
    } else {
      c[o + REC_PRI] = rule.priority;
      c[o + REC_ID] = rule.id;
    }
    const { mask, value } = rule.match;
    let p = o + this.condsAt;
    let lens = 0;
    for (const s of this.mslots) {
      const m = mask[s] | 0;
      const v = (value[s] & mask[s]) | 0;
      const k = this.prefixSlots.indexOf(s);
      if (k >= 0) {
        c[p++] = v;
        lens |= popcount(m) << prefixShift(k);
      } else if (this.maskNarrow[s]) c[p++] = (m << 16) | v;
      else {
        c[p] = m;
        c[p + 1] = v;
        p += 2;
      }
    }
    for (const s of this.rslots) {
      const b = rule.ranges === undefined ? undefined : rangeOf(rule, s);
      // No range on this slot: the whole slot always holds. An empty intersection never reaches a
      // table (see `effective`), so its record content does not matter.
      const lo = b === undefined ? 0 : b.lo;
      if (this.rangeNarrow[s]) c[p++] = ((b === undefined ? SLOT_FULL_MASK[s] : b.hi - lo) << 16) | lo;
      else {
        c[p] = lo | 0;
        c[p + 1] = b === undefined ? -1 : (b.hi - lo) | 0;
        p += 2;
      }
    }
    const decisive = c[o + REC_HASH] & REC_DECISIVE;
    c[o + REC_HASH] = (this.prefixSlots.length === 0 ? this.hashes[r] & REC_HASH_COMPARED : (this.hashes[r] & REC_HASH_MASK) | lens) | decisive;
  }

  /**
   * Grow the record array and/or (`rewrite`) move to the current layout: rule indices, and so chains,
   * stay valid; the links and hashes are carried over and every live record is written again.
   */
  private relayout(capacity: number, rewrite: boolean): void {
    const order = this.wideOrder ? 6 : 4;
    let words = order;
    for (const s of this.mslots) words += this.prefixSlots.includes(s) || this.maskNarrow[s] ? 1 : 2;
    for (const s of this.rslots) words += this.rangeNarrow[s] ? 1 : 2;
    // f64 pairs need records at even words.
    const stride = this.wideOrder ? (words + 1) & ~1 : words;
    const out = new Int32Array(capacity * stride);
    const old = this.stride;
    for (let r = 0; r < this.next; r++) {
      if (!rewrite) out.set(this.rec.subarray(r * old, (r + 1) * old), r * stride);
      else {
        out[r * stride + REC_NEXT] = this.rec[r * old + REC_NEXT];
        out[r * stride + REC_HASH] = this.rec[r * old + REC_HASH];
      }
    }
    this.rec = out;
    this.f64 = new Float64Array(out.buffer);
    if (this.hashes.length < capacity) {
      const hashes = new Int32Array(capacity);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    this.capacity = capacity;
    this.stride = stride;
    if (rewrite) {
      this.condsAt = order;
      this.layoutVersion++;
      for (let r = 0; r < this.next; r++) if (this.rules[r] !== undefined) this.write(r);
    }
  }
}

/** The slots flagged, ascending. */
function slotsOf(flags: readonly boolean[]): number[] {
  const out: number[] = [];
  for (let s = 0; s < flags.length; s++) if (flags[s]) out.push(s);
  return out;
}

/** The intersection of a rule's ranges on one slot (unsigned), or undefined when there is none or it is empty. */
export function rangeOf(rule: { ranges?: readonly { slot: number; lo: number; hi: number }[] }, slot: number): { lo: number; hi: number } | undefined {
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
