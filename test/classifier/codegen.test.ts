import { describe, expect, it } from 'vitest';
import { K, KEY_WORDS } from '../../src/flow/index.js';
import { CACHE_KEY_OFFSET, buildCacheFill, buildCacheFind } from '../../src/classifier/codegen.js';

describe('flow cache code generation', () => {
  const slots = Int32Array.from([K.IP_SRC, K.IP_DST, K.L4_DST]);
  const masks = Int32Array.from([-1, 0xffffff00 | 0, 0xffff]);
  const stride = 8;

  it('builds one find and one fill per layout, shared by every cache with it (V8 inlines a call site that sees one target)', () => {
    expect(buildCacheFind(slots, masks, stride)).toBe(buildCacheFind(Int32Array.from(slots), Int32Array.from(masks), stride));
    expect(buildCacheFill(slots, masks)).toBe(buildCacheFill(Int32Array.from(slots), Int32Array.from(masks)));
    expect(buildCacheFind(slots, Int32Array.from([-1, -1, 0xffff]), stride)).not.toBe(buildCacheFind(slots, masks, stride));
  });

  it('finds a filled entry at any capacity, and answers the slot to fill on a miss', () => {
    const find = buildCacheFind(slots, masks, stride);
    const fill = buildCacheFill(slots, masks);
    const k = new Uint32Array(KEY_WORDS);
    k[K.IP_SRC] = 0xc0a80001;
    k[K.IP_DST] = 0x0a0000ff;
    k[K.L4_DST] = 0x10050;
    for (const entries of [16, 256]) {
      const tab = new Int32Array(entries * stride);
      const miss = find(tab, 1, k, 0, entries - 1);
      expect(miss).toBeLessThan(0);
      const o = ~miss;
      expect(o % stride).toBe(0);
      expect(o).toBeLessThan(tab.length);
      tab[o] = 1;
      fill(tab, o, k);
      // Stored under the masks: the host byte of the destination and the bits above the port are dropped.
      expect(Array.from(tab.subarray(o + CACHE_KEY_OFFSET, o + CACHE_KEY_OFFSET + 3))).toEqual([0xc0a80001 | 0, 0x0a000000, 0x50]);
      // Found both through the hash (another entry was last) and as the previous entry.
      expect(find(tab, 1, k, o === 0 ? stride : 0, entries - 1)).toBe(o);
      expect(find(tab, 1, k, o, entries - 1)).toBe(o);
      // Another generation does not see it.
      expect(find(tab, 2, k, o, entries - 1)).toBe(~o);
    }
  });
});
