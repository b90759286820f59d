/** UDP (RFC 768). */
import { fillL4Checksum } from '../checksum.js';
import { IP_PROTO_UDP, UDP_HEADER_LEN } from './constants.js';
import { allocIpv4Frame, type Ipv4FrameOptions } from './ipv4-frame.js';
import { malformed, type MalformedFrame } from './malformed.js';

export interface UdpHeader {
  readonly offset: number;
  readonly srcPort: number;
  readonly dstPort: number;
  /** Header plus payload, in bytes, as the header says. */
  readonly length: number;
  /** 0 means the sender computed none. */
  readonly checksum: number;
  readonly payloadOffset: number;
  /** offset + length. */
  readonly payloadEnd: number;
}

/** Parse the UDP header at `offset`; `end` is where the IP packet ends (default: the buffer's end). */
export function parseUdp(buf: Uint8Array, offset: number, end = buf.length): UdpHeader | MalformedFrame {
  const b = buf;
  const o = offset;
  if (o < 0 || end > b.length || end < o + UDP_HEADER_LEN) return malformed('udp', 'truncated');
  const length = (b[o + 4] << 8) | b[o + 5];
  if (length < UDP_HEADER_LEN) return malformed('udp', 'bad-length');
  if (o + length > end) return malformed('udp', 'truncated');
  return {
    offset: o,
    srcPort: (b[o] << 8) | b[o + 1],
    dstPort: (b[o + 2] << 8) | b[o + 3],
    length,
    checksum: (b[o + 6] << 8) | b[o + 7],
    payloadOffset: o + UDP_HEADER_LEN,
    payloadEnd: o + length,
  };
}

export interface UdpFrameOptions extends Ipv4FrameOptions {
  srcPort: number;
  dstPort: number;
  payload?: Uint8Array;
  /** Leave the UDP checksum 0 ("none"), as some tunnels do. Default false. */
  noChecksum?: boolean;
}

/** A complete UDP-in-IPv4-in-Ethernet frame, checksums filled. */
export function buildUdpFrame(o: UdpFrameOptions): Buffer {
  const payload = o.payload ?? EMPTY;
  const length = UDP_HEADER_LEN + payload.length;
  const { buf, ipOffset, l4Offset: p } = allocIpv4Frame(o, IP_PROTO_UDP, length);
  buf[p] = o.srcPort >>> 8;
  buf[p + 1] = o.srcPort;
  buf[p + 2] = o.dstPort >>> 8;
  buf[p + 3] = o.dstPort;
  buf[p + 4] = length >>> 8;
  buf[p + 5] = length;
  buf.set(payload, p + UDP_HEADER_LEN);
  if (!o.noChecksum) fillL4Checksum(buf, ipOffset);
  return buf;
}

const EMPTY = new Uint8Array(0);
