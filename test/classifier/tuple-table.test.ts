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
    // (before 2026-12-01) put these 88 in 2.
    expect(buckets.size).toBeGreaterThan(70);
  });
});
