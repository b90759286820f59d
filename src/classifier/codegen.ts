/**
 * Specialised lookup code, generated once per tuple table (and per flow-cache layout), never per packet:
 * Open vSwitch's subtable specialisation in spirit. A generic probe loops over all hashed slots reading
 * slot numbers and masks from arrays, then loops over each rule's conditions the same way; the code
 * generated here hashes exactly the slots the tuple uses with its masks as constants, and checks a rule
 * with one straight line of compares at constant record offsets. Measured on ClassBench 10k sets this
 * is what makes the per-probe cost small (docs/classifier.md).
 *
 * Safety of `new Function`: the generated source is built only from numbers the classifier computed
 * itself (slot indices, masks, record offsets, all passed through `| 0` or validated as integers); no
 * string from a rule, a packet or a caller reaches it, so there is nothing to inject.
 */
import { HASH_SEED, NO_RULE } from './tuple-table.js';
import { REC_HASH, REC_NEXT } from './rule-records.js';

/** The mixing step of `mixWord` (tuple-table.ts), as source: the generated hashes must equal the generic ones. */
const MUL = 0x9e3779b1 | 0;

function int(x: number): string {
  if (!Number.isInteger(x)) throw new Error(`codegen: not an integer: ${x}`);
  return String(x | 0);
}

/** Source lines computing `h` from the key under a tuple (slots and masks as constants). */
export function hashSource(slots: ArrayLike<number>, masks: ArrayLike<number>): string {
  let src = `let h = ${int(HASH_SEED)};\n`;
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
  capMask: number;
}

/**
 * probe(table, rec, f64, key, bestPri, bestId): the index of the best rule of this table matching key
 * that beats (bestPri, bestId), or NO_RULE. Chains are best-first, so the walk stops at the first match
 * and at the first rule that cannot win.
 */
export type ProbeFn = (t: ProbeTable, rec: Int32Array, f64: Float64Array, key: Uint32Array, bestPri: number, bestId: number) => number;

export interface ProbeLayout {
  stride: number;
  /** [slot, record offset of its mask] for every value/mask slot of the layout. */
  masks: [number, number][];
  /** [slot, record offset of its lo] for every range slot of the layout. */
  ranges: [number, number][];
}

/**
 * Build a table's probe. Conditions on slots the tuple does not hash come first: a rule met in a
 * chain already shares the packet's hash (compared first, from the record), so the unhashed fields are
 * the ones that reject it.
 */
export function buildProbe(slots: ArrayLike<number>, masks: ArrayLike<number>, layout: ProbeLayout): ProbeFn {
  const hashed = new Set<number>(Array.from(slots));
  const conds: string[] = [`rec[o + ${REC_HASH}] === h`];
  const maskCond = ([s, off]: [number, number]) => `(key[${int(s)}] & rec[o + ${int(off)}]) === rec[o + ${int(off + 1)}]`;
  const rangeCond = ([s, off]: [number, number]) => `((key[${int(s)}] - rec[o + ${int(off)}]) >>> 0) <= (rec[o + ${int(off + 1)}] >>> 0)`;
  for (const m of layout.masks) if (!hashed.has(m[0])) conds.push(maskCond(m));
  for (const g of layout.ranges) conds.push(rangeCond(g));
  for (const m of layout.masks) if (hashed.has(m[0])) conds.push(maskCond(m));
  const src =
    `${hashSource(slots, masks)}` +
    `let r = t.heads[h & t.capMask];\n` +
    `while (r !== ${NO_RULE}) {\n` +
    `  const o = r * ${int(layout.stride)};\n` +
    `  const q = o >> 1;\n` +
    `  const p = f64[q];\n` +
    `  if (p < bestPri || (p === bestPri && f64[q + 1] > bestId)) return ${NO_RULE};\n` +
    `  if (${conds.join('\n    && ')}) return r;\n` +
    `  r = rec[o + ${REC_NEXT}];\n` +
    `}\n` +
    `return ${NO_RULE};\n`;
  return new Function('t', 'rec', 'f64', 'key', 'bestPri', 'bestId', src) as ProbeFn;
}

/**
 * find(tab, generation, key) for the flow cache: the record offset of key's entry when it holds key
 * under the current generation (a hit), else the bitwise NOT of the offset to fill (a miss). Records
 * are [generation, answer, masked words...] of `stride` words, `capMask + 1` of them.
 */
export type CacheFindFn = (tab: Int32Array, generation: number, key: Uint32Array) => number;

export function buildCacheFind(slots: ArrayLike<number>, masks: ArrayLike<number>, stride: number, capMask: number): CacheFindFn {
  const cmp: string[] = ['tab[o] === generation'];
  for (let i = 0; i < slots.length; i++) {
    const m = masks[i] | 0;
    const word = m === -1 ? `(key[${int(slots[i])}] | 0)` : `(key[${int(slots[i])}] & ${int(m)})`;
    cmp.push(`tab[o + ${int(2 + i)}] === ${word}`);
  }
  const src = `${hashSource(slots, masks)}` + `const o = (h & ${int(capMask)}) * ${int(stride)};\n` + `return ${cmp.join(' && ')} ? o : ~o;\n`;
  return new Function('tab', 'generation', 'key', src) as CacheFindFn;
}
