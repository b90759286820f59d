import { describe, expect, it } from 'vitest';
import { K, KEY_WORDS, MATCHABLE_WORDS } from '../../src/flow/index.js';
import { CachedClassifier, LinearClassifier, type ClassifierRule } from '../../src/classifier/index.js';

function rule(id: number, priority: number, slot: number, value: number, mask = 0xffffffff): ClassifierRule<string> {
  const v = new Uint32Array(MATCHABLE_WORDS);
  const m = new Uint32Array(MATCHABLE_WORDS);
  v[slot] = value;
  m[slot] = mask;
  return { id, priority, match: { value: v, mask: m }, payload: `r${id}` };
}
function key(slot: number, value: number, extra: [number, number][] = []): Uint32Array {
  const k = new Uint32Array(KEY_WORDS);
  k[slot] = value;
  for (const [s, v] of extra) k[s] = v;
  return k;
}

describe('CachedClassifier', () => {
  it('counts hits and misses, and caches "no match" too', () => {
    const c = new CachedClassifier(new LinearClassifier<string>(), 64);
    c.insert(rule(1, 1, K.IN_PORT, 5));
    expect(c.lookup(key(K.IN_PORT, 5))?.payload).toBe('r1');
    expect(c.lookup(key(K.IN_PORT, 5))?.payload).toBe('r1');
    expect(c.lookup(key(K.IN_PORT, 6))).toBeUndefined();
    expect(c.lookup(key(K.IN_PORT, 6))).toBeUndefined();
    expect(c.stats).toMatchObject({ hits: 2, misses: 2 });
  });

  it('shares one entry between packets that differ only in bits no rule reads', () => {
    const c = new CachedClassifier(new LinearClassifier<string>(), 64);
    c.insert(rule(1, 1, K.IP_DST, 0x0a000000, 0xff000000));
    expect(c.lookup(key(K.IP_DST, 0x0a000001, [[K.L4_SRC, 1]]))?.payload).toBe('r1');
    expect(c.lookup(key(K.IP_DST, 0x0affffff, [[K.L4_SRC, 2]]))?.payload).toBe('r1');
    expect(c.stats.hits).toBe(1);
  });

  it('never answers from before an insert or a remove', () => {
    const c = new CachedClassifier(new LinearClassifier<string>(), 64);
    c.insert(rule(1, 1, K.IN_PORT, 5));
    const k = key(K.IN_PORT, 5, [[K.ETH_TYPE, 0x0800]]);
    expect(c.lookup(k)?.payload).toBe('r1');
    // A better rule on a slot the cache did not key on before: the layout widens and old entries go.
    c.insert(rule(2, 9, K.ETH_TYPE, 0x0800, 0xffff));
    expect(c.lookup(k)?.payload).toBe('r2');
    // A better rule on an already-keyed slot: the generation bump drops the entry.
    c.insert(rule(3, 10, K.IN_PORT, 5));
    expect(c.lookup(k)?.payload).toBe('r3');
    expect(c.remove(3)).toBe(true);
    expect(c.lookup(k)?.payload).toBe('r2');
    expect(c.remove(2)).toBe(true);
    expect(c.remove(1)).toBe(true);
    expect(c.lookup(k)).toBeUndefined();
    expect(c.remove(1)).toBe(false);
    expect(c.size).toBe(0);
  });
});
