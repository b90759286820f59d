import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  TCP_ACK,
  TCP_NS,
  TCP_PSH,
  buildIcmpEchoFrame,
  buildIcmpEchoReply,
  buildTcpFrame,
  buildUdpFrame,
  isMalformed,
  parseFrame,
  parseIcmp,
  parseIpv4,
  parseMac,
  parseTcp,
  parseUdp,
  verifyIpv4Checksum,
  verifyL4Checksum,
  type ParsedFrame,
} from '../../../src/net/index.js';
import { hex, KNOWN } from '../fixtures.js';
import { addressingArb, payloadArb, portArb, u32Arb } from './arbitraries.js';

const A = { srcMac: parseMac('02:00:00:00:00:01'), dstMac: parseMac('02:00:00:00:00:02'), srcIp: parseIpv4('10.0.0.1'), dstIp: parseIpv4('10.0.0.2') };

function frame(f: Buffer): ParsedFrame {
  const r = parseFrame(f);
  if (isMalformed(r)) throw new Error(`${r.layer}: ${r.malformed}`);
  return r;
}

describe('builders reproduce the tshark-checked known frames', () => {
  it('UDP', () => {
    expect(buildUdpFrame({ ...A, srcPort: 5000, dstPort: 53, payload: Buffer.from('hello, overcast'), ipId: 0x1234 }).toString('hex')).toBe(KNOWN.udp);
    expect(buildUdpFrame({ ...A, srcPort: 65535, dstPort: 1, payload: Buffer.from('abc'), vlan: { vid: 100, pcp: 5 } }).toString('hex')).toBe(KNOWN.udpVlanOdd);
  });
  it('TCP', () => {
    const f = buildTcpFrame({ ...A, srcPort: 40000, dstPort: 80, seq: 0xdeadbeef, ack: 0x01020304, flags: TCP_ACK | TCP_PSH, window: 502, payload: Buffer.from('GET / HTTP/1.0\r\n\r\n') });
    expect(f.toString('hex')).toBe(KNOWN.tcp);
  });
  it('ICMP echo', () => {
    const f = buildIcmpEchoFrame({ ...A, type: 'request', id: 0x4242, seq: 7, payload: Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz!') });
    expect(f.toString('hex')).toBe(KNOWN.icmp);
  });
});

describe('round trips through parseFrame', () => {
  it('UDP', () => {
    fc.assert(
      fc.property(addressingArb, portArb, portArb, payloadArb, (a, srcPort, dstPort, payload) => {
        const f = buildUdpFrame({ ...a, srcPort, dstPort, payload });
        const r = frame(f);
        expect(r.eth.vlan).toEqual(a.vlan);
        expect(r.ip).toMatchObject({ src: a.srcIp, dst: a.dstIp, ttl: a.ttl, id: a.ipId, dscp: a.dscp, flags: a.ipFlags, protocol: 17 });
        expect(r.udp).toMatchObject({ srcPort, dstPort, length: 8 + payload.length });
        expect([r.tcp, r.icmp, r.arp]).toEqual([undefined, undefined, undefined]);
        expect(r.payload.equals(payload)).toBe(true);
        expect(verifyIpv4Checksum(f, r.ip!.offset) && verifyL4Checksum(f, r.ip!.offset)).toBe(true);
      }),
    );
  });

  it('UDP without a checksum', () => {
    const f = buildUdpFrame({ ...A, srcPort: 1, dstPort: 2, payload: Buffer.from('x'), noChecksum: true });
    expect(frame(f).udp!.checksum).toBe(0);
    expect(verifyL4Checksum(f, 14)).toBe(true);
  });

  it('TCP', () => {
    fc.assert(
      fc.property(addressingArb, portArb, portArb, u32Arb, u32Arb, fc.integer({ min: 0, max: 0x1ff }), portArb, payloadArb, (a, srcPort, dstPort, seq, ack, flags, window, payload) => {
        const f = buildTcpFrame({ ...a, srcPort, dstPort, seq, ack, flags, window, payload });
        const r = frame(f);
        expect(r.tcp).toMatchObject({ srcPort, dstPort, seq, ack, flags, window, headerLength: 20, urgentPointer: 0 });
        expect(r.payload.equals(payload)).toBe(true);
        expect(verifyIpv4Checksum(f, r.ip!.offset) && verifyL4Checksum(f, r.ip!.offset)).toBe(true);
      }),
    );
  });

  it('TCP NS flag travels in the data-offset byte', () => {
    const r = frame(buildTcpFrame({ ...A, srcPort: 1, dstPort: 2, flags: TCP_NS | TCP_ACK }));
    expect(r.tcp!.flags).toBe(TCP_NS | TCP_ACK);
  });

  it('ICMP echo request and reply', () => {
    fc.assert(
      fc.property(addressingArb, fc.constantFrom('request' as const, 'reply' as const), portArb, portArb, payloadArb, (a, type, id, seq, payload) => {
        const f = buildIcmpEchoFrame({ ...a, type, id, seq, payload });
        const r = frame(f);
        expect(r.icmp).toMatchObject({ type: type === 'request' ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY, code: 0, id, seq });
        expect(r.payload.equals(payload)).toBe(true);
        expect(verifyL4Checksum(f, r.ip!.offset)).toBe(true);
      }),
    );
  });
});

describe('buildIcmpEchoReply', () => {
  it('answers a request: addresses swapped, same id/seq/payload/VLAN, checksums valid', () => {
    fc.assert(
      fc.property(addressingArb, portArb, portArb, payloadArb, (a, id, seq, payload) => {
        const req = buildIcmpEchoFrame({ ...a, type: 'request', id, seq, payload });
        const rep = buildIcmpEchoReply(req);
        expect(rep).toBeDefined();
        const r = frame(rep!);
        expect([r.eth.src, r.eth.dst, r.ip!.src, r.ip!.dst, r.ip!.ttl]).toEqual([a.dstMac, a.srcMac, a.dstIp, a.srcIp, 64]);
        expect(r.eth.vlan?.vid).toBe(a.vlan?.vid);
        expect(r.icmp).toMatchObject({ type: ICMP_ECHO_REPLY, id, seq });
        expect(r.payload.equals(payload)).toBe(true);
        expect(verifyL4Checksum(rep!, r.ip!.offset)).toBe(true);
      }),
    );
  });

  it('declines anything but a whole echo request', () => {
    expect(buildIcmpEchoReply(hex(KNOWN.udp))).toBeUndefined();
    expect(buildIcmpEchoReply(hex(KNOWN.arp))).toBeUndefined();
    expect(buildIcmpEchoReply(buildIcmpEchoFrame({ ...A, type: 'reply', id: 1, seq: 1 }))).toBeUndefined();
    expect(buildIcmpEchoReply(hex(KNOWN.icmp).subarray(0, 40))).toBeUndefined();
    expect(buildIcmpEchoReply(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('L4 parsers on their own', () => {
  it('UDP: length below 8 is bad-length, beyond the end truncated', () => {
    const f = hex(KNOWN.udp);
    const bad = Buffer.from(f);
    bad.writeUInt16BE(7, 38);
    expect(parseUdp(bad, 34)).toEqual({ malformed: 'bad-length', layer: 'udp' });
    expect(parseUdp(f, 34, f.length - 1)).toEqual({ malformed: 'truncated', layer: 'udp' });
    expect(parseUdp(f, 34, f.length + 1)).toEqual({ malformed: 'truncated', layer: 'udp' });
    expect(isMalformed(parseUdp(f, 34))).toBe(false);
  });

  it('TCP: data offset below 5 is bad-header-length, beyond the end truncated', () => {
    const f = hex(KNOWN.tcp);
    const bad = Buffer.from(f);
    bad[34 + 12] = 0x40;
    expect(parseTcp(bad, 34)).toEqual({ malformed: 'bad-header-length', layer: 'tcp' });
    const big = Buffer.from(f);
    big[34 + 12] = 0xf0;
    expect(parseTcp(big, 34, 34 + 40)).toEqual({ malformed: 'truncated', layer: 'tcp' });
  });

  it('ICMP needs its 8-byte header', () => {
    const f = hex(KNOWN.icmp);
    expect(parseIcmp(f, 34, 41)).toEqual({ malformed: 'truncated', layer: 'icmp' });
    expect(isMalformed(parseIcmp(f, 34, 42))).toBe(false);
  });
});
