/**
 * Fuzzing the OpenFlow 1.3 decoder and frame splitter (property-based, fast-check): random bytes and
 * mutated valid messages (with a consistent header length, and without) never make decodeOf13 throw;
 * what it cannot read is a typed refusal (Malformed with an error code, and the header's xid when
 * there was one). The splitter never throws on any byte stream cut anywhere: it yields whole frames of
 * a legal length, holds less than one frame, and a bad length ends the stream with a typed error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/errors/index.js';
import { OFP_HEADER_LEN, OFP_MAX_MESSAGE_LEN, createOf13FrameSplitter, decodeOf13, encodeOf13 } from '../../../src/protocol/openflow13/index.js';
import { mutatedArb } from '../../support/mutations.js';
import { SAMPLE_MESSAGES } from './sample-messages.js';

const valid = SAMPLE_MESSAGES.map((m) => encodeOf13(m));

function decodesOrRefuses(frame: Buffer): void {
  const m = decodeOf13(frame);
  expect(typeof m.type).toBe('string');
  if (m.type !== 'malformed') return;
  expect(Object.hasOwn(ERROR_CODES, m.code)).toBe(true);
  expect(m.reason.length).toBeGreaterThan(0);
  if (frame.length >= OFP_HEADER_LEN) expect(m.xid).toBe(frame.readUInt32BE(4));
}

/** The header's length made to agree with the bytes, as the splitter would hand them over. */
function withLength(b: Buffer): Buffer {
  if (b.length >= 4 && b.length <= OFP_MAX_MESSAGE_LEN) b.writeUInt16BE(b.length, 2);
  return b;
}

describe('OpenFlow 1.3 decoder fuzzing', () => {
  it('random bytes with an OpenFlow 1.3 header: decoded or a typed refusal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 600 }), fc.integer({ min: 0, max: 40 }), (bytes, type) => {
        const b = Buffer.from(bytes);
        b[0] = 4;
        b[1] = type;
        decodesOrRefuses(withLength(b));
      }),
      { numRuns: 5000 },
    );
  });

  it('random bytes as they come: decoded or a typed refusal', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodesOrRefuses(Buffer.from(bytes))), { numRuns: 3000 });
  });

  it('mutated valid messages, length fixed up or not: decoded or a typed refusal', () => {
    fc.assert(
      fc.property(mutatedArb(valid), fc.boolean(), (b, fix) => decodesOrRefuses(fix ? withLength(b) : b)),
      { numRuns: 8000 },
    );
  });
});

describe('OpenFlow 1.3 frame splitter fuzzing', () => {
  it('any byte stream cut anywhere: legal frames only, bounded holding, a typed error on a bad length', () => {
    const streamArb = fc.oneof(
      fc.array(mutatedArb(valid).map(withLength), { maxLength: 6 }).map((fs) => Buffer.concat(fs)),
      fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(streamArb, fc.array(fc.nat(), { maxLength: 16 }), (stream, cuts) => {
        const points = [...new Set([0, ...cuts.map((c) => c % (stream.length + 1)), stream.length])].sort((a, b) => a - b);
        const splitter = createOf13FrameSplitter();
        let consumed = 0;
        for (let i = 1; i < points.length; i++) {
          const r = splitter.push(stream.subarray(points[i - 1], points[i]));
          for (const f of r.frames) {
            expect(f.length).toBe(f.readUInt16BE(2));
            expect(f.length).toBeGreaterThanOrEqual(OFP_HEADER_LEN);
            decodesOrRefuses(f);
            consumed += f.length;
          }
          if (r.error) {
            expect(Object.hasOwn(ERROR_CODES, r.error.code)).toBe(true);
            return;
          }
          expect(splitter.pending).toBeLessThan(OFP_MAX_MESSAGE_LEN);
          expect(consumed + splitter.pending).toBe(points[i]);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
