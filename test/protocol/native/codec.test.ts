import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIELD_NAMES } from '../../../src/flow/index.js';
import {
  FIELD_WIRE,
  FrameDecoder,
  MAX_FRAME_BYTES,
  decodeFramed,
  decodeMessage,
  encodeMessage,
  encodePayload,
  isMalformed,
  type Msg,
} from '../../../src/protocol/index.js';
import { overcast } from '../../../src/protocol/native/generated/overcast.js';
import { SAMPLE_MESSAGES as samples } from './sample-messages.js';

function plain(m: unknown): unknown {
  if (m instanceof Uint8Array) return [...m];
  if (Array.isArray(m)) return m.map(plain);
  if (m && typeof m === 'object') return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, plain(v)]));
  return m;
}

describe('native codec', () => {
  it.each(samples.map((m) => [m.type, m] as const))('round-trips %s', (_t, m) => {
    const decoded = decodeFramed(encodeMessage(m));
    expect(plain(decoded)).toEqual(plain(m));
  });

  it('covers every message type', () => {
    const types = new Set(samples.map((m) => m.type));
    expect(types.size).toBe(29);
  });

  it('gives every flow field a distinct wire number', () => {
    const numbers = FIELD_NAMES.map((f) => FIELD_WIRE[f]);
    expect(new Set(numbers).size).toBe(FIELD_NAMES.length);
  });

  it('reports garbage as malformed, never throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = decodeMessage(bytes);
        if (isMalformed(r)) expect(r.code).toBe('OVC_ERR_PROTO_MALFORMED');
      }),
      { numRuns: 2000 },
    );
  });

  it('reports mutated valid messages as malformed or decodes them, never throwing', () => {
    const payloads = samples.map(encodePayload);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: payloads.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (i, pos, byte) => {
        const p = Uint8Array.from(payloads[i]);
        if (p.length > 0) p[pos % p.length] = byte;
        decodeMessage(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('reports an empty envelope and an unknown field number as malformed', () => {
    const r = decodeMessage(new Uint8Array(0));
    expect(isMalformed(r) && r.code).toBe('OVC_ERR_PROTO_MALFORMED');
    const unknownField = overcast.native.Message.encode({ xid: 1, flowMod: { flow: { match: [{ field: 99 as overcast.native.Field, value: 1 }] } } }).finish();
    const r2 = decodeMessage(unknownField);
    expect(isMalformed(r2) && r2.code).toBe('OVC_ERR_PROTO_MALFORMED');
    const noFlow = overcast.native.Message.encode({ xid: 1, flowMod: {} }).finish();
    const r3 = decodeMessage(noFlow);
    expect(isMalformed(r3) && r3.code).toBe('OVC_ERR_PROTO_MALFORMED');
    const noAction = overcast.native.Message.encode({ xid: 1, packetOut: { actions: [{}] } }).finish();
    const r4 = decodeMessage(noAction);
    expect(isMalformed(r4) && r4.code).toBe('OVC_ERR_PROTO_MALFORMED');
  });

  it('refuses to encode a message beyond the frame limit', () => {
    expect(() => encodeMessage({ type: 'echoRequest', xid: 1, data: new Uint8Array(MAX_FRAME_BYTES + 1) })).toThrow(
      expect.objectContaining({ code: 'OVC_ERR_PROTO_OVERSIZED' }),
    );
  });

  it('decodes a stream split at every byte boundary', () => {
    const stream = Buffer.concat(samples.map(encodeMessage));
    const dec = new FrameDecoder();
    const out: Msg[] = [];
    for (let i = 0; i < stream.length; i += 7) {
      for (const ev of dec.push(stream.subarray(i, i + 7))) {
        expect(ev.type).toBe('frame');
        if (ev.type === 'frame') {
          const m = decodeMessage(ev.frame);
          if (!isMalformed(m)) out.push(m);
        }
      }
    }
    expect(out.map((m) => m.type)).toEqual(samples.map((m) => m.type));
    expect(dec.pendingBytes).toBe(0);
  });
});
