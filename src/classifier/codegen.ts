/**
 * Specialised lookup code, generated once per tuple table (and per flow-cache layout), never per packet:
 * Open vSwitch's subtable specialisation in spirit. A generic probe loops over all hashed slots reading
 * slot numbers and masks from arrays, then loops over each rule's conditions the same way; the code
 * generated here hashes exactly the slots the tuple uses with its masks as constants, and checks a rule
 * with one straight line of compares at constant record offsets. A probe alone gains little by it (its
 * cost is the cache misses on buckets and records); what pays is that every table's probe can then be
 * inlined into one function for the whole classifier (`buildFusedLookup`; docs/classifier.md).
 *
 * Safety of `new Function`: the generated source is built only from numbers the classifier computed
 * itself (slot indices, masks, record offsets, all passed through `| 0` or validated as integers); no
 * string from a rule, a packet or a caller reaches it, so there is nothing to inject.
 */
import { HASH_SEED, NO_RULE } from './tuple-table.js';
import {
  PREFIX_MASKS,
  REC_F64_ID,
  REC_F64_PRI,
  REC_HASH,
  REC_HASH_COMPARED,
  REC_HASH_MASK,
  REC_ID,
  REC_NEXT,
  REC_PRI,
  type LayoutSlot,
  type RecordLayout,
} from './rule-records.js';

/** The mixing step of `mixWord` (tuple-table.ts), as source: the generated hashes must equal the generic ones. */
const MUL = 0x9e3779b1 | 0;

function int(x: number): string {
  if (!Number.isInteger(x)) throw new Error(`codegen: not an integer: ${x}`);
  return String(x | 0);
}

/** Source lines computing `h` (declared by the caller) from the key under a tuple (slots and masks as constants). */
export function hashSource(slots: ArrayLike<number>, masks: ArrayLike<number>): string {
  let src = `h = ${int(HASH_SEED)};\n`;
  for (let i = 0; i < slots.length; i++) {
    const m = masks[i] | 0;
    const word = m === -1 ? `key[${int(slots[i])}]` : `(key[${int(slots[i])}] & ${int(m)})`;
    src += `h = Math.imul(h ^ ${word}, ${MUL}); h ^= h >>> 15;\n`;
  }
  return src;
}

/** The table fields a probe reads (TupleTable has them; an interface keeps this file free of the class). */
export interface ProbeTable {
  heads: Int32Array;
  /** A hash's bucket is h >>> shift (tuple-table.ts). */
  shift: number;
}

/**
 * probe(table, rec, f64, key, bestPri, bestId): the index of the best rule of this table matching key
 * that beats (bestPri, bestId), or NO_RULE, or KEY_OUT_OF_WIDTH for a key the packed ranges cannot
 * judge. Chains are best-first, so the walk stops at the first match and at the first rule that cannot win.
 */
export type ProbeFn = (t: ProbeTable, rec: Int32Array, f64: Float64Array, key: Uint32Array, bestPri: number, bestId: number) => number;

/** What a probe needs of the record layout (rule-records.ts `RecordLayout`), plus the slots the key must fit. */
export interface ProbeLayout extends RecordLayout {
  /** Slots whose key words must fit their field's width (packed ranges); [slot, bits outside the width]. */
  guard: [number, number][];
}

/** What a generated lookup returns for a key with a word too wide for a packed range: ask the scan. */
export const KEY_OUT_OF_WIDTH = -2;

/** The rule's priority and id in the record at `o`, as source, in the layout's order format. */
function orderSource(layout: ProbeLayout): { pri: string; id: string } {
  return layout.wideOrder
    ? { pri: `f64[(o >> 1) + ${REC_F64_PRI}]`, id: `f64[(o >> 1) + ${REC_F64_ID}]` }
    : { pri: `rec[o + ${REC_PRI}]`, id: `rec[o + ${REC_ID}]` };
}

/** Source returning KEY_OUT_OF_WIDTH when a key word on a packed range slot is wider than its field. */
function guardSource(layout: ProbeLayout): string {
  if (layout.guard.length === 0) return '';
  const outside = layout.guard.map(([s, bits]) => `(key[${int(s)}] & ${int(bits)})`).join(' | ');
  return `if ((${outside}) !== 0) return ${KEY_OUT_OF_WIDTH};\n`;
}

/**
 * The test a rule met in a chain must pass, as one `&&` expression over the record at `o`: its stored
 * hash first (one compare rejects most strangers), then the conditions on slots the tuple does not hash
 * (those are the ones that reject a rule sharing the packet's hash), the ranges, and last the hashed
 * slots (a rule sharing the hash almost always passes those; they are still checked, since hashes collide).
 * A packed (narrow) condition is one word: mask << 16 | value, or span << 16 | lo.
 */
function ruleTestSource(slots: ArrayLike<number>, layout: ProbeLayout, first: readonly number[] = []): string {
  const hashed = new Set<number>(Array.from(slots));
  // The hash word keeps only the hash's low bits (rule-records.ts REC_HASH): 31, or 19 with prefix slots.
  const prefixes = layout.masks.some((m) => m.prefixShift !== undefined);
  const kept = prefixes ? REC_HASH_MASK : REC_HASH_COMPARED;
  const conds: string[] = [`(rec[o + ${REC_HASH}] & ${int(kept)}) === (h & ${int(kept)})`];
  const word = (off: number) => `rec[o + ${int(off)}]`;
  const maskCond = ({ slot, offset, narrow, prefixShift }: LayoutSlot) =>
    prefixShift !== undefined
      ? `((key[${int(slot)}] ^ ${word(offset)}) & PM[(${word(REC_HASH)} >>> ${int(prefixShift)}) & 63]) === 0`
      : narrow
        ? `(key[${int(slot)}] & (${word(offset)} >>> 16)) === (${word(offset)} & 0xffff)`
        : `(key[${int(slot)}] & ${word(offset)}) === ${word(offset + 1)}`;
  const rangeCond = ({ slot, offset, narrow }: LayoutSlot) =>
    narrow
      ? `((key[${int(slot)}] - (${word(offset)} & 0xffff)) >>> 0) <= (${word(offset)} >>> 16)`
      : `((key[${int(slot)}] - ${word(offset)}) >>> 0) <= (${word(offset + 1)} >>> 0)`;
  // The slots in `first` lead (the rules of a chain differ there, so a stranger fails early), then the rest.
  const rank = (slot: number) => (first.includes(slot) ? first.indexOf(slot) : first.length);
  const unhashed = [
    ...layout.masks.filter((m) => !hashed.has(m.slot)).map((m) => ({ slot: m.slot, src: maskCond(m) })),
    ...layout.ranges.map((g) => ({ slot: g.slot, src: rangeCond(g) })),
  ];
  unhashed.sort((a, b) => rank(a.slot) - rank(b.slot));
  for (const c of unhashed) conds.push(c.src);
  for (const m of layout.masks) if (hashed.has(m.slot)) conds.push(maskCond(m));
  return conds.join('\n    && ');
}

/** Build a table's probe (see ProbeFn). */
export function buildProbe(slots: ArrayLike<number>, masks: ArrayLike<number>, layout: ProbeLayout): ProbeFn {
  const { pri, id } = orderSource(layout);
  const src =
    guardSource(layout) +
    `let h = 0;\n${hashSource(slots, masks)}` +
    `let r = t.heads[h >>> t.shift];\n` +
    `while (r !== ${NO_RULE}) {\n` +
    `  const o = r * ${int(layout.stride)};\n` +
    `  const p = ${pri};\n` +
    `  if (p < bestPri || (p === bestPri && ${id} > bestId)) return ${NO_RULE};\n` +
    `  if (${ruleTestSource(slots, layout)}) return r;\n` +
    `  r = rec[o + ${REC_NEXT}];\n` +
    `}\n` +
    `return ${NO_RULE};\n`;
  return new Function('PM', `return function probe(t, rec, f64, key, bestPri, bestId) {\n${src}};`)(PREFIX_MASKS) as ProbeFn;
}

/** What the fused lookup reads from a table at every call (rehashes and priority changes need no new code). */
export interface FusedTable extends ProbeTable {
  readonly slots: ArrayLike<number>;
  readonly masks: ArrayLike<number>;
  maxPri: number;
  maxId: number;
  /**
   * Slots whose conditions the fused code checks first, best first: where the table's rules differ
   * most (TupleSpaceClassifier picks them when it fuses). Any order is correct; this one is faster.
   */
  selective?: readonly number[];
}

/**
 * The fused lookup hashes the first this-many tables and reads their bucket heads before it probes
 * any: the hashes are independent of each other and of the chain walks, and so are the loads, so the
 * CPU runs them side by side instead of one table after the other behind the walk's branches. A table
 * the early exit then skips wasted a hash and one read of its (small) head array. It gains as much at
 * 1k rules as at 100k, so the overlap is what pays, not memory; hoisting fewer or more tables, or the
 * first records of the chains too, does no better (docs/classifier.md).
 */
export const HOISTED_TABLES = 4;

/** lookup(key, rec, f64): the best rule's index over every table, or NO_RULE (KEY_OUT_OF_WIDTH: see ProbeLayout.guard). */
export type FusedLookupFn = (key: Uint32Array, rec: Int32Array, f64: Float64Array) => number;

/**
 * One function for a whole classifier: every table's probe, in the given (best-first) order, inlined
 * one after the other with the early exit between them. It is much faster than calling each table's
 * own probe in a loop (docs/classifier.md): no call per table (the per-table probes are different
 * closures at one call site, a megamorphic call V8 cannot inline), and the compiler keeps the key
 * words, the record arrays and the best-so-far in registers across tables.
 *
 * A match on a decisive rule (its record's REC_DECISIVE bit, set by the engine) is the answer at once:
 * no rule of a later table can beat it for this packet.
 *
 * The code fixes the table ORDER and the record layout; it reads each table's heads, capacity and best
 * rule at call time, so rehashes and rule changes inside a table need no new code. The engine builds a
 * new one when tables come, go or change places, or the layout widens.
 */
export function buildFusedLookup(tables: readonly FusedTable[], layout: ProbeLayout): FusedLookupFn {
  const { pri, id } = orderSource(layout);
  let body = guardSource(layout) + `let best = ${NO_RULE}, bestPri = -Infinity, bestId = Infinity, h = 0, r = 0, o = 0, p = 0;\n`;
  const hoisted = Math.min(tables.length, HOISTED_TABLES);
  for (let i = 0; i < hoisted; i++) {
    const T = `T${int(i)}`;
    body += hashSource(tables[i].slots, tables[i].masks) + `const h${int(i)} = h, r${int(i)} = ${T}.heads[h >>> ${T}.shift];\n`;
  }
  tables.forEach((t, i) => {
    const T = `T${int(i)}`;
    const bucket = i < hoisted ? `h = h${int(i)}; r = r${int(i)};\n` : `${hashSource(t.slots, t.masks)}r = ${T}.heads[h >>> ${T}.shift];\n`;
    body +=
      `// table ${int(i)}\n` +
      `if (bestPri > ${T}.maxPri || (bestPri === ${T}.maxPri && bestId < ${T}.maxId)) return best;\n` +
      bucket +
      `while (r !== ${NO_RULE}) {\n` +
      `  o = r * ${int(layout.stride)};\n` +
      `  p = ${pri};\n` +
      `  if (p < bestPri || (p === bestPri && ${id} > bestId)) break;\n` +
      `  if (${ruleTestSource(t.slots, layout, t.selective)}) {\n` +
      `    if (rec[o + ${REC_HASH}] < 0) return r;\n` +
      `    best = r; bestPri = p; bestId = ${id}; break;\n` +
      `  }\n` +
      `  r = rec[o + ${REC_NEXT}];\n` +
      `}\n`;
  });
  body += 'return best;\n';
  const names = tables.map((_, i) => `T${int(i)}`);
  return new Function(...names, 'PM', `return function fusedLookup(key, rec, f64) {\n${body}};`)(...tables, PREFIX_MASKS) as FusedLookupFn;
}

/** Words of a cache record before the masked key: generation, answer index, answer id. */
export const CACHE_KEY_OFFSET = 3;

export type CacheFindFn = (tab: Int32Array, generation: number, key: Uint32Array, last: number, capMask: number) => number;

const CACHE_MULS = [0x9e3779b1, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f, 0x165667b1, 0xd3a2646c | 1, 0xfd7046c5, 0xb55a4f09];

/** The cache hash, as source, over words named w0..w(n-1). */
function cacheHashSource(n: number): string {
  let src = `let h = ${int(HASH_SEED)}`;
  for (let i = 0; i < n; i++) src += ` + Math.imul(w${i} ^ (w${i} >>> 16), ${int(CACHE_MULS[i % CACHE_MULS.length] | 0)})`;
  return `${src};\nh ^= h >>> 15; h = Math.imul(h, ${int(0x2c1b3c6d)}); h ^= h >>> 12;\n`;
}

/** rehash(tab, o): the hash `find` computes, from the words stored in the record at o (used to grow the cache warm). */
export type CacheRehashFn = (tab: Int32Array, o: number) => number;

export function buildCacheRehash(n: number): CacheRehashFn {
  let src = '';
  for (let i = 0; i < n; i++) src += `const w${i} = tab[o + ${int(CACHE_KEY_OFFSET + i)}];\n`;
  return new Function('tab', 'o', `${src}${cacheHashSource(n)}return h;\n`) as CacheRehashFn;
}

/** The find functions built so far, by source (see buildCacheFind: one closure per layout). */
const cacheFinds = new Map<string, CacheFindFn>();

/**
 * find(tab, generation, key, last, capMask) for the flow cache: the record offset of key's entry when it
 * holds key under the current generation (a hit), else the bitwise NOT of the offset to fill (a miss).
 * Records are [generation, answer index, answer id, masked words...] of `stride` words, `capMask + 1` of them.
 *
 * One closure per layout, shared by every cache with that layout, and the capacity an argument rather
 * than a constant: V8 inlines a call only while its call site has seen one target (or closures of one
 * function literal), so a new closure each time the cache grows would leave the cache's lookup an
 * out-of-line call for good. The functions are kept by source for the process's life: there are as
 * many as distinct layouts (sets of slots and masks), a handful.
 *
 * `last` is the entry the previous lookup used: it is compared before anything is hashed, because
 * packets come in trains (half of every ClassBench trace repeats the previous header; bursts of one
 * flow do the same on a real port), and a compare of a few words in a record already in L1 is several
 * times cheaper than the hash.
 *
 * The hash itself is not the tuples' chained mix: each word is folded and multiplied by its own odd
 * constant and the products summed, so the multiplies run in parallel instead of one after the other,
 * then one final mix; collisions only cost hit rate, since a hit compares every word.
 */
export function buildCacheFind(slots: ArrayLike<number>, masks: ArrayLike<number>, stride: number): CacheFindFn {
  const words: string[] = [];
  for (let i = 0; i < slots.length; i++) {
    const m = masks[i] | 0;
    words.push(m === -1 ? `(key[${int(slots[i])}] | 0)` : `(key[${int(slots[i])}] & ${int(m)})`);
  }
  const same = (o: string) => [`tab[${o}] === generation`, ...words.map((w, i) => `tab[${o} + ${int(CACHE_KEY_OFFSET + i)}] === w${i}`)].join(' && ');
  // The compare is written once, in a loop of at most two turns (the previous entry, then the hashed
  // one): written out twice, it takes the ClassBench layout's function (5 words) past V8's inlining
  // limit (460 bytes of bytecode).
  let src = words.map((w, i) => `const w${i} = ${w};\n`).join('');
  src += `let o = last, hashed = false;\n`;
  src += `for (;;) {\n`;
  src += `if (${same('o')}) return o;\n`;
  src += `if (hashed) return ~o;\n`;
  src += cacheHashSource(words.length);
  src += `o = (h & capMask) * ${int(stride)};\n`;
  src += `hashed = true;\n`;
  src += `}\n`;
  let find = cacheFinds.get(src);
  if (find === undefined) {
    find = new Function('tab', 'generation', 'key', 'last', 'capMask', src) as CacheFindFn;
    cacheFinds.set(src, find);
  }
  return find;
}

/** fill(tab, o, key): store key's masked words in the record at o (the cache's miss path; one closure per layout). */
export type CacheFillFn = (tab: Int32Array, o: number, key: Uint32Array) => void;

const cacheFills = new Map<string, CacheFillFn>();

export function buildCacheFill(slots: ArrayLike<number>, masks: ArrayLike<number>): CacheFillFn {
  let src = '';
  for (let i = 0; i < slots.length; i++) {
    const m = masks[i] | 0;
    src += `tab[o + ${int(CACHE_KEY_OFFSET + i)}] = ${m === -1 ? `key[${int(slots[i])}]` : `key[${int(slots[i])}] & ${int(m)}`};\n`;
  }
  let fill = cacheFills.get(src);
  if (fill === undefined) {
    fill = new Function('tab', 'o', 'key', src) as CacheFillFn;
    cacheFills.set(src, fill);
  }
  return fill;
}
