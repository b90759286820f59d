import { describe, expect, it } from 'vitest';
import { K, KEY_WORDS, MATCHABLE_WORDS } from '../../src/flow/index.js';
import { CachedClassifier, LinearClassifier, TupleSpaceClassifier, type ClassifierRule } from '../../src/classifier/index.js';
import { BYPASS_MIN_LOOKUPS, BYPASS_WINDOW_MISSES } from '../../src/classifier/flow-cache.js';

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

  it('refuses to wrap a classifier that already holds rules (it would key on none of their bits)', () => {
    const inner = new LinearClassifier<string>();
    inner.insert(rule(1, 1, K.IN_PORT, 5));
    expect(() => new CachedClassifier(inner, 64)).toThrow(expect.objectContaining({ code: 'OVC_ERR_CLASSIFIER_NOT_EMPTY', field: 'inner' }));
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

describe('CachedClassifier sizing', () => {
  it('grows while flows evict each other, keeps its entries when it grows, and never answers wrong', () => {
    const c = new CachedClassifier(new TupleSpaceClassifier<string>('tuplemerge'), 1 << 14);
    const oracle = new LinearClassifier<string>();
    for (let i = 0; i < 64; i++) {
      const r = rule(i, i % 7, K.IP_DST, 0x0a000000 + (i << 8), 0xffffff00);
      c.insert(r);
      oracle.insert(r);
    }
    const start = c.capacity;
    for (let round = 0; round < 3; round++) {
      for (let f = 0; f < 20000; f++) {
        const k = key(K.IP_DST, 0x0a000000 + ((f * 2654435761) >>> 18), [[K.L4_DST, f & 7]]);
        expect(c.lookup(k)?.id).toBe(oracle.lookup(k)?.id);
      }
    }
    expect(start).toBeLessThan(1 << 14);
    expect(c.capacity).toBe(1 << 14);
    expect(c.stats.grows).toBeGreaterThan(0);
    // After growing, the repeated flows hit.
    expect(c.stats.hits).toBeGreaterThan(c.stats.misses);
  });

  it('finds the flows it held before growing right after it grows', () => {
    const c = new CachedClassifier(new TupleSpaceClassifier<string>('tuplemerge'), 1 << 16);
    for (let i = 0; i < 64; i++) c.insert(rule(i, i, K.IP_DST, 0x0a000000 + (i << 8), 0xffffff00));
    const flow = (f: number) => key(K.IP_DST, 0x0a000000 + (f & 0x3fff) * 256 + 1, [[K.L4_DST, f >>> 14]]);
    let f = 0;
    const recent: number[] = [];
    while (c.stats.grows === 0) {
      c.lookup(flow(f));
      recent.push(f++);
      if (recent.length > 101) recent.shift();
    }
    // The last lookup made the cache grow (and was not stored); the 100 before it were moved over.
    recent.pop();
    const hits = c.stats.hits;
    for (const g of recent) c.lookup(flow(g));
    // A few of them may have displaced each other before the grow; a rehash to the wrong places would lose all.
    expect(c.stats.hits - hits).toBeGreaterThanOrEqual(90);
  });

  it('stays small for a table with few flows', () => {
    const c = new CachedClassifier(new TupleSpaceClassifier<string>('tuplemerge'));
    c.insert(rule(1, 1, K.IN_PORT, 5));
    for (let i = 0; i < 10000; i++) c.lookup(key(K.IN_PORT, i & 15));
    expect(c.stats.grows).toBe(0);
    expect(c.capacity).toBeLessThan(c.maxEntries);
  });
});

describe('CachedClassifier stepping aside', () => {
  /** 64 /24 rules on IP_DST; the cache keys on the top 24 bits, so `i << 8` is a new flow for every i. */
  function setUp(maxEntries = 1 << 12): { c: CachedClassifier<string>; oracle: LinearClassifier<string> } {
    const c = new CachedClassifier(new TupleSpaceClassifier<string>('tuplemerge'), maxEntries);
    const oracle = new LinearClassifier<string>();
    for (let i = 0; i < 64; i++) {
      const r = rule(i, i % 5, K.IP_DST, i << 8, 0xffffff00);
      c.insert(r);
      oracle.insert(r);
    }
    return { c, oracle };
  }
  const flow = (i: number) => key(K.IP_DST, (i << 8) >>> 0);

  it('stands aside when nothing repeats once it is full and warm, answering right all along', () => {
    const { c, oracle } = setUp();
    // Warm-up (as many misses as entries, once grown to the maximum) and one judged window, all new flows.
    let i = 0;
    while (!c.bypassing && i < 4 * BYPASS_WINDOW_MISSES + (1 << 14)) {
      expect(c.lookupId(flow(i))).toBe(oracle.lookup(flow(i))?.id ?? -1);
      i++;
    }
    expect(c.bypassing).toBe(true);
    expect(c.capacity).toBe(c.maxEntries);
    // Not before the cache was warm: at least half its entries plus one window of misses.
    expect(i).toBeGreaterThanOrEqual(c.maxEntries / 2 + BYPASS_WINDOW_MISSES);
    const before = c.stats.bypassed;
    for (let j = 0; j < 1000; j++) expect(c.lookup(flow(i + j))?.id).toBe(oracle.lookup(flow(i + j))?.id);
    expect(c.stats.bypassed - before).toBe(1000);
    // Rule changes still reach the answers while it stands aside (it asks the classifier).
    c.insert(rule(999, 100, K.IP_DST, 7 << 8, 0xffffff00));
    expect(c.lookup(flow(7))?.id).toBe(999);
    expect(c.bypassing).toBe(true);
  });

  it('comes back after its span, and stays while flows repeat', () => {
    const { c } = setUp();
    let i = 0;
    while (!c.bypassing) c.lookupId(flow(i++));
    for (let j = 0; j < BYPASS_MIN_LOOKUPS; j++) c.lookupId(flow(j & 255));
    expect(c.bypassing).toBe(false);
    // 256 flows in a 4K direct-mapped cache: nearly all hit (a few pairs share a bucket), all far hits.
    const hits = c.stats.hits;
    for (let j = 0; j < 200_000; j++) c.lookupId(flow(j & 255));
    expect(c.bypassing).toBe(false);
    expect(c.stats.hits - hits).toBeGreaterThan(180_000);
  });

  it('keeps caching when far flows repeat, and counts only far hits as worth it', () => {
    const { c } = setUp();
    // Each new flow comes twice in a row (a repeat of the previous packet: not worth a cache), then
    // the flow from 200 flows back (a far hit, unless evicted): ~90% far hits per miss, above the bar.
    for (let n = 0; n < 400_000; n++) {
      c.lookupId(flow(n));
      c.lookupId(flow(n));
      if (n >= 200) c.lookupId(flow(n - 200));
    }
    expect(c.capacity).toBe(c.maxEntries);
    expect(c.stats.bypassed).toBe(0);
    // Without the far flows, the repeats alone do not keep it in.
    const { c: d } = setUp();
    for (let n = 0; n < 400_000 && !d.bypassing; n++) {
      d.lookupId(flow(n));
      d.lookupId(flow(n));
    }
    expect(d.bypassing).toBe(true);
  });

  it('forget ends a bypass; an invalidation does not', () => {
    const { c } = setUp();
    let i = 0;
    while (!c.bypassing) c.lookupId(flow(i++));
    c.invalidate();
    expect(c.bypassing).toBe(true);
    c.forget();
    expect(c.bypassing).toBe(false);
    // The next lookup goes through the (emptied) cache again: a miss, not a bypass.
    const { misses, bypassed } = c.stats;
    expect(c.lookup(flow(3))?.id).toBe(3);
    expect(c.stats.misses).toBe(misses + 1);
    expect(c.stats.bypassed).toBe(bypassed);
  });
});

describe('rules that can never match', () => {
  it('are counted and removable but never returned (value outside mask, empty range intersection)', () => {
    for (const c of [new TupleSpaceClassifier<string>('tuplemerge'), new CachedClassifier(new TupleSpaceClassifier<string>('tuplemerge'), 64)]) {
      const bad = rule(1, 9, K.IN_PORT, 0x105, 0xff);
      const empty: ClassifierRule<string> = {
        ...rule(2, 9, K.IN_PORT, 5),
        ranges: [
          { slot: K.L4_DST, lo: 10, hi: 20 },
          { slot: K.L4_DST, lo: 30, hi: 40 },
        ],
      };
      c.insert(bad);
      c.insert(empty);
      c.insert(rule(3, 1, K.IN_PORT, 5));
      expect(c.size).toBe(3);
      expect(c.lookup(key(K.IN_PORT, 5, [[K.L4_DST, 15]]))?.id).toBe(3);
      expect(c.lookup(key(K.IN_PORT, 5, [[K.L4_DST, 35]]))?.id).toBe(3);
      expect(c.remove(2)).toBe(true);
      expect(c.remove(1)).toBe(true);
      expect(c.size).toBe(1);
    }
  });
});
