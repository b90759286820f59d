/** Decode every layer of a frame at once: for test hosts, the controller's packet-in and traces. */
import { parseArp, type ArpPacket } from './arp.js';
import { ARP_PACKET_LEN, ETH_TYPE_ARP, ETH_TYPE_IPV4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, IPV4_FLAG_MF } from './constants.js';
import { parseEthernet, type EthernetHeader } from './ethernet.js';
import { parseIcmp, type IcmpHeader } from './icmp.js';
import { parseIpv4Header, type Ipv4Header } from './ipv4-header.js';
import { isMalformed, type Malformed } from './malformed.js';
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
  /** The innermost payload (after the last header decoded): a view into the frame, not a copy. */
  readonly payload: Buffer;
}

/** A view of bytes [payloadOffset, payloadEnd) of `buf`, sharing its memory. */
export function payloadOf(buf: Uint8Array, header: { payloadOffset: number; payloadEnd: number }): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + header.payloadOffset, header.payloadEnd - header.payloadOffset);
}

/**
 * Ethernet, then ARP or IPv4, then ICMP/UDP/TCP. The first malformed layer is the result (with its
 * layer named); unknown EtherTypes and IP protocols are not malformed, they just stop decoding.
 */
export function parseFrame(buf: Uint8Array): ParsedFrame | Malformed {
  const eth = parseEthernet(buf);
  if (isMalformed(eth)) return eth;
  let arp: ArpPacket | undefined;
  let ip: Ipv4Header | undefined;
  let icmp: IcmpHeader | undefined;
  let udp: UdpHeader | undefined;
  let tcp: TcpHeader | undefined;
  let inner: { payloadOffset: number; payloadEnd: number } = eth;
  if (eth.ethType === ETH_TYPE_ARP) {
    const a = parseArp(buf, eth.payloadOffset);
    if (isMalformed(a)) return a;
    arp = a;
    inner = { payloadOffset: a.offset + ARP_PACKET_LEN, payloadEnd: a.offset + ARP_PACKET_LEN }; // the rest is padding
  } else if (eth.ethType === ETH_TYPE_IPV4) {
    const i = parseIpv4Header(buf, eth.payloadOffset);
    if (isMalformed(i)) return i;
    ip = i;
    inner = i;
    // Only whole datagrams: a first fragment's UDP length and L4 checksum cover bytes it lacks.
    if (i.fragmentOffset === 0 && (i.flags & IPV4_FLAG_MF) === 0) {
      if (i.protocol === IP_PROTO_UDP) {
        const u = parseUdp(buf, i.payloadOffset, i.payloadEnd);
        if (isMalformed(u)) return u;
        inner = udp = u;
      } else if (i.protocol === IP_PROTO_TCP) {
        const t = parseTcp(buf, i.payloadOffset, i.payloadEnd);
        if (isMalformed(t)) return t;
        inner = tcp = t;
      } else if (i.protocol === IP_PROTO_ICMP) {
        const c = parseIcmp(buf, i.payloadOffset, i.payloadEnd);
        if (isMalformed(c)) return c;
        inner = icmp = c;
      }
    }
  }
  return { eth, arp, ip, icmp, udp, tcp, payload: payloadOf(buf, inner) };
}
