/** What every IPv4-in-Ethernet frame builder shares: addressing options and the header writing. */
import { ETH_TYPE_IPV4, IPV4_MIN_HEADER_LEN } from './constants.js';
import { ethernetHeaderLength, writeEthernetHeader, type VlanTagInit } from './ethernet.js';
import { writeIpv4Header } from './ipv4-header.js';

export interface Ipv4FrameOptions {
  srcMac: number;
  dstMac: number;
  srcIp: number;
  dstIp: number;
  /** Default 64. */
  ttl?: number;
  /** IP identification, default 0 (named apart from ICMP's echo id). */
  ipId?: number;
  dscp?: number;
  /** IPv4 flags, default 0 (IPV4_FLAG_DF to forbid fragmentation); named apart from TCP's flags. */
  ipFlags?: number;
  vlan?: VlanTagInit;
}

export interface Ipv4FrameLayout {
  buf: Buffer;
  ipOffset: number;
  l4Offset: number;
}

/** A zeroed frame with Ethernet and IPv4 headers written (IP checksum filled) and `l4Length` bytes left for L4. */
export function allocIpv4Frame(o: Ipv4FrameOptions, protocol: number, l4Length: number): Ipv4FrameLayout {
  const ipOffset = ethernetHeaderLength(o.vlan);
  const buf = Buffer.alloc(ipOffset + IPV4_MIN_HEADER_LEN + l4Length);
  writeEthernetHeader(buf, 0, { dst: o.dstMac, src: o.srcMac, ethType: ETH_TYPE_IPV4, vlan: o.vlan });
  const l4Offset = writeIpv4Header(
    buf,
    ipOffset,
    { src: o.srcIp, dst: o.dstIp, protocol, ttl: o.ttl, id: o.ipId, dscp: o.dscp, flags: o.ipFlags },
    l4Length,
  );
  return { buf, ipOffset, l4Offset };
}
