import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  BROADCAST_MAC,
  ETH_TYPE_ARP,
  buildArpReply,
  buildArpRequest,
  isMalformed,
  parseArp,
  parseEthernet,
  parseIpv4,
  parseMac,
  type ArpPacket,
  type EthernetHeader,
} from '../../../src/net/index.js';
import { hex, KNOWN } from '../fixtures.js';
import { ipArb, macArb, vlanArb } from './arbitraries.js';

function decode(f: Buffer): { eth: EthernetHeader; arp: ArpPacket } {
  const eth = parseEthernet(f);
  if (isMalformed(eth)) throw new Error(eth.malformed);
  const arp = parseArp(f, eth.payloadOffset);
  if (isMalformed(arp)) throw new Error(arp.malformed);
  return { eth, arp };
}

describe('ARP', () => {
  it('builds the known request byte for byte', () => {
    const f = buildArpRequest({ srcMac: parseMac('02:00:00:00:00:01'), srcIp: parseIpv4('10.0.0.1'), targetIp: parseIpv4('10.0.0.2') });
    expect(f.toString('hex')).toBe(KNOWN.arp);
  });

  it('parses the known request', () => {
    const { eth, arp } = decode(hex(KNOWN.arp));
    expect(eth.dst).toBe(BROADCAST_MAC);
    expect(eth.ethType).toBe(ETH_TYPE_ARP);
    expect(arp).toEqual({ offset: 14, op: ARP_OP_REQUEST, sha: 0x020000000001, spa: 0x0a000001, tha: 0, tpa: 0x0a000002 });
  });

  it('round-trips requests and replies, tagged or not', () => {
    fc.assert(
      fc.property(macArb, ipArb, macArb, ipArb, vlanArb, (srcMac, srcIp, dstMac, dstIp, vlan) => {
        const req = decode(buildArpRequest({ srcMac, srcIp, targetIp: dstIp, vlan }));
        expect(req.eth.vlan).toEqual(vlan);
        expect([req.eth.dst, req.eth.src, req.arp.op, req.arp.sha, req.arp.spa, req.arp.tha, req.arp.tpa]).toEqual([
          BROADCAST_MAC, srcMac, ARP_OP_REQUEST, srcMac, srcIp, 0, dstIp,
        ]);
        const rep = decode(buildArpReply({ srcMac, srcIp, dstMac, dstIp, vlan }));
        expect([rep.eth.dst, rep.eth.src, rep.arp.op, rep.arp.sha, rep.arp.spa, rep.arp.tha, rep.arp.tpa]).toEqual([
          dstMac, srcMac, ARP_OP_REPLY, srcMac, srcIp, dstMac, dstIp,
        ]);
      }),
    );
  });

  it('a unicast request goes to the given MAC', () => {
    const { eth } = decode(buildArpRequest({ srcMac: 1, srcIp: 2, targetIp: 3, dstMac: 4 }));
    expect(eth.dst).toBe(4);
  });

  it('refuses non-Ethernet/IPv4 ARP as unsupported, short packets as truncated', () => {
    const f = hex(KNOWN.arp);
    for (let n = 14; n < f.length; n++) expect(parseArp(f.subarray(0, n), 14)).toEqual({ malformed: 'truncated', layer: 'arp' });
    for (const at of [0, 1, 2, 3, 4, 5]) {
      const g = Buffer.from(f);
      g[14 + at] ^= 0x10;
      expect(parseArp(g, 14)).toEqual({ malformed: 'unsupported', layer: 'arp' });
    }
  });
});
