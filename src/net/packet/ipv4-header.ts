/** The IPv4 header (RFC 791), parsed as a view: numeric fields plus where the payload lies. */
import { readIpv4, writeIpv4 } from '../ipv4.js';
import { fillIpv4Checksum } from '../checksum.js';
import { IPV4_MIN_HEADER_LEN } from './constants.js';
import { malformed, type MalformedFrame } from './malformed.js';

export interface Ipv4Header {
  readonly offset: number;
  /** In bytes (IHL * 4), 20..60. */
  readonly headerLength: number;
  readonly dscp: number;
  readonly ecn: number;
  readonly totalLength: number;
  readonly id: number;
  /** 3 bits: IPV4_FLAG_DF | IPV4_FLAG_MF. */
  readonly flags: number;
  /** In 8-byte units, as on the wire. Non-zero means a later fragment: no L4 header. */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  readonly src: number;
  readonly dst: number;
  readonly payloadOffset: number;
  /** offset + totalLength: bytes after it (Ethernet padding) are not part of the packet. */
  readonly payloadEnd: number;
}

/**
 * Parse the IPv4 header at `offset`. Checks structure (version, IHL, total length against the
 * buffer), not the checksum: see verifyIpv4Checksum.
 */
export function parseIpv4Header(buf: Uint8Array, offset: number): Ipv4Header | MalformedFrame {
  const b = buf;
  const o = offset;
  const len = b.length;
  if (o < 0 || len < o + IPV4_MIN_HEADER_LEN) return malformed('ipv4', 'truncated');
  const vihl = b[o];
  if (vihl >>> 4 !== 4) return malformed('ipv4', 'bad-version');
  const headerLength = (vihl & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER_LEN) return malformed('ipv4', 'bad-header-length');
  if (len < o + headerLength) return malformed('ipv4', 'truncated');
  const totalLength = (b[o + 2] << 8) | b[o + 3];
  if (totalLength < headerLength) return malformed('ipv4', 'bad-length');
  if (len < o + totalLength) return malformed('ipv4', 'truncated');
  return {
    offset: o,
    headerLength,
    dscp: b[o + 1] >>> 2,
    ecn: b[o + 1] & 3,
    totalLength,
    id: (b[o + 4] << 8) | b[o + 5],
    flags: b[o + 6] >>> 5,
    fragmentOffset: ((b[o + 6] & 0x1f) << 8) | b[o + 7],
    ttl: b[o + 8],
    protocol: b[o + 9],
    checksum: (b[o + 10] << 8) | b[o + 11],
    src: readIpv4(b, o + 12),
    dst: readIpv4(b, o + 16),
    payloadOffset: o + headerLength,
    payloadEnd: o + totalLength,
  };
}

/** Header fields to write; no options are written (IHL 5). Values are masked to their widths. */
export interface Ipv4HeaderInit {
  src: number;
  dst: number;
  protocol: number;
  /** Default 64. */
  ttl?: number;
  /** Default 0. */
  id?: number;
  dscp?: number;
  ecn?: number;
  /** Default 0 (neither DF nor MF). */
  flags?: number;
  fragmentOffset?: number;
}

/** Write a 20-byte header at `offset` for `payloadLength` bytes of payload, checksum filled; returns the payload offset. */
export function writeIpv4Header(buf: Uint8Array, offset: number, h: Ipv4HeaderInit, payloadLength: number): number {
  const b = buf;
  const o = offset;
  const total = IPV4_MIN_HEADER_LEN + payloadLength;
  if (total > 0xffff) throw new RangeError(`IPv4 packet of ${total} bytes exceeds 65535`);
  const id = h.id ?? 0;
  const fragWord = ((h.flags ?? 0) & 7) << 13 | ((h.fragmentOffset ?? 0) & 0x1fff);
  b[o] = 0x45;
  b[o + 1] = ((h.dscp ?? 0) & 0x3f) << 2 | ((h.ecn ?? 0) & 3);
  b[o + 2] = total >>> 8;
  b[o + 3] = total;
  b[o + 4] = id >>> 8;
  b[o + 5] = id;
  b[o + 6] = fragWord >>> 8;
  b[o + 7] = fragWord;
  b[o + 8] = h.ttl ?? 64;
  b[o + 9] = h.protocol;
  b[o + 10] = 0;
  b[o + 11] = 0;
  writeIpv4(b, o + 12, h.src);
  writeIpv4(b, o + 16, h.dst);
  fillIpv4Checksum(b, o);
  return o + IPV4_MIN_HEADER_LEN;
}

/** A fresh IPv4 packet (no Ethernet header) around a copy of `payload`; the payload is not touched (no L4 checksum). */
export function buildIpv4Packet(h: Ipv4HeaderInit & { payload: Uint8Array }): Buffer {
  const buf = Buffer.alloc(IPV4_MIN_HEADER_LEN + h.payload.length);
  buf.set(h.payload, writeIpv4Header(buf, 0, h, h.payload.length));
  return buf;
}
