import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { K, KEY_WORDS, MATCHABLE_WORDS } from '../../src/flow/index.js';
import { TupleTable } from '../../src/classifier/tuple-table.js';

describe('TupleTable buckets', () => {
  it('spreads keys that differ only in the top bits of a short prefix over the buckets', () => {
    // A tuple of /8 source prefixes: the key words differ only in their top byte.
    const mask = new Int32Array(MATCHABLE_WORDS);
    mask[K.IP_SRC] = 0xff000000 | 0;
    const t = new TupleTable(mask);
    t.heads = new Int32Array(1024);
    t.shift = 32 - 10;
    const buckets = new Set<number>();
    const key = new Uint32Array(KEY_WORDS);
    for (let top = 0; top < 88; top++) {
      key[K.IP_SRC] = (top << 24) >>> 0;
      const b = t.bucketOf(t.hashKey(key));
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(1024);
      buckets.add(b);
    }
    // 88 random keys in 1024 buckets land in ~84 distinct ones; a bucket from the hash's low bits
    // would put these 88 in 2.
    expect(buckets.size).toBeGreaterThan(70);
  });
});

describe('TupleTable buckets meeting a rule', () => {
  const SLOTS = [K.IP_SRC, K.IP_DST, K.L4_DST];
  /** A few random bits (at most `max` of them) of a 32-bit mask. */
  const bitsArb = (max: number) => fc.array(fc.nat(31), { maxLength: max }).map((bits) => bits.reduce((m, b) => m | (1 << b), 0));
  it('visits the bucket of every key that agrees with the rule on the bits it fixes, once per key', () => {
    fc.assert(
      fc.property(
        fc.tuple(...SLOTS.map(() => fc.integer())),
        fc.tuple(...SLOTS.map(() => bitsArb(4))),
        fc.tuple(...SLOTS.map(() => fc.integer())),
        fc.array(fc.tuple(...SLOTS.map(() => fc.integer())), { minLength: 1, maxLength: 20 }),
        (tableMasks, openBits, ruleValues, samples) => {
          const mask = new Int32Array(MATCHABLE_WORDS);
          SLOTS.forEach((s, i) => (mask[s] = tableMasks[i] | openBits[i]));
          const t = new TupleTable(mask);
          t.heads = Int32Array.from({ length: 1 << 12 }, (_, i) => i);
          t.shift = 32 - 12;
          // The rule fixes every bit but the chosen open ones (some of which the table may not hash).
          const ruleMask = new Int32Array(MATCHABLE_WORDS).fill(-1);
          const ruleValue = new Int32Array(MATCHABLE_WORDS);
          SLOTS.forEach((s, i) => {
            ruleMask[s] = ~openBits[i];
            ruleValue[s] = ruleValues[i] & ruleMask[s];
          });
          const visited: number[] = [];
          t.forEachBucketMeeting(ruleMask, ruleValue, (head) => visited.push(head));
          expect(visited.length).toBe(t.keysMeeting(ruleMask));
          const open = SLOTS.reduce((n, s) => n + popcountOf(mask[s] & ~ruleMask[s]), 0);
          expect(visited.length).toBe(2 ** open);
          // Keys the rule matches: its value, any bits in the open ones.
          const key = new Uint32Array(KEY_WORDS);
          for (const sample of samples) {
            SLOTS.forEach((s, i) => (key[s] = (ruleValue[s] | (sample[i] & openBits[i])) >>> 0));
            expect(visited).toContain(t.bucketOf(t.hashKey(key)));
          }
        },
      ),
    );
  });
});

/** Bits set, counted apart from tuple-table's `popcount` (which keysMeeting uses), so the count checks it. */
function popcountOf(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}
