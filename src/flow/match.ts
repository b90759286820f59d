/**
 * Matches: a set of fields, each an exact value or a value/mask. A missing field is a wildcard.
 * `compileMatch` lowers a match onto packet-key slots (value/mask words), the form classifiers use.
 */
import { OvercastError, type ProblemDetail } from '../errors/index.js';
import { FIELDS, FIELD_NAMES, fullMask, isFieldName, type FieldName } from './fields.js';
import { MATCHABLE_WORDS } from './packet-key.js';

export interface MaskedValue {
  value: number;
  mask: number;
}
export type FieldMatch = number | MaskedValue;
export type Match = { [F in FieldName]?: FieldMatch };

export function fieldValue(m: FieldMatch): number {
  return typeof m === 'number' ? m : m.value;
}
export function fieldMask(field: FieldName, m: FieldMatch): number {
  return typeof m === 'number' ? fullMask(field) : m.mask;
}

/** 48-bit safe AND (JS bitwise operators truncate to 32 bits). */
export function and48(a: number, b: number): number {
  const hi = (Math.floor(a / 0x100000000) & Math.floor(b / 0x100000000)) >>> 0;
  const lo = ((a >>> 0) & (b >>> 0)) >>> 0;
  return hi * 0x100000000 + lo;
}
function andBits(bits: number, a: number, b: number): number {
  return bits > 32 ? and48(a, b) : ((a & b) >>> 0);
}

/**
 * The canonical form: values ANDed with their masks, full masks written as plain numbers, all-zero
 * masks dropped (a zero mask is a wildcard). Two matches that match the same packets have equal
 * canonical forms, so this is the identity used by flow diffs and strict flow-mods.
 */
export function normalizeMatch(match: Match): Match {
  const out: Match = {};
  for (const name of FIELD_NAMES) {
    const m = match[name];
    if (m === undefined) continue;
    const full = fullMask(name);
    const mask = fieldMask(name, m);
    if (mask === 0) continue;
    const value = andBits(FIELDS[name].bits, fieldValue(m), mask);
    out[name] = mask === full ? value : { value, mask };
  }
  return out;
}

/** A stable string for a canonical match: used as a map key by the controller (never per packet). */
export function matchKey(match: Match): string {
  const n = normalizeMatch(match);
  let s = '';
  for (const name of FIELD_NAMES) {
    const m = n[name];
    if (m === undefined) continue;
    s += typeof m === 'number' ? `${name}=${m},` : `${name}=${m.value}/${m.mask},`;
  }
  return s;
}

/** Every problem with a match: unknown fields, values out of range, masks on exact fields, missing prerequisites. */
export function checkMatch(match: Match, path = 'match'): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  const bad = (field: string, message: string) =>
    problems.push({ code: 'OVC_ERR_FLOW_BAD_MATCH', message, field: `${path}.${field}` });
  // Own keys without Object.entries' array per field: a switch checks every flow-mod it is sent.
  for (const name in match) {
    const m = (match as Record<string, FieldMatch | undefined>)[name];
    if (m === undefined) continue;
    if (!isFieldName(name)) {
      bad(name, `unknown match field "${name}"`);
      continue;
    }
    const spec = FIELDS[name];
    const max = fullMask(name);
    const value = fieldValue(m);
    if (!Number.isInteger(value) || value < 0 || value > max) bad(name, `${name} value ${value} does not fit ${spec.bits} bits`);
    if (typeof m !== 'number') {
      if (!spec.maskable) bad(name, `${name} cannot be masked`);
      if (!Number.isInteger(m.mask) || m.mask < 0 || m.mask > max) bad(name, `${name} mask ${m.mask} does not fit ${spec.bits} bits`);
    }
    const pre = spec.prerequisite as { ethType?: number; ipProto?: number };
    if (pre.ethType !== undefined && match.ethType !== pre.ethType) {
      bad(name, `${name} needs ethType 0x${pre.ethType.toString(16).padStart(4, '0')}`);
    }
    if (pre.ipProto !== undefined && match.ipProto !== pre.ipProto) bad(name, `${name} needs ipProto ${pre.ipProto}`);
  }
  return problems;
}

export function assertMatch(match: Match, path = 'match'): void {
  const problems = checkMatch(match, path);
  if (problems.length > 0) throw OvercastError.fromProblems(problems);
}

/**
 * A match lowered onto packet-key slots: a packet key k matches when (k[i] & mask[i]) === value[i] for
 * all i. Read-only: `mask` arrays are shared between matches with the same mask.
 */
export interface CompiledMatch {
  value: Uint32Array;
  mask: Uint32Array;
}

/**
 * Compiled masks, shared: a switch's flows use a few hundred distinct masks at most, and one 22-word
 * array per flow (on a switch of a million flows, ~170 MB) is one too many. Bounded: past
 * MAX_SHARED_MASKS distinct masks, new ones are no longer shared.
 */
const MAX_SHARED_MASKS = 16384;
const sharedMasks = new Map<number, Uint32Array[]>();
let sharedMaskCount = 0;

/** The shared copy of `mask` (which may be scratch space: it is copied before it is kept). */
function sharedMask(mask: Uint32Array): Uint32Array {
  let h = 0;
  for (let i = 0; i < mask.length; i++) h = (Math.imul(h, 31) + mask[i]) | 0;
  const bucket = sharedMasks.get(h);
  if (bucket) {
    for (const m of bucket) {
      let same = true;
      for (let i = 0; i < mask.length && same; i++) same = m[i] === mask[i];
      if (same) return m;
    }
  }
  const kept = mask.slice();
  if (sharedMaskCount >= MAX_SHARED_MASKS) return kept;
  sharedMaskCount++;
  if (bucket) bucket.push(kept);
  else sharedMasks.set(h, [kept]);
  return kept;
}

/** Where compileMatch puts each field: its slots and full mask, by name (no prototype: any key is safe to look up). */
interface FieldSlots {
  hi: number;
  lo: number;
  full: number;
}
const FIELD_SLOTS = new Map<string, FieldSlots>(
  FIELD_NAMES.map((name) => {
    const slots = FIELDS[name].slots;
    return [name, { hi: slots.length === 2 ? slots[0] : -1, lo: slots[slots.length - 1], full: fullMask(name) }];
  }),
);
const scratchMask = new Uint32Array(MATCHABLE_WORDS);

/**
 * The match's fields onto packet-key slots. Walks the match's own keys (a flow fixes a few of the
 * thirty-odd fields) and builds its mask in scratch space, so a flow whose mask is shared, nearly
 * every one, allocates only its value words: a switch's first sync compiles a million of them.
 */
export function compileMatch(match: Match): CompiledMatch {
  const value = new Uint32Array(MATCHABLE_WORDS);
  const mask = scratchMask;
  mask.fill(0);
  for (const name in match) {
    const m = match[name as FieldName];
    if (m === undefined) continue;
    const spec = FIELD_SLOTS.get(name);
    if (spec === undefined) continue;
    const v = typeof m === 'number' ? m : m.value;
    const mk = typeof m === 'number' ? spec.full : m.mask;
    if (spec.hi >= 0) {
      const { hi, lo } = spec;
      mask[hi] |= Math.floor(mk / 0x100000000) & 0xffff;
      mask[lo] |= mk >>> 0;
      value[hi] |= Math.floor(v / 0x100000000) & 0xffff & mask[hi];
      value[lo] |= (v >>> 0) & mask[lo];
    } else {
      const slot = spec.lo;
      mask[slot] |= mk >>> 0;
      value[slot] |= (v & mk) >>> 0;
    }
  }
  return { value, mask: sharedMask(mask) };
}

/** Does a packet key match a compiled match? The reference semantics every classifier must agree with. */
export function keyMatches(key: Uint32Array, cm: CompiledMatch): boolean {
  const { value, mask } = cm;
  for (let i = 0; i < MATCHABLE_WORDS; i++) {
    if (((key[i] & mask[i]) >>> 0) !== value[i]) return false;
  }
  return true;
}

/**
 * Non-strict flow-mod semantics (OpenFlow 1.3 §6.4): a flow is selected by a filter match when the
 * flow's match is at least as specific as the filter, field by field.
 */
export function matchCovers(filter: CompiledMatch, flow: CompiledMatch): boolean {
  for (let i = 0; i < MATCHABLE_WORDS; i++) {
    const fm = filter.mask[i];
    if (((flow.mask[i] & fm) >>> 0) !== fm) return false;
    if (((flow.value[i] & fm) >>> 0) !== filter.value[i]) return false;
  }
  return true;
}
