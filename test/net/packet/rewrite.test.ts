import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildIcmpEchoFrame,
  buildTcpFrame,
  buildUdpFrame,
  decrementTtl,
  fillL4Checksum,
  ipv4HeaderChecksum,
  l4Checksum,
  setIpv4Dst,
  setIpv4Src,
  setL4DstPort,
  setL4SrcPort,
  verifyIpv4Checksum,
  verifyL4Checksum,
} from '../../../src/net/index.js';
import { hex, KNOWN } from '../fixtures.js';
import { addressingArb, ipArb, payloadArb, portArb } from './arbitraries.js';

type Kind = 'udp' | 'udp-none' | 'tcp' | 'icmp';
interface Packet {
  kind: Kind;
  buf: Buffer;
  ipOffset: number;
}

function l4ChecksumOffset(p: Packet): number {
  return p.ipOffset + 20 + (p.kind === 'tcp' ? 16 : p.kind === 'icmp' ? 2 : 6);
}
const storedIpChecksum = (p: Packet): number => p.buf.readUInt16BE(p.ipOffset + 10);
const storedL4Checksum = (p: Packet): number => p.buf.readUInt16BE(l4ChecksumOffset(p));

/**
 * Force the stored L4 checksum to an edge: UDP's "computed 0, sent as 0xffff", or 0x0000 for TCP/ICMP
 * (sum 0xffff), by choosing the first payload word. Needs at least two payload bytes.
 */
function forceZeroChecksum(p: Packet): boolean {
  const word = p.ipOffset + 20 + (p.kind === 'tcp' ? 20 : 8);
  if (p.buf.length < word + 2 || p.kind === 'udp-none') return false;
  p.buf.writeUInt16BE(0, word);
  p.buf.writeUInt16BE(0, l4ChecksumOffset(p));
  const c0 = l4Checksum(p.buf, p.ipOffset) as number;
  p.buf.writeUInt16BE(c0 === 0xffff && p.kind.startsWith('udp') ? 0 : c0, word);
  fillL4Checksum(p.buf, p.ipOffset);
  return true;
}

const packetArb: fc.Arbitrary<Packet> = fc
  .tuple(fc.constantFrom<Kind>('udp', 'udp-none', 'tcp', 'icmp'), addressingArb, portArb, portArb, payloadArb, fc.boolean())
  .map(([kind, a, s, d, payload, edge]) => {
    const buf =
      kind === 'tcp'
        ? buildTcpFrame({ ...a, srcPort: s, dstPort: d, flags: 0x18, payload })
        : kind === 'icmp'
          ? buildIcmpEchoFrame({ ...a, type: 'request', id: s, seq: d, payload })
          : buildUdpFrame({ ...a, srcPort: s, dstPort: d, payload, noChecksum: kind === 'udp-none' });
    const p = { kind, buf, ipOffset: a.vlan ? 18 : 14 };
    if (edge && forceZeroChecksum(p)) expect(storedL4Checksum(p)).toBe(kind === 'udp' ? 0xffff : 0);
    return p;
  });

type Rewrite = ['src', number] | ['dst', number] | ['sport', number] | ['dport', number] | ['ttl'];
const rewriteArb: fc.Arbitrary<Rewrite> = fc.oneof(
  ipArb.map((v): Rewrite => ['src', v]),
  ipArb.map((v): Rewrite => ['dst', v]),
  portArb.map((v): Rewrite => ['sport', v]),
  portArb.map((v): Rewrite => ['dport', v]),
  fc.constant<Rewrite>(['ttl']),
);

function apply(p: Packet, r: Rewrite): void {
  if (r[0] === 'src') setIpv4Src(p.buf, p.ipOffset, r[1]);
  else if (r[0] === 'dst') setIpv4Dst(p.buf, p.ipOffset, r[1]);
  else if (r[0] === 'sport') setL4SrcPort(p.buf, p.ipOffset, r[1]);
  else if (r[0] === 'dport') setL4DstPort(p.buf, p.ipOffset, r[1]);
  else decrementTtl(p.buf, p.ipOffset);
}

/** The stored checksums equal a full recompute (UDP "none" stays none). */
function checksumsAreFresh(p: Packet): void {
  expect(storedIpChecksum(p)).toBe(ipv4HeaderChecksum(p.buf, p.ipOffset));
  expect(verifyIpv4Checksum(p.buf, p.ipOffset)).toBe(true);
  if (p.kind === 'udp-none') expect(storedL4Checksum(p)).toBe(0);
  else expect(storedL4Checksum(p)).toBe(l4Checksum(p.buf, p.ipOffset));
  expect(verifyL4Checksum(p.buf, p.ipOffset)).toBe(true);
}

describe('in-place rewrites: incremental checksum == recompute', () => {
  it('over random packets and sequences of rewrites (NAT, port mapping, TTL)', () => {
    fc.assert(
      fc.property(packetArb, fc.array(rewriteArb, { minLength: 1, maxLength: 6 }), (p, rewrites) => {
        checksumsAreFresh(p);
        for (const r of rewrites) {
          apply(p, r);
          checksumsAreFresh(p);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('rewrites land where the parser reads them', () => {
    const b = hex(KNOWN.tcp);
    setIpv4Src(b, 14, 0xc0a80001);
    setIpv4Dst(b, 14, 0xc0a80002);
    expect(setL4SrcPort(b, 14, 1111)).toBe(true);
    expect(setL4DstPort(b, 14, 2222)).toBe(true);
    expect([b.readUInt32BE(26), b.readUInt32BE(30), b.readUInt16BE(34), b.readUInt16BE(36)]).toEqual([0xc0a80001, 0xc0a80002, 1111, 2222]);
  });

  it('a rewrite that makes the UDP checksum compute to 0 writes 0xffff', () => {
    // Build the target packet (new source address) with its checksum forced to the edge, then
    // start from the same packet with another source address and rewrite to the target.
    const target: Packet = { kind: 'udp', buf: buildUdpFrame({ srcMac: 1, dstMac: 2, srcIp: 0x0a000009, dstIp: 0x0a000002, srcPort: 7, dstPort: 9, payload: Buffer.from('zzzz') }), ipOffset: 14 };
    forceZeroChecksum(target);
    expect(storedL4Checksum(target)).toBe(0xffff);
    const start = Buffer.from(target.buf);
    start.writeUInt32BE(0x0a000001, 26);
    const p: Packet = { kind: 'udp', buf: start, ipOffset: 14 };
    p.buf.writeUInt16BE(0, 24);
    p.buf.writeUInt16BE(ipv4HeaderChecksum(p.buf, 14), 24);
    fillL4Checksum(p.buf, 14);
    expect(storedL4Checksum(p)).not.toBe(0xffff);
    setIpv4Src(p.buf, 14, 0x0a000009);
    expect(storedL4Checksum(p)).toBe(0xffff);
    expect(p.buf.equals(target.buf)).toBe(true);
  });

  it('an IP header checksum of 0x0000 survives a TTL decrement', () => {
    const p: Packet = { kind: 'udp', buf: hex(KNOWN.udp), ipOffset: 14 };
    // Choose the IP id so the header sums to 0xffff (checksum 0x0000).
    p.buf.writeUInt16BE(0, 18);
    p.buf.writeUInt16BE(0, 24);
    p.buf.writeUInt16BE(ipv4HeaderChecksum(p.buf, 14), 18);
    expect(ipv4HeaderChecksum(p.buf, 14)).toBe(0);
    fillL4Checksum(p.buf, 14);
    expect(decrementTtl(p.buf, 14)).toBe(true);
    checksumsAreFresh(p);
  });

  it('decrementTtl refuses TTL 0 and 1 and leaves the packet untouched', () => {
    for (const ttl of [0, 1]) {
      const b = buildUdpFrame({ srcMac: 1, dstMac: 2, srcIp: 3, dstIp: 4, srcPort: 5, dstPort: 6, ttl });
      const before = Buffer.from(b);
      expect(decrementTtl(b, 14)).toBe(false);
      expect(b.equals(before)).toBe(true);
    }
    const b = buildUdpFrame({ srcMac: 1, dstMac: 2, srcIp: 3, dstIp: 4, srcPort: 5, dstPort: 6, ttl: 2 });
    expect(decrementTtl(b, 14)).toBe(true);
    expect(b[14 + 8]).toBe(1);
  });

  it('ports: ICMP and later fragments are left alone; ICMP checksums ignore address rewrites', () => {
    const icmp = hex(KNOWN.icmp);
    const before = Buffer.from(icmp);
    expect(setL4SrcPort(icmp, 14, 99)).toBe(false);
    expect(icmp.equals(before)).toBe(true);
    setIpv4Dst(icmp, 14, 0x01020304);
    expect(icmp.readUInt16BE(36)).toBe(before.readUInt16BE(36));
    const frag = hex(KNOWN.udp);
    frag[14 + 7] = 3; // a later fragment: the bytes after the IP header are not a UDP header
    frag.writeUInt16BE(ipv4HeaderChecksum(frag, 14), 24);
    const fragBefore = Buffer.from(frag);
    expect(setL4DstPort(frag, 14, 1)).toBe(false);
    setIpv4Src(frag, 14, 0x01020304);
    expect(frag.subarray(34).equals(fragBefore.subarray(34))).toBe(true);
    expect(verifyIpv4Checksum(frag, 14)).toBe(true);
  });

  it('a packet cut short of its L4 checksum field gets only its IP checksum updated', () => {
    const b = hex(KNOWN.tcp).subarray(0, 14 + 20 + 10);
    setIpv4Src(b, 14, 0x01020304);
    expect(verifyIpv4Checksum(b, 14)).toBe(true);
    expect(setL4SrcPort(b, 14, 5)).toBe(false);
  });
});
