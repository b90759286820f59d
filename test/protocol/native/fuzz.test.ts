/**
 * Fuzzing the native channel's decoders (property-based, fast-check): random bytes and mutated valid
 * messages never make decodeMessage throw; what it cannot read is a typed refusal (Malformed with its
 * error code), and what it reads encodes again. The frame decoder never throws on any chunking of any
 * byte stream, never holds more than one frame (within the limit) and one chunk, and reports frames
 * over the limit instead of buffering them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/errors/index.js';
import { FRAME_HEADER_BYTES, FrameDecoder, decodeMessage, encodeMessage, encodePayload, isMalformed, type Msg } from '../../../src/protocol/index.js';
import { mutatedArb } from '../../support/mutations.js';
import { SAMPLE_MESSAGES } from './sample-messages.js';

const payloads = SAMPLE_MESSAGES.map(encodePayload);

/** Decoded (and encodable again) or refused with a declared code; anything else fails the property. */
function decodesOrRefuses(bytes: Uint8Array): void {
  const r = decodeMessage(bytes);
  if (isMalformed(r)) {
    expect(Object.hasOwn(ERROR_CODES, r.code)).toBe(true);
    expect(r.reason.length).toBeGreaterThan(0);
    return;
  }
  expect(typeof r.type).toBe('string');
  encodeOrRefuse(r);
}

/** A decoded message may still carry values no encoder takes (the encoder says so with an OvercastError). */
function encodeOrRefuse(m: Msg): void {
  try {
    encodeMessage(m);
  } catch (e) {
    expect((e as { code?: string }).code).toMatch(/^OVC_ERR_/);
  }
}

describe('native codec fuzzing', () => {
  it('random bytes: decoded or a typed refusal, never a throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), decodesOrRefuses), { numRuns: 3000 });
  });

  it('mutated valid messages: decoded or a typed refusal, never a throw', () => {
    fc.assert(fc.property(mutatedArb(payloads), decodesOrRefuses), { numRuns: 5000 });
  });

  it('the frame decoder: any stream cut anywhere, frames in order, bounded holding, oversized reported', () => {
    const max = 256;
    const frameArb = fc.oneof(
      mutatedArb(payloads).filter((p) => p.length <= max),
      fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.integer({ min: max + 1, max: 0xffffffff }), fc.array(fc.nat(), { maxLength: 12 }), (frames, bigLength, cuts) => {
        const parts = frames.map((p) => {
          const h = Buffer.alloc(FRAME_HEADER_BYTES);
          h.writeUInt32BE(p.length);
          return Buffer.concat([h, p]);
        });
        // One frame over the limit in the middle, whole: reported, skipped, the stream stays in step.
        const big = Buffer.alloc(FRAME_HEADER_BYTES);
        big.writeUInt32BE(bigLength);
        const oversizedWhole = bigLength <= 4096 ? Buffer.concat([big, Buffer.alloc(bigLength)]) : undefined;
        const stream = Buffer.concat(oversizedWhole ? [...parts.slice(0, 1), oversizedWhole, ...parts.slice(1)] : parts);
        const points = [...new Set([0, ...cuts.map((c) => c % (stream.length + 1)), stream.length])].sort((a, b) => a - b);
        const decoder = new FrameDecoder(max);
        const got: Buffer[] = [];
        let oversized = 0;
        for (let i = 1; i < points.length; i++) {
          const chunk = stream.subarray(points[i - 1], points[i]);
          for (const ev of decoder.push(chunk)) {
            if (ev.type === 'frame') {
              got.push(ev.frame);
              decodesOrRefuses(ev.frame);
            } else oversized++;
          }
          expect(decoder.pendingBytes).toBeLessThanOrEqual(FRAME_HEADER_BYTES + max + chunk.length);
        }
        expect(got).toEqual(frames);
        expect(oversized).toBe(oversizedWhole ? 1 : 0);
        expect(decoder.pendingBytes).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('the frame decoder: random byte streams never throw and hold no more than a frame and a chunk', () => {
    const max = 1024;
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const decoder = new FrameDecoder(max);
        for (const c of chunks) {
          for (const ev of decoder.push(c)) if (ev.type === 'frame') decodesOrRefuses(ev.frame);
          expect(decoder.pendingBytes).toBeLessThanOrEqual(FRAME_HEADER_BYTES + max + c.length);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
