/** ARP for IPv4 over Ethernet (RFC 826): the only kind the datapath answers or forwards. */
import { BROADCAST_MAC, readMac, writeMac } from '../mac.js';
import { readIpv4, writeIpv4 } from '../ipv4.js';
import { ARP_OP_REPLY, ARP_OP_REQUEST, ARP_PACKET_LEN, ETH_TYPE_ARP, ETH_TYPE_IPV4 } from './constants.js';
import { ethernetHeaderLength, writeEthernetHeader, type VlanTagInit } from './ethernet.js';
import { malformed, type MalformedFrame } from './malformed.js';

export interface ArpPacket {
  readonly offset: number;
  readonly op: number;
  /** Sender hardware (MAC) and protocol (IPv4) addresses. */
  readonly sha: number;
  readonly spa: number;
  /** Target hardware and protocol addresses. */
  readonly tha: number;
  readonly tpa: number;
}

/** Parse the ARP packet at `offset`; anything but Ethernet/IPv4 ARP (1, 0x0800, 6, 4) is 'unsupported'. */
export function parseArp(buf: Uint8Array, offset: number): ArpPacket | MalformedFrame {
  const b = buf;
  const o = offset;
  if (o < 0 || b.length < o + ARP_PACKET_LEN) return malformed('arp', 'truncated');
  if (b[o] !== 0 || b[o + 1] !== 1 || b[o + 2] !== 0x08 || b[o + 3] !== 0 || b[o + 4] !== 6 || b[o + 5] !== 4) {
    return malformed('arp', 'unsupported');
  }
  return {
    offset: o,
    op: (b[o + 6] << 8) | b[o + 7],
    sha: readMac(b, o + 8),
    spa: readIpv4(b, o + 14),
    tha: readMac(b, o + 18),
    tpa: readIpv4(b, o + 24),
  };
}

export interface ArpInit {
  op: number;
  sha: number;
  spa: number;
  tha: number;
  tpa: number;
}

/** Write an Ethernet/IPv4 ARP packet at `offset`; returns the offset after it. */
export function writeArp(buf: Uint8Array, offset: number, a: ArpInit): number {
  const b = buf;
  const o = offset;
  b[o] = 0;
  b[o + 1] = 1;
  b[o + 2] = ETH_TYPE_IPV4 >>> 8;
  b[o + 3] = ETH_TYPE_IPV4 & 0xff;
  b[o + 4] = 6;
  b[o + 5] = 4;
  b[o + 6] = a.op >>> 8;
  b[o + 7] = a.op;
  writeMac(b, o + 8, a.sha);
  writeIpv4(b, o + 14, a.spa);
  writeMac(b, o + 18, a.tha);
  writeIpv4(b, o + 24, a.tpa);
  return o + ARP_PACKET_LEN;
}

function arpFrame(ethDst: number, ethSrc: number, vlan: VlanTagInit | undefined, a: ArpInit): Buffer {
  const buf = Buffer.alloc(ethernetHeaderLength(vlan) + ARP_PACKET_LEN);
  writeArp(buf, writeEthernetHeader(buf, 0, { dst: ethDst, src: ethSrc, ethType: ETH_TYPE_ARP, vlan }), a);
  return buf;
}

export interface ArpRequestOptions {
  srcMac: number;
  srcIp: number;
  /** The address being resolved (equal to srcIp for a gratuitous ARP). */
  targetIp: number;
  /** Ethernet destination; broadcast unless probing a known MAC (unicast refresh). */
  dstMac?: number;
  vlan?: VlanTagInit;
}

/** "Who has targetIp? Tell srcIp": a broadcast frame, target MAC zero. */
export function buildArpRequest(o: ArpRequestOptions): Buffer {
  return arpFrame(o.dstMac ?? BROADCAST_MAC, o.srcMac, o.vlan, {
    op: ARP_OP_REQUEST,
    sha: o.srcMac,
    spa: o.srcIp,
    tha: 0,
    tpa: o.targetIp,
  });
}

export interface ArpReplyOptions {
  /** The answering side: "srcIp is at srcMac". */
  srcMac: number;
  srcIp: number;
  /** The asker (the request's sender). */
  dstMac: number;
  dstIp: number;
  vlan?: VlanTagInit;
}

export function buildArpReply(o: ArpReplyOptions): Buffer {
  return arpFrame(o.dstMac, o.srcMac, o.vlan, { op: ARP_OP_REPLY, sha: o.srcMac, spa: o.srcIp, tha: o.dstMac, tpa: o.dstIp });
}
