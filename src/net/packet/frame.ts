/** Decode every layer of a frame at once: for test hosts, the controller's packet-in and traces. */
import { parseArp, type ArpPacket } from './arp.js';
import { ARP_PACKET_LEN, ETH_TYPE_ARP, ETH_TYPE_IPV4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, IPV4_FLAG_MF } from './constants.js';
import { parseEthernet, type EthernetHeader } from './ethernet.js';
import { parseIcmp, type IcmpHeader } from './icmp.js';
import { parseIpv4Header, type Ipv4Header } from './ipv4-header.js';
import { isMalformed, type MalformedFrame } from './malformed.js';
import { parseTcp, type TcpHeader } from './tcp.js';
import { parseUdp, type UdpHeader } from './udp.js';

export interface ParsedFrame {
  readonly eth: EthernetHeader;
  readonly arp: ArpPacket | undefined;
  readonly ip: Ipv4Header | undefined;
  /** At most one of icmp/udp/tcp; none for fragments (MF set or fragmentOffset > 0) and other protocols. */
  readonly icmp: IcmpHeader | undefined;
  readonly udp: UdpHeader | undefined;
  readonly tcp: TcpHeader | undefined;
  /** Where the innermost payload (after the last header decoded) lies in the frame. */
  readonly payloadOffset: number;
  readonly payloadEnd: number;
  /**
   * That payload as a view into the frame, not a copy. Made on first read: a view costs more than
   * decoding all the headers, and most callers only look at the headers.
   */
  readonly payload: Buffer;
}

class FrameView implements ParsedFrame {
  private view: Buffer | undefined;
  constructor(
    private readonly buf: Uint8Array,
    readonly eth: EthernetHeader,
    readonly arp: ArpPacket | undefined,
    readonly ip: Ipv4Header | undefined,
    readonly icmp: IcmpHeader | undefined,
    readonly udp: UdpHeader | undefined,
    readonly tcp: TcpHeader | undefined,
    readonly payloadOffset: number,
    readonly payloadEnd: number,
  ) {}

  get payload(): Buffer {
    return (this.view ??= payloadOf(this.buf, this));
  }
}

/** A view of bytes [payloadOffset, payloadEnd) of `buf`, sharing its memory. */
export function payloadOf(buf: Uint8Array, header: { payloadOffset: number; payloadEnd: number }): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + header.payloadOffset, header.payloadEnd - header.payloadOffset);
}

/**
 * Ethernet, then ARP or IPv4, then ICMP/UDP/TCP. The first malformed layer is the result (with its
 * layer named); unknown EtherTypes and IP protocols are not malformed, they just stop decoding.
 */
export function parseFrame(buf: Uint8Array): ParsedFrame | MalformedFrame {
  const eth = parseEthernet(buf);
  if (isMalformed(eth)) return eth;
  let arp: ArpPacket | undefined;
  let ip: Ipv4Header | undefined;
  let icmp: IcmpHeader | undefined;
  let udp: UdpHeader | undefined;
  let tcp: TcpHeader | undefined;
  // Two numbers rather than "the innermost header": reading them off five header shapes is megamorphic.
  let payloadOffset = eth.payloadOffset;
  let payloadEnd = eth.payloadEnd;
  if (eth.ethType === ETH_TYPE_ARP) {
    const a = parseArp(buf, eth.payloadOffset);
    if (isMalformed(a)) return a;
    arp = a;
    payloadOffset = payloadEnd = a.offset + ARP_PACKET_LEN; // what follows is padding
  } else if (eth.ethType === ETH_TYPE_IPV4) {
    const i = parseIpv4Header(buf, eth.payloadOffset);
    if (isMalformed(i)) return i;
    ip = i;
    payloadOffset = i.payloadOffset;
    payloadEnd = i.payloadEnd;
    // Only whole datagrams: a first fragment's UDP length and L4 checksum cover bytes it lacks.
    if (i.fragmentOffset === 0 && (i.flags & IPV4_FLAG_MF) === 0) {
      if (i.protocol === IP_PROTO_UDP) {
        const u = parseUdp(buf, i.payloadOffset, i.payloadEnd);
        if (isMalformed(u)) return u;
        udp = u;
        payloadOffset = u.payloadOffset;
        payloadEnd = u.payloadEnd;
      } else if (i.protocol === IP_PROTO_TCP) {
        const t = parseTcp(buf, i.payloadOffset, i.payloadEnd);
        if (isMalformed(t)) return t;
        tcp = t;
        payloadOffset = t.payloadOffset;
      } else if (i.protocol === IP_PROTO_ICMP) {
        const c = parseIcmp(buf, i.payloadOffset, i.payloadEnd);
        if (isMalformed(c)) return c;
        icmp = c;
        payloadOffset = c.payloadOffset;
      }
    }
  }
  return new FrameView(buf, eth, arp, ip, icmp, udp, tcp, payloadOffset, payloadEnd);
}
