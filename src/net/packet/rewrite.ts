/**
 * In-place header rewrites with incremental checksum updates (RFC 1624), as set-field and dec-TTL
 * actions need: NAT rewrites addresses and ports, routing decrements the TTL. Each takes the offset
 * of an IPv4 header that parseIpv4Header (or extractKey) accepted; the L4 checksum is updated only
 * when its field lies inside the buffer and the packet carries an L4 header (fragment offset 0).
 */
import { checksumUpdate16, checksumUpdate32, udpChecksumUpdate16, udpChecksumUpdate32 } from '../checksum.js';
import { IP_PROTO_TCP, IP_PROTO_UDP } from './constants.js';

/** Offset of the TCP/UDP checksum field, or -1 when there is none to update. */
function l4ChecksumAt(b: Uint8Array, ipOffset: number): number {
  if ((b[ipOffset + 6] & 0x1f) !== 0 || b[ipOffset + 7] !== 0) return -1; // later fragment: no L4 header
  const protocol = b[ipOffset + 9];
  const l4 = ipOffset + (b[ipOffset] & 0x0f) * 4;
  const at = protocol === IP_PROTO_UDP ? l4 + 6 : protocol === IP_PROTO_TCP ? l4 + 16 : -1;
  return at >= 0 && at + 2 <= b.length ? at : -1;
}

function setIpv4Address(b: Uint8Array, ipOffset: number, at: number, ip: number): void {
  const old = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  const newIp = ip >>> 0;
  if (old === newIp) return;
  b[at] = newIp >>> 24;
  b[at + 1] = newIp >>> 16;
  b[at + 2] = newIp >>> 8;
  b[at + 3] = newIp;
  const ipc = checksumUpdate32((b[ipOffset + 10] << 8) | b[ipOffset + 11], old, newIp);
  b[ipOffset + 10] = ipc >>> 8;
  b[ipOffset + 11] = ipc;
  // TCP and UDP checksums cover the addresses through the pseudo-header; ICMP's does not.
  const l4 = l4ChecksumAt(b, ipOffset);
  if (l4 < 0) return;
  const oldC = (b[l4] << 8) | b[l4 + 1];
  const c = b[ipOffset + 9] === IP_PROTO_UDP ? udpChecksumUpdate32(oldC, old, newIp) : checksumUpdate32(oldC, old, newIp);
  b[l4] = c >>> 8;
  b[l4 + 1] = c;
}

export function setIpv4Src(buf: Uint8Array, ipOffset: number, ip: number): void {
  setIpv4Address(buf, ipOffset, ipOffset + 12, ip);
}

export function setIpv4Dst(buf: Uint8Array, ipOffset: number, ip: number): void {
  setIpv4Address(buf, ipOffset, ipOffset + 16, ip);
}

function setL4Port(b: Uint8Array, ipOffset: number, delta: number, port: number): boolean {
  const l4c = l4ChecksumAt(b, ipOffset);
  if (l4c < 0) return false;
  const at = ipOffset + (b[ipOffset] & 0x0f) * 4 + delta;
  const old = (b[at] << 8) | b[at + 1];
  const p = port & 0xffff;
  if (old === p) return true;
  b[at] = p >>> 8;
  b[at + 1] = p;
  const oldC = (b[l4c] << 8) | b[l4c + 1];
  const c = b[ipOffset + 9] === IP_PROTO_UDP ? udpChecksumUpdate16(oldC, old, p) : checksumUpdate16(oldC, old, p);
  b[l4c] = c >>> 8;
  b[l4c + 1] = c;
  return true;
}

/** Rewrite the TCP/UDP source port; false (nothing written) for other protocols or later fragments. */
export function setL4SrcPort(buf: Uint8Array, ipOffset: number, port: number): boolean {
  return setL4Port(buf, ipOffset, 0, port);
}

export function setL4DstPort(buf: Uint8Array, ipOffset: number, port: number): boolean {
  return setL4Port(buf, ipOffset, 2, port);
}

/**
 * Decrement the TTL and patch the header checksum. Returns false and leaves the packet untouched
 * when the TTL is 0 or 1: the packet must not be forwarded (drop it or answer time-exceeded).
 */
export function decrementTtl(buf: Uint8Array, ipOffset: number): boolean {
  const b = buf;
  const ttl = b[ipOffset + 8];
  if (ttl <= 1) return false;
  const proto = b[ipOffset + 9];
  b[ipOffset + 8] = ttl - 1;
  const c = checksumUpdate16((b[ipOffset + 10] << 8) | b[ipOffset + 11], (ttl << 8) | proto, ((ttl - 1) << 8) | proto);
  b[ipOffset + 10] = c >>> 8;
  b[ipOffset + 11] = c;
  return true;
}
