/**
 * compileMatch walks a match's own keys and builds its mask in scratch space: it must lower every
 * match exactly as the field-by-field definition does, and no result may share the scratch words.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIELDS, FIELD_NAMES, MATCHABLE_WORDS, compileMatch, fullMask, type FieldName, type Match } from '../../src/flow/index.js';

/** The definition: each field of FIELDS in turn, its value and mask onto its slot(s). */
function lowered(match: Match): { value: number[]; mask: number[] } {
  const value = new Array<number>(MATCHABLE_WORDS).fill(0);
  const mask = new Array<number>(MATCHABLE_WORDS).fill(0);
  for (const name of FIELD_NAMES) {
    const m = match[name];
    if (m === undefined) continue;
    const v = typeof m === 'number' ? m : m.value;
    const mk = typeof m === 'number' ? fullMask(name) : m.mask;
    const slots = FIELDS[name].slots;
    if (slots.length === 2) {
      mask[slots[0]] = (mask[slots[0]] | (Math.floor(mk / 2 ** 32) & 0xffff)) >>> 0;
      mask[slots[1]] = (mask[slots[1]] | mk) >>> 0;
      value[slots[0]] = (value[slots[0]] | (Math.floor(v / 2 ** 32) & 0xffff & mask[slots[0]])) >>> 0;
      value[slots[1]] = (value[slots[1]] | ((v >>> 0) & mask[slots[1]])) >>> 0;
    } else {
      mask[slots[0]] = (mask[slots[0]] | mk) >>> 0;
      value[slots[0]] = (value[slots[0]] | (v & mk)) >>> 0;
    }
  }
  return { value, mask };
}

const fieldArb = (name: FieldName) => {
  const full = fullMask(name);
  const n = fc.integer({ min: 0, max: full });
  return FIELDS[name].maskable ? fc.oneof(n, fc.record({ value: n, mask: n })) : n;
};
const matchArb: fc.Arbitrary<Match> = fc.record(Object.fromEntries(FIELD_NAMES.map((name) => [name, fieldArb(name)])), { requiredKeys: [] }) as fc.Arbitrary<Match>;

describe('compileMatch', () => {
  it('lowers any match as the field-by-field definition does (seeded)', () => {
    fc.assert(
      fc.property(matchArb, (match) => {
        const c = compileMatch(match);
        const want = lowered(match);
        expect(Array.from(c.value)).toEqual(want.value);
        expect(Array.from(c.mask)).toEqual(want.mask);
      }),
      { seed: 17, numRuns: 500 },
    );
  });

  it('returns masks that later calls leave alone', () => {
    const a = compileMatch({ metadata: 7, ipv4Dst: { value: 0x0a000000, mask: 0xffffff00 } });
    const before = Array.from(a.mask);
    compileMatch({ ethDst: 0x020000000001, tcpDst: 80, ipProto: 6, ethType: 0x0800 });
    compileMatch({});
    expect(Array.from(a.mask)).toEqual(before);
    expect(compileMatch({ metadata: 9, ipv4Dst: { value: 0x0b000000, mask: 0xffffff00 } }).mask).toBe(a.mask);
  });
});
