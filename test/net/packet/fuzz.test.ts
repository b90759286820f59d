/**
 * Fuzzing the frame parsers (property-based, fast-check): random bytes and mutated valid frames
 * (UDP, TCP, ICMP, ARP, with and without VLAN tags) never make parseFrame, the per-layer parsers or the
 * datapath's extractKey throw. A frame they cannot read is a typed refusal (MalformedFrame naming a layer
 * and a reason; an EXTRACT_* code); what they read stays inside the buffer, and extractKey agrees with
 * parseFrame on the fields both read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXTRACT_BAD_IP, EXTRACT_MPLS_TOO_DEEP, EXTRACT_OK, EXTRACT_TRUNCATED, K, createPacketKey, extractKey } from '../../../src/flow/index.js';
import {
  buildArpReply,
  buildArpRequest,
  buildIcmpEchoFrame,
  buildTcpFrame,
  buildUdpFrame,
  isMalformed,
  parseArp,
  parseFrame,
  parseIcmp,
  parseIpv4Header,
  parseTcp,
  parseUdp,
  type MalformedFrame,
} from '../../../src/net/index.js';
import { mutatedArb } from '../../support/mutations.js';
import { addressingArb, ipArb, macArb, payloadArb, portArb, vlanArb } from './arbitraries.js';

const REASONS = new Set(['truncated', 'bad-version', 'bad-header-length', 'bad-length', 'unsupported']);
const LAYERS = new Set(['ethernet', 'arp', 'ipv4', 'icmp', 'udp', 'tcp']);

const validFrameArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.record({ a: addressingArb, srcPort: portArb, dstPort: portArb, payload: payloadArb }).map(({ a, ...o }) => buildUdpFrame({ ...a, ...o })),
  fc.record({ a: addressingArb, srcPort: portArb, dstPort: portArb, flags: fc.integer({ min: 0, max: 0x1ff }), payload: payloadArb }).map(({ a, ...o }) => buildTcpFrame({ ...a, ...o })),
  fc.record({ a: addressingArb, type: fc.constantFrom('request' as const, 'reply' as const), id: portArb, seq: portArb, payload: payloadArb }).map(({ a, ...o }) => buildIcmpEchoFrame({ ...a, ...o })),
  fc.record({ srcMac: macArb, srcIp: ipArb, targetIp: ipArb, vlan: vlanArb }).map((o) => buildArpRequest(o)),
  fc.record({ srcMac: macArb, srcIp: ipArb, dstMac: macArb, dstIp: ipArb, vlan: vlanArb }).map((o) => buildArpReply(o)),
);

/** A handful of valid frames, the seeds of the mutations. */
const SEEDS: Buffer[] = fc.sample(validFrameArb, { numRuns: 40, seed: 19 });

const anyFrameArb = fc.oneof(validFrameArb, mutatedArb(SEEDS), fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)));

function typedRefusal(m: MalformedFrame): void {
  expect(REASONS.has(m.malformed)).toBe(true);
  expect(LAYERS.has(m.layer)).toBe(true);
}

describe('frame parser fuzzing', () => {
  it('parseFrame: a frame whose parts lie inside the buffer, or a typed refusal', () => {
    fc.assert(
      fc.property(anyFrameArb, (frame) => {
        const r = parseFrame(frame);
        if (isMalformed(r)) return typedRefusal(r);
        expect(r.payloadOffset).toBeGreaterThanOrEqual(0);
        expect(r.payloadOffset).toBeLessThanOrEqual(r.payloadEnd);
        expect(r.payloadEnd).toBeLessThanOrEqual(frame.length);
        expect(r.payload.length).toBe(r.payloadEnd - r.payloadOffset);
      }),
      { numRuns: 5000 },
    );
  });

  it('every layer parser at any offset: a header or a typed refusal, never a throw', () => {
    fc.assert(
      fc.property(anyFrameArb, fc.nat(), fc.nat(), (frame, at, span) => {
        const offset = frame.length === 0 ? 0 : at % (frame.length + 1);
        const end = offset + (span % (frame.length - offset + 1));
        for (const r of [parseArp(frame, offset), parseIpv4Header(frame, offset), parseUdp(frame, offset, end), parseTcp(frame, offset, end), parseIcmp(frame, offset, end)]) {
          if (isMalformed(r)) typedRefusal(r);
          else expect(r.offset).toBe(offset);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('extractKey: an EXTRACT_* code, offsets inside the frame, and the fields parseFrame reads too', () => {
    const key = createPacketKey();
    fc.assert(
      fc.property(anyFrameArb, portArb, (frame, inPort) => {
        const code = extractKey(frame, inPort, 0, key);
        expect([EXTRACT_OK, EXTRACT_TRUNCATED, EXTRACT_BAD_IP, EXTRACT_MPLS_TOO_DEEP]).toContain(code);
        expect(key[K.IN_PORT]).toBe(inPort);
        expect(key[K.L3_OFFSET]).toBeLessThanOrEqual(frame.length);
        if (code !== EXTRACT_OK) return;
        if (key[K.L4_OFFSET] !== 0) expect(key[K.L4_OFFSET] + 4).toBeLessThanOrEqual(frame.length);
        const parsed = parseFrame(frame);
        if (isMalformed(parsed)) return;
        expect(key[K.ETH_TYPE]).toBe(parsed.eth.ethType);
        expect(key[K.ETH_SRC_HI] * 2 ** 32 + key[K.ETH_SRC_LO]).toBe(parsed.eth.src);
        expect(key[K.ETH_DST_HI] * 2 ** 32 + key[K.ETH_DST_LO]).toBe(parsed.eth.dst);
        if (parsed.ip) {
          expect(key[K.IP_SRC]).toBe(parsed.ip.src);
          expect(key[K.IP_DST]).toBe(parsed.ip.dst);
          expect(key[K.IP_PROTO]).toBe(parsed.ip.protocol);
        }
        if (parsed.udp) expect([key[K.L4_SRC], key[K.L4_DST]]).toEqual([parsed.udp.srcPort, parsed.udp.dstPort]);
        if (parsed.tcp) expect([key[K.L4_SRC], key[K.L4_DST]]).toEqual([parsed.tcp.srcPort, parsed.tcp.dstPort]);
      }),
      { numRuns: 5000 },
    );
  });

  it('valid frames parse whole and extract OK', () => {
    const key = createPacketKey();
    fc.assert(
      fc.property(validFrameArb, (frame) => {
        expect(isMalformed(parseFrame(frame))).toBe(false);
        expect(extractKey(frame, 1, 0, key)).toBe(EXTRACT_OK);
      }),
      { numRuns: 1000 },
    );
  });
});
