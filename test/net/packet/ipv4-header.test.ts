import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IP_PROTO_UDP,
  IPV4_FLAG_DF,
  buildIpv4Packet,
  isMalformed,
  parseIpv4Header,
  payloadOf,
  verifyIpv4Checksum,
  type Ipv4Header,
} from '../../../src/net/index.js';
import { hex, KNOWN } from '../fixtures.js';
import { ipArb, payloadArb, portArb } from './arbitraries.js';

function ok(r: ReturnType<typeof parseIpv4Header>): Ipv4Header {
  if (isMalformed(r)) throw new Error(r.malformed);
  return r;
}

describe('IPv4 header', () => {
  it('parses the known UDP frame', () => {
    expect(ok(parseIpv4Header(hex(KNOWN.udp), 14))).toEqual({
      offset: 14,
      headerLength: 20,
      dscp: 0,
      ecn: 0,
      totalLength: 43,
      id: 0x1234,
      flags: 0,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IP_PROTO_UDP,
      checksum: 0x548c,
      src: 0x0a000001,
      dst: 0x0a000002,
      payloadOffset: 34,
      payloadEnd: 57,
    });
  });

  it('round-trips every field; the checksum is valid; payload is a view', () => {
    const fields = fc.record({
      src: ipArb,
      dst: ipArb,
      protocol: fc.integer({ min: 0, max: 255 }),
      ttl: fc.integer({ min: 0, max: 255 }),
      id: portArb,
      dscp: fc.integer({ min: 0, max: 63 }),
      ecn: fc.integer({ min: 0, max: 3 }),
      flags: fc.integer({ min: 0, max: 7 }),
      fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
    });
    fc.assert(
      fc.property(fields, payloadArb, (h, payload) => {
        const p = buildIpv4Packet({ ...h, payload });
        const r = ok(parseIpv4Header(p, 0));
        expect(r).toMatchObject({ ...h, headerLength: 20, totalLength: 20 + payload.length, payloadOffset: 20, payloadEnd: p.length });
        expect(verifyIpv4Checksum(p, 0)).toBe(true);
        expect(payloadOf(p, r).equals(payload)).toBe(true);
      }),
    );
  });

  it('honours options (IHL > 5) and ignores Ethernet padding after the total length', () => {
    const p = buildIpv4Packet({ src: 1, dst: 2, protocol: 17, payload: Buffer.from([1, 2, 3]) });
    const withOptions = Buffer.concat([p.subarray(0, 20), Buffer.from([1, 1, 1, 0]), p.subarray(20), Buffer.alloc(10)]);
    withOptions[0] = 0x46;
    withOptions.writeUInt16BE(27, 2);
    const r = ok(parseIpv4Header(withOptions, 0));
    expect([r.headerLength, r.payloadOffset, r.payloadEnd]).toEqual([24, 24, 27]);
  });

  it('names what is wrong', () => {
    const p = buildIpv4Packet({ src: 1, dst: 2, protocol: 6, flags: IPV4_FLAG_DF, payload: Buffer.alloc(4) });
    const v6 = Buffer.from(p);
    v6[0] = 0x65;
    expect(parseIpv4Header(v6, 0)).toEqual({ malformed: 'bad-version', layer: 'ipv4' });
    const ihl4 = Buffer.from(p);
    ihl4[0] = 0x44;
    expect(parseIpv4Header(ihl4, 0)).toEqual({ malformed: 'bad-header-length', layer: 'ipv4' });
    const short = Buffer.from(p);
    short.writeUInt16BE(19, 2);
    expect(parseIpv4Header(short, 0)).toEqual({ malformed: 'bad-length', layer: 'ipv4' });
    const long = Buffer.from(p);
    long.writeUInt16BE(25, 2);
    expect(parseIpv4Header(long, 0)).toEqual({ malformed: 'truncated', layer: 'ipv4' });
    const bigIhl = Buffer.from(p);
    bigIhl[0] = 0x4f;
    expect(parseIpv4Header(bigIhl, 0)).toEqual({ malformed: 'truncated', layer: 'ipv4' });
    for (let n = 0; n < p.length; n++) expect(parseIpv4Header(p.subarray(0, n), 0)).toEqual({ malformed: 'truncated', layer: 'ipv4' });
  });

  it('refuses a payload that would overflow the total length field', () => {
    expect(() => buildIpv4Packet({ src: 1, dst: 2, protocol: 17, payload: Buffer.alloc(65516) })).toThrow(RangeError);
    expect(ok(parseIpv4Header(buildIpv4Packet({ src: 1, dst: 2, protocol: 17, payload: Buffer.alloc(65515) }), 0)).totalLength).toBe(65535);
  });
});
