import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IPV4_FLAG_MF,
  buildArpReply,
  buildEthernet,
  buildIcmpEchoFrame,
  buildTcpFrame,
  buildUdpFrame,
  isMalformed,
  parseArp,
  parseEthernet,
  parseFrame,
  parseIcmp,
  parseIpv4Header,
  parseTcp,
  parseUdp,
  type ParsedFrame,
} from '../../../src/net/index.js';
import { hex, KNOWN } from '../fixtures.js';
import { addressingArb, macArb, ipArb, payloadArb, portArb } from './arbitraries.js';

function frame(f: Uint8Array): ParsedFrame {
  const r = parseFrame(f);
  if (isMalformed(r)) throw new Error(`${r.layer}: ${r.malformed}`);
  return r;
}

/** Any frame the builders make: every layer parseFrame decodes. */
const validFrameArb = fc.oneof(
  fc.tuple(addressingArb, portArb, portArb, payloadArb).map(([a, s, d, p]) => buildUdpFrame({ ...a, srcPort: s, dstPort: d, payload: p })),
  fc.tuple(addressingArb, portArb, portArb, payloadArb).map(([a, s, d, p]) => buildTcpFrame({ ...a, srcPort: s, dstPort: d, flags: 0x12, payload: p })),
  fc.tuple(addressingArb, portArb, payloadArb).map(([a, id, p]) => buildIcmpEchoFrame({ ...a, type: 'request', id, seq: 1, payload: p })),
  fc.tuple(macArb, ipArb, macArb, ipArb).map(([sm, si, dm, di]) => buildArpReply({ srcMac: sm, srcIp: si, dstMac: dm, dstIp: di })),
);

describe('parseFrame', () => {
  it('decodes every layer of the known frames', () => {
    const udp = frame(hex(KNOWN.udp));
    expect([udp.eth.ethType, udp.ip?.protocol, udp.udp?.dstPort, udp.payload.toString()]).toEqual([0x0800, 17, 53, 'hello, overcast']);
    const tagged = frame(hex(KNOWN.udpVlanOdd));
    expect([tagged.eth.vlan?.vid, tagged.ip?.offset, tagged.udp?.srcPort, tagged.payload.toString()]).toEqual([100, 18, 65535, 'abc']);
    const tcp = frame(hex(KNOWN.tcp));
    expect([tcp.tcp?.seq, tcp.payload.toString()]).toEqual([0xdeadbeef, 'GET / HTTP/1.0\r\n\r\n']);
    const icmp = frame(hex(KNOWN.icmp));
    expect([icmp.icmp?.type, icmp.icmp?.id, icmp.icmp?.seq]).toEqual([8, 0x4242, 7]);
    const arp = frame(hex(KNOWN.arp));
    expect([arp.arp?.op, arp.ip, arp.payload.length]).toEqual([1, undefined, 0]);
  });

  it('stops at unknown EtherTypes and IP protocols without calling them malformed', () => {
    const other = frame(buildEthernet({ dst: 1, src: 2, ethType: 0x86dd, payload: Buffer.from([6, 0]) }));
    expect([other.ip, other.arp, [...other.payload]]).toEqual([undefined, undefined, [6, 0]]);
    const gre = hex(KNOWN.udp);
    gre[14 + 9] = 47;
    const g = frame(gre);
    expect([g.ip?.protocol, g.udp, g.payload.length]).toEqual([47, undefined, 23]);
  });

  it('does not decode L4 in fragments', () => {
    const later = hex(KNOWN.udp);
    later[14 + 7] = 1; // fragment offset 8 bytes
    expect([frame(later).udp, frame(later).payload.length]).toEqual([undefined, 23]);
    const first = hex(KNOWN.udp);
    first[14 + 6] = IPV4_FLAG_MF << 5;
    first.writeUInt16BE(1000, 34 + 4); // the UDP length of the whole datagram
    expect(frame(first).udp).toBeUndefined();
  });

  it('ignores Ethernet padding after the IP packet', () => {
    const padded = Buffer.concat([hex(KNOWN.udpVlanOdd), Buffer.alloc(13)]);
    expect(frame(padded).payload.toString()).toBe('abc');
  });

  it('names the first malformed layer', () => {
    expect(parseFrame(Buffer.alloc(5))).toEqual({ malformed: 'truncated', layer: 'ethernet' });
    const v5 = hex(KNOWN.tcp);
    v5[14] = 0x55;
    expect(parseFrame(v5)).toEqual({ malformed: 'bad-version', layer: 'ipv4' });
    const tcp = hex(KNOWN.tcp);
    tcp[34 + 12] = 0x30;
    expect(parseFrame(tcp)).toEqual({ malformed: 'bad-header-length', layer: 'tcp' });
    const udp = hex(KNOWN.udp);
    udp.writeUInt16BE(24, 34 + 4); // one byte beyond the IP packet
    expect(parseFrame(udp)).toEqual({ malformed: 'truncated', layer: 'udp' });
    const icmp = hex(KNOWN.icmp);
    icmp.writeUInt16BE(27, 16); // IP total length leaves 7 bytes for ICMP
    expect(parseFrame(icmp)).toEqual({ malformed: 'truncated', layer: 'icmp' });
  });

  it('every truncation of a valid frame is malformed, never a throw', () => {
    fc.assert(
      fc.property(validFrameArb, (f) => {
        expect(isMalformed(parseFrame(f))).toBe(false);
        for (let n = 0; n < f.length; n++) {
          const r = parseFrame(f.subarray(0, n));
          if (!isMalformed(r)) throw new Error(`prefix of ${n}/${f.length} bytes parsed`);
          expect(r.malformed).toBe('truncated');
        }
      }),
      { numRuns: 60 },
    );
  });
});

/** Whatever a parser accepts lies inside the buffer. */
function inBounds(r: object, len: number): boolean {
  if (isMalformed(r)) return true;
  const h = r as { payloadOffset: number; payloadEnd: number } | { offset: number };
  if ('payloadOffset' in h) return h.payloadOffset >= 0 && h.payloadOffset <= h.payloadEnd && h.payloadEnd <= len;
  return h.offset >= 0 && h.offset + 28 <= len;
}

describe('no input makes a parser throw', () => {
  const offsetArb = fc.integer({ min: -4, max: 90 });

  it('random bytes at random offsets and ends', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 90 }), offsetArb, offsetArb, (b, off, end) => {
        expect(inBounds(parseEthernet(b, off), b.length)).toBe(true);
        expect(inBounds(parseArp(b, off), b.length)).toBe(true);
        expect(inBounds(parseIpv4Header(b, off), b.length)).toBe(true);
        expect(inBounds(parseUdp(b, off, end), b.length)).toBe(true);
        expect(inBounds(parseTcp(b, off, end), b.length)).toBe(true);
        expect(inBounds(parseIcmp(b, off, end), b.length)).toBe(true);
        expect(inBounds(parseUdp(b, off), b.length)).toBe(true);
        parseFrame(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('valid frames with random bytes overwritten and random lengths', () => {
    fc.assert(
      fc.property(validFrameArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), (f, edits, cut) => {
        for (const [at, v] of edits) f[at % f.length] = v;
        const b = f.subarray(0, cut % (f.length + 1));
        const r = parseFrame(b);
        if (!isMalformed(r)) {
          for (const h of [r.eth, r.ip, r.udp, r.tcp, r.icmp]) if (h) expect(inBounds(h, b.length)).toBe(true);
          expect(r.payload.byteOffset + r.payload.length).toBeLessThanOrEqual(b.byteOffset + b.length);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
