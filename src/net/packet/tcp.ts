/** TCP (RFC 9293) header: enough to classify, rewrite and synthesize segments; no options written. */
import { fillL4Checksum } from '../checksum.js';
import { IP_PROTO_TCP, TCP_MIN_HEADER_LEN } from './constants.js';
import { allocIpv4Frame, type Ipv4FrameOptions } from './ipv4-frame.js';
import { malformed, type MalformedFrame } from './malformed.js';

export interface TcpHeader {
  readonly offset: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** Data offset in bytes, 20..60. */
  readonly headerLength: number;
  /** 12 bits as OpenFlow's tcp_flags: TCP_FIN | TCP_SYN | ... | TCP_NS. */
  readonly flags: number;
  readonly window: number;
  readonly checksum: number;
  readonly urgentPointer: number;
  readonly payloadOffset: number;
  readonly payloadEnd: number;
}

/** Parse the TCP header at `offset`; `end` is where the IP packet ends (default: the buffer's end). */
export function parseTcp(buf: Uint8Array, offset: number, end = buf.length): TcpHeader | MalformedFrame {
  const b = buf;
  const o = offset;
  if (o < 0 || end > b.length || end < o + TCP_MIN_HEADER_LEN) return malformed('tcp', 'truncated');
  const headerLength = (b[o + 12] >>> 4) * 4;
  if (headerLength < TCP_MIN_HEADER_LEN) return malformed('tcp', 'bad-header-length');
  if (end < o + headerLength) return malformed('tcp', 'truncated');
  return {
    offset: o,
    srcPort: (b[o] << 8) | b[o + 1],
    dstPort: (b[o + 2] << 8) | b[o + 3],
    seq: ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0,
    ack: ((b[o + 8] << 24) | (b[o + 9] << 16) | (b[o + 10] << 8) | b[o + 11]) >>> 0,
    headerLength,
    flags: ((b[o + 12] & 0x0f) << 8) | b[o + 13],
    window: (b[o + 14] << 8) | b[o + 15],
    checksum: (b[o + 16] << 8) | b[o + 17],
    urgentPointer: (b[o + 18] << 8) | b[o + 19],
    payloadOffset: o + headerLength,
    payloadEnd: end,
  };
}

export interface TcpFrameOptions extends Ipv4FrameOptions {
  srcPort: number;
  dstPort: number;
  /** Default 0. */
  seq?: number;
  ack?: number;
  /** TCP_SYN | TCP_ACK ...; default 0. */
  flags?: number;
  /** Default 65535. */
  window?: number;
  payload?: Uint8Array;
}

/** A complete TCP-in-IPv4-in-Ethernet frame (20-byte header, no options), checksums filled. */
export function buildTcpFrame(o: TcpFrameOptions): Buffer {
  const payload = o.payload ?? EMPTY;
  const { buf, ipOffset, l4Offset: p } = allocIpv4Frame(o, IP_PROTO_TCP, TCP_MIN_HEADER_LEN + payload.length);
  const seq = o.seq ?? 0;
  const ack = o.ack ?? 0;
  const flags = o.flags ?? 0;
  const window = o.window ?? 0xffff;
  buf[p] = o.srcPort >>> 8;
  buf[p + 1] = o.srcPort;
  buf[p + 2] = o.dstPort >>> 8;
  buf[p + 3] = o.dstPort;
  buf[p + 4] = seq >>> 24;
  buf[p + 5] = seq >>> 16;
  buf[p + 6] = seq >>> 8;
  buf[p + 7] = seq;
  buf[p + 8] = ack >>> 24;
  buf[p + 9] = ack >>> 16;
  buf[p + 10] = ack >>> 8;
  buf[p + 11] = ack;
  buf[p + 12] = (TCP_MIN_HEADER_LEN / 4) << 4 | ((flags >>> 8) & 0x0f);
  buf[p + 13] = flags;
  buf[p + 14] = window >>> 8;
  buf[p + 15] = window;
  buf.set(payload, p + TCP_MIN_HEADER_LEN);
  fillL4Checksum(buf, ipOffset);
  return buf;
}

const EMPTY = new Uint8Array(0);
