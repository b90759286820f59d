/** ICMP (RFC 792): the common 8-byte header, echo request/reply built and answered. */
import { fillL4Checksum } from '../checksum.js';
import { readIpv4 } from '../ipv4.js';
import { readMac } from '../mac.js';
import { ETH_TYPE_IPV4, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_HEADER_LEN, IP_PROTO_ICMP } from './constants.js';
import { parseEthernet } from './ethernet.js';
import { allocIpv4Frame, type Ipv4FrameOptions } from './ipv4-frame.js';
import { parseIpv4Header } from './ipv4-header.js';
import { isMalformed, malformed, type MalformedFrame } from './malformed.js';

export interface IcmpHeader {
  readonly offset: number;
  readonly type: number;
  readonly code: number;
  readonly checksum: number;
  /** Bytes 4-5 and 6-7: identifier and sequence number for echo; "rest of header" otherwise. */
  readonly id: number;
  readonly seq: number;
  readonly payloadOffset: number;
  readonly payloadEnd: number;
}

/** Parse the ICMP header at `offset`; `end` is where the IP packet ends (default: the buffer's end). */
export function parseIcmp(buf: Uint8Array, offset: number, end = buf.length): IcmpHeader | MalformedFrame {
  const b = buf;
  const o = offset;
  if (o < 0 || end > b.length || end < o + ICMP_HEADER_LEN) return malformed('icmp', 'truncated');
  return {
    offset: o,
    type: b[o],
    code: b[o + 1],
    checksum: (b[o + 2] << 8) | b[o + 3],
    id: (b[o + 4] << 8) | b[o + 5],
    seq: (b[o + 6] << 8) | b[o + 7],
    payloadOffset: o + ICMP_HEADER_LEN,
    payloadEnd: end,
  };
}

export interface IcmpEchoFrameOptions extends Ipv4FrameOptions {
  type: 'request' | 'reply';
  id: number;
  seq: number;
  payload?: Uint8Array;
}

/** A complete echo request or reply frame, IP and ICMP checksums filled. */
export function buildIcmpEchoFrame(o: IcmpEchoFrameOptions): Buffer {
  const payload = o.payload ?? EMPTY;
  const { buf, ipOffset, l4Offset: p } = allocIpv4Frame(o, IP_PROTO_ICMP, ICMP_HEADER_LEN + payload.length);
  buf[p] = o.type === 'request' ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY;
  buf[p + 4] = o.id >>> 8;
  buf[p + 5] = o.id;
  buf[p + 6] = o.seq >>> 8;
  buf[p + 7] = o.seq;
  buf.set(payload, p + ICMP_HEADER_LEN);
  fillL4Checksum(buf, ipOffset);
  return buf;
}

/**
 * The reply a host sends to an echo-request frame: addresses swapped, same id, seq, payload and VLAN
 * tag, fresh TTL. Undefined when `request` is not a well-formed, unfragmented IPv4 echo request.
 */
export function buildIcmpEchoReply(request: Uint8Array, ttl = 64): Buffer | undefined {
  const eth = parseEthernet(request);
  if (isMalformed(eth) || eth.ethType !== ETH_TYPE_IPV4) return undefined;
  const ip = parseIpv4Header(request, eth.payloadOffset);
  if (isMalformed(ip) || ip.protocol !== IP_PROTO_ICMP || ip.fragmentOffset !== 0 || (ip.flags & 1) !== 0) return undefined;
  const icmp = parseIcmp(request, ip.payloadOffset, ip.payloadEnd);
  if (isMalformed(icmp) || icmp.type !== ICMP_ECHO_REQUEST || icmp.code !== 0) return undefined;
  return buildIcmpEchoFrame({
    srcMac: readMac(request, 0),
    dstMac: readMac(request, 6),
    srcIp: readIpv4(request, ip.offset + 16),
    dstIp: readIpv4(request, ip.offset + 12),
    ttl,
    vlan: eth.vlan,
    type: 'reply',
    id: icmp.id,
    seq: icmp.seq,
    payload: request.subarray(icmp.payloadOffset, icmp.payloadEnd),
  });
}

const EMPTY = new Uint8Array(0);
