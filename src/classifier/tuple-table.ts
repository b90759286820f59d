/**
 * One tuple of a tuple-space classifier: a hash table over the key bits selected by a per-slot mask.
 * Rules that agree on those bits share a chain; chains are kept best-first (priority, then id), so the
 * first rule of a chain that matches is the table's answer.
 *
 * Chained hashing over typed arrays: `heads` per bucket, `next` per rule index (owned by the engine,
 * since a rule sits in one table at a time). The bucket count stays a power of two at most half full
 * (a quarter for small tables: tuple-space.ts SPARSE_TABLE_RULES).
 */
export const NO_RULE = -1;

/** Mix one masked key word into a running hash. Low bits of prefixes are zero, so fold high into low. */
export function mixWord(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  return h ^ (h >>> 15);
}
export const HASH_SEED = 0x2545f491;

export class TupleTable {
  readonly slots: Int32Array;
  readonly masks: Int32Array;
  readonly n: number;
  /** Total mask bits: how specific the tuple is (used to choose among compatible tables). */
  readonly bits: number;
  /** A canonical string of the tuple, used only at insert time to find an existing table. */
  readonly signature: string;
  heads: Int32Array;
  /**
   * 32 - log2(buckets): a hash's bucket is its TOP bits (h >>> shift). The top bits of the last
   * multiply depend on every bit of the key; the low bits do not, for tuples of short prefixes: a /8
   * address varies only the top byte of its word, and a multiply carries a bit only upwards, so the
   * low bits would put fw1 1k's table of 88 keys in 2 of its 1024 buckets (tuple-table.test.ts).
   */
  shift: number;
  count = 0;
  /** The best rule's priority and id: lookups skip this table once they hold something better. */
  maxPri = -Infinity;
  maxId = Infinity;
  /**
   * The lowest priority a rule of this table has had since the table was made (not raised when rules
   * leave: a lower bound is all its reader needs). A rule below it beats no rule here.
   */
  minPri = Infinity;
  /** How many of this table's rules are decisive (decisive-marks.ts). */
  decisive = 0;
  /** Every rule of this table is to be decided again (its decisive rules were cleared all at once). */
  markDue = false;
  /** Markings to let pass before that (see TupleSpaceOptions.clearHold: in proportion to `markCost`). */
  markHold = 0;
  /**
   * What deciding this table's rules has cost since it was last queued whole (a unit per decision and
   * per bucket or rule a decision visited): about what marking it whole again will cost.
   */
  markCost = 0;
  /** The engine's removal count when this table was last marked whole. */
  markedRemovals = 0;
  /** The tables split and narrowSplit (tuple-space.ts) moved this table's lists to, for the rules that come later. */
  splitChildren: TupleTable[] = [];
  /** A chain must reach this length before a split is tried again (one that moved nothing doubles it). */
  splitRetryAt = 0;
  /** See codegen.ts FusedTable.selective (set by the engine when it fuses). */
  selective: readonly number[] = [];
  /** Rule indices in this table (dense, swap-remove), to recompute the maximum and to rehash. */
  members: Int32Array;
  /**
   * The lookup for this table, generated for its tuple and the engine's record layout (codegen.ts);
   * set by the engine when the table is created and whenever the record layout changes.
   */
  probe: (t: TupleTable, rec: Int32Array, f64: Float64Array, key: Uint32Array, bestPri: number, bestId: number) => number = () => NO_RULE;

  constructor(mask: Int32Array) {
    const slots: number[] = [];
    const masks: number[] = [];
    let bits = 0;
    for (let s = 0; s < mask.length; s++) {
      if (mask[s] === 0) continue;
      slots.push(s);
      masks.push(mask[s]);
      bits += popcount(mask[s]);
    }
    this.slots = Int32Array.from(slots);
    this.masks = Int32Array.from(masks);
    this.n = slots.length;
    this.bits = bits;
    this.signature = tupleSignature(mask);
    this.heads = new Int32Array(8).fill(NO_RULE);
    this.shift = 29;
    this.members = new Int32Array(8);
  }

  /** The bucket of a hash (generated probes inline the same `h >>> shift`). */
  bucketOf(h: number): number {
    return h >>> this.shift;
  }

  /** Hash of a key under this tuple (the lookup side). */
  hashKey(key: Uint32Array): number {
    let h = HASH_SEED;
    const slots = this.slots;
    const masks = this.masks;
    for (let i = 0; i < this.n; i++) h = mixWord(h, key[slots[i]] & masks[i]);
    return h;
  }

  /** Hash of a rule's effective value under this tuple (the insert side); equals hashKey of any key it matches. */
  hashValue(effValue: Int32Array): number {
    let h = HASH_SEED;
    for (let i = 0; i < this.n; i++) h = mixWord(h, effValue[this.slots[i]] & this.masks[i]);
    return h;
  }

  /** The tuple's mask on a slot (0 when the slot is not hashed). */
  maskOf(slot: number): number {
    for (let i = 0; i < this.n; i++) if (this.slots[i] === slot) return this.masks[i];
    return 0;
  }

  /**
   * How many hash keys of this tuple agree with a rule of effective mask/value `mask`/`value` on the
   * bits it fixes: 2 to the power of the hashed bits the rule leaves free (1 when it fixes them all,
   * as `accepts` says). The rules of this table that may overlap that rule are in those keys' buckets.
   */
  keysMeeting(mask: Int32Array): number {
    let free = 0;
    for (let i = 0; i < this.n; i++) free += popcount(this.masks[i] & ~mask[this.slots[i]]);
    return 2 ** free;
  }

  /**
   * Visit the head of the bucket of each of those keys (`keysMeeting` of them; several keys may share
   * a bucket, which is then visited as often). The free bits are enumerated slot by slot as subsets
   * of each slot's free mask, an odometer over the slots.
   */
  forEachBucketMeeting(mask: Int32Array, value: Int32Array, visit: (head: number) => void): void {
    const n = this.n;
    const fixed = new Int32Array(n);
    const free = new Int32Array(n);
    const cur = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = this.slots[i];
      fixed[i] = value[s] & mask[s] & this.masks[i];
      free[i] = this.masks[i] & ~mask[s];
    }
    for (;;) {
      let h = HASH_SEED;
      for (let i = 0; i < n; i++) h = mixWord(h, fixed[i] | cur[i]);
      visit(this.heads[h >>> this.shift]);
      // Next subset of slot i's free bits ((cur - free) & free counts through them, 0 after the last).
      let i = 0;
      for (; i < n; i++) {
        cur[i] = (cur[i] - free[i]) & free[i];
        if (cur[i] !== 0) break;
      }
      if (i === n) return;
    }
  }

  /** Does a rule with this effective mask fix any bit the tuple does not hash (could it go somewhere more specific)? */
  fixesMore(effMask: Int32Array): boolean {
    for (let s = 0; s < effMask.length; s++) if ((effMask[s] & ~this.maskOf(s)) !== 0) return true;
    return false;
  }

  /** May a rule with this effective mask live here? Only if the tuple asks for no bit the rule leaves free. */
  accepts(effMask: Int32Array): boolean {
    for (let i = 0; i < this.n; i++) {
      const m = this.masks[i];
      if ((effMask[this.slots[i]] & m) !== m) return false;
    }
    return true;
  }
}

export function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Is m a prefix of the 32-bit word (leading ones, then zeros)? 0 is, of length 0. */
export function isPrefixMask(m: number): boolean {
  const inv = ~m;
  return (inv & (inv + 1)) === 0;
}

export function tupleSignature(mask: Int32Array): string {
  let s = '';
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) s += `${i}:${mask[i]},`;
  return s;
}
