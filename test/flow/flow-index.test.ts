/**
 * FlowIndex keys flows by a hash of their identity instead of a flowKey string: it must behave exactly
 * like a Map keyed by flowKey, whatever form a match takes (exact number, full mask, zero mask, value
 * bits outside the mask, key order) and whatever the hash collides on.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flowIdentityHash, FlowIndex, flowKey, fullMask, type FieldName, type FlowEntry, type Match } from '../../src/flow/index.js';

/** A few fields and values, each in several equivalent spellings. */
const FIELDS: FieldName[] = ['inPort', 'metadata', 'ethDst', 'ethType', 'ipv4Dst', 'mplsLabel'];
const spelling = (field: FieldName, value: number, how: number): Match[FieldName] => {
  const full = fullMask(field);
  switch (how) {
    case 0:
      return value;
    case 1:
      return { value, mask: full };
    case 2:
      return { value: 0, mask: 0 }; // a wildcard
    default:
      // Low bits only, with value bits outside the mask that must not count.
      return field === 'ethDst' ? { value: value + 0x010000000000, mask: 0xffffffff } : { value: value | 0x1000, mask: 0xff };
  }
};
const arbFlow = fc
  .record({
    table: fc.constantFrom(0, 1, 6),
    priority: fc.constantFrom(0, 100),
    fields: fc.subarray(FIELDS),
    value: fc.constantFrom(1, 2, 0x20000000),
    how: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: FIELDS.length, maxLength: FIELDS.length }),
    cookie: fc.constantFrom(1, 2),
    reversed: fc.boolean(),
  })
  .map(({ table, priority, fields, value, how, cookie, reversed }): FlowEntry => {
    const names = reversed ? [...fields].reverse() : fields;
    const match: Match = {};
    names.forEach((f, i) => ((match as Record<string, unknown>)[f] = spelling(f, value, how[i])));
    return { table, priority, match, actions: [], cookie };
  });

describe('FlowIndex', () => {
  it('behaves as a Map keyed by flowKey under any sequence of sets and deletes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), arbFlow), { maxLength: 60 }), (ops) => {
        const index = new FlowIndex();
        const model = new Map<string, FlowEntry>();
        for (const [set, f] of ops) {
          if (set) {
            expect(index.set(f)).toBe(model.get(flowKey(f)));
            model.set(flowKey(f), f);
          } else {
            expect(index.delete(f)).toBe(model.get(flowKey(f)));
            model.delete(flowKey(f));
          }
          expect(index.size).toBe(model.size);
          expect(index.get(f)).toBe(model.get(flowKey(f)));
        }
        expect(new Set(index.values())).toEqual(new Set(model.values()));
      }),
      { numRuns: 500 },
    );
  });

  it('equal identities hash alike; a forced collision still keeps the two flows apart', () => {
    fc.assert(
      fc.property(arbFlow, arbFlow, (a, b) => {
        if (flowKey(a) === flowKey(b)) expect(flowIdentityHash(a)).toBe(flowIdentityHash(b));
      }),
      { numRuns: 2000 },
    );
    // Two flows with one hash (found by search), in one bucket.
    const seen = new Map<number, FlowEntry>();
    let pair: [FlowEntry, FlowEntry] | undefined;
    for (let i = 0; !pair; i++) {
      const f: FlowEntry = { table: 1, priority: 1, match: { inPort: i }, actions: [], cookie: i };
      const h = flowIdentityHash(f);
      const other = seen.get(h);
      if (other) pair = [other, f];
      else seen.set(h, f);
    }
    const index = new FlowIndex(pair);
    expect(index.size).toBe(2);
    expect(index.get(pair[0])).toBe(pair[0]);
    expect(index.delete(pair[1])).toBe(pair[1]);
    expect([...index]).toEqual([pair[0]]);
  });
});
