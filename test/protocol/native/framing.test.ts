import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, frame, negotiateVersion, versionsToBitmap, bitmapToVersions } from '../../../src/protocol/index.js';

describe('FrameDecoder', () => {
  it('reports an oversized frame once, skips its bytes and keeps the stream in step', () => {
    const dec = new FrameDecoder(16);
    const big = frame(new Uint8Array(40).fill(7));
    const ok = frame(new Uint8Array([1, 2, 3]));
    const events = [...dec.push(big.subarray(0, 10)), ...dec.push(Buffer.concat([big.subarray(10), ok]))];
    expect(events.map((e) => e.type)).toEqual(['oversized', 'frame']);
    expect(events[0]).toEqual({ type: 'oversized', length: 40 });
    expect(events[1].type === 'frame' && [...events[1].frame]).toEqual([1, 2, 3]);
    expect(dec.oversizedCount).toBe(1);
  });

  it('re-frames any sequence of payloads however the stream is chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 10 }), fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1 }), (payloads, cuts) => {
        const stream = Buffer.concat(payloads.map(frame));
        const dec = new FrameDecoder();
        const got: number[][] = [];
        let off = 0;
        let c = 0;
        while (off < stream.length) {
          const n = cuts[c++ % cuts.length];
          for (const ev of dec.push(stream.subarray(off, off + n))) if (ev.type === 'frame') got.push([...ev.frame]);
          off += n;
        }
        expect(got).toEqual(payloads.map((p) => [...p]));
      }),
      { numRuns: 300 },
    );
  });

  it('takes a large frame trickled one byte at a time (joined once, not on every chunk)', () => {
    const payload = new Uint8Array(200_000).fill(3);
    const stream = frame(payload);
    const dec = new FrameDecoder();
    let got: Buffer | undefined;
    for (let i = 0; i < stream.length; i++) {
      for (const ev of dec.push(stream.subarray(i, i + 1))) if (ev.type === 'frame') got = ev.frame;
    }
    expect(got?.length).toBe(payload.length);
    expect(dec.pendingBytes).toBe(0);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 })), (chunks) => {
        const dec = new FrameDecoder(1024);
        for (const c of chunks) dec.push(c);
      }),
      { numRuns: 500 },
    );
  });
});

describe('version negotiation', () => {
  it('picks the highest common version', () => {
    expect(negotiateVersion([1, 2, 5], [2, 5, 7])).toBe(5);
    expect(negotiateVersion([1], [2])).toBeUndefined();
    expect(bitmapToVersions(versionsToBitmap([0, 3, 31]))).toEqual([0, 3, 31]);
  });
});
