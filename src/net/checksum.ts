/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624). Direct byte indexing
 * throughout: these run per packet in the softswitch. Functions that take an IPv4 header offset read
 * its fields straight from the bytes; the verify functions are total (bounds-checked, never throw),
 * the compute/fill functions expect a header that parseIpv4Header accepted.
 */

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

function fold(sum: number): number {
  // `& 0xffff` is exact for any integer below 2^53 (ToInt32 keeps the low bits); the carry may be
  // wider than 32 bits for huge buffers, hence the division rather than `>>> 16`.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * The folded 16-bit ones' complement sum of bytes [start, end), big-endian words, an odd last byte
 * padded with zero; `initial` is a previous (uncomplemented) sum to continue, e.g. a pseudo-header's.
 */
export function onesComplementSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  const b = buf;
  let sum = initial;
  let i = start;
  const pairsEnd = end - 1;
  for (; i < pairsEnd; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return fold(sum);
}

/** RFC 1071: the ones' complement of the ones' complement sum, the value a header carries. */
export function internetChecksum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  return ~onesComplementSum(buf, start, end, initial) & 0xffff;
}

function ipHeaderLength(b: Uint8Array, ipOffset: number): number {
  return (b[ipOffset] & 0x0f) * 4;
}

/** The header checksum of the IPv4 header at `ipOffset`, computed as if its checksum field were 0. */
export function ipv4HeaderChecksum(buf: Uint8Array, ipOffset: number): number {
  const end = ipOffset + ipHeaderLength(buf, ipOffset);
  return ~onesComplementSum(buf, ipOffset + 12, end, onesComplementSum(buf, ipOffset, ipOffset + 10)) & 0xffff;
}

export function fillIpv4Checksum(buf: Uint8Array, ipOffset: number): void {
  const c = ipv4HeaderChecksum(buf, ipOffset);
  buf[ipOffset + 10] = c >>> 8;
  buf[ipOffset + 11] = c;
}

/** Does the IPv4 header at `ipOffset` carry a correct checksum? False when it is not a whole header. */
export function verifyIpv4Checksum(buf: Uint8Array, ipOffset: number): boolean {
  if (ipOffset < 0 || buf.length < ipOffset + 20) return false;
  const hl = ipHeaderLength(buf, ipOffset);
  if (hl < 20 || buf.length < ipOffset + hl) return false;
  return onesComplementSum(buf, ipOffset, ipOffset + hl) === 0xffff;
}

/** Sum of the IPv4 pseudo-header (source, destination, zero, protocol, L4 length) for TCP and UDP. */
export function pseudoHeaderSum(buf: Uint8Array, ipOffset: number, protocol: number, l4Length: number): number {
  const b = buf;
  const o = ipOffset;
  return (
    ((b[o + 12] << 8) | b[o + 13]) +
    ((b[o + 14] << 8) | b[o + 15]) +
    ((b[o + 16] << 8) | b[o + 17]) +
    ((b[o + 18] << 8) | b[o + 19]) +
    protocol +
    l4Length
  );
}

/** Offset of the checksum field within the L4 header, or -1 for protocols we do not checksum. */
function l4ChecksumField(protocol: number): number {
  if (protocol === PROTO_UDP) return 6;
  if (protocol === PROTO_TCP) return 16;
  if (protocol === PROTO_ICMP) return 2;
  return -1;
}

/**
 * The checksum the TCP, UDP or ICMP header of the packet at `ipOffset` should carry (computed over
 * the L4 header and payload up to the IP total length, with the pseudo-header for TCP and UDP, as if
 * the checksum field were 0). A UDP result of 0 is returned as 0xffff (0 on the wire means "none").
 * Undefined for other protocols. Expects an unfragmented packet whose bytes are all present. The L4
 * length is the IP payload length (UDP's own length field is taken to agree, as parseUdp checks).
 */
export function l4Checksum(buf: Uint8Array, ipOffset: number): number | undefined {
  const protocol = buf[ipOffset + 9];
  const field = l4ChecksumField(protocol);
  if (field < 0) return undefined;
  const l4 = ipOffset + ipHeaderLength(buf, ipOffset);
  const end = Math.min(buf.length, ipOffset + ((buf[ipOffset + 2] << 8) | buf[ipOffset + 3]));
  const initial = protocol === PROTO_ICMP ? 0 : pseudoHeaderSum(buf, ipOffset, protocol, end - l4);
  // The checksum field is word-aligned within the header, so skipping it keeps the words aligned.
  const before = onesComplementSum(buf, l4, l4 + field, initial);
  const c = ~onesComplementSum(buf, l4 + field + 2, end, before) & 0xffff;
  return protocol === PROTO_UDP && c === 0 ? 0xffff : c;
}

/** Compute and write the L4 checksum (TCP, UDP, ICMP); other protocols are left untouched. */
export function fillL4Checksum(buf: Uint8Array, ipOffset: number): void {
  const c = l4Checksum(buf, ipOffset);
  if (c === undefined) return;
  const at = ipOffset + ipHeaderLength(buf, ipOffset) + (l4ChecksumField(buf[ipOffset + 9]) as number);
  buf[at] = c >>> 8;
  buf[at + 1] = c;
}

/**
 * Is the TCP, UDP or ICMP checksum of the packet at `ipOffset` correct? UDP checksum 0 (none) passes.
 * Fragments and other protocols pass too (nothing here can check them); a packet whose header or
 * announced length does not fit in `buf` fails.
 */
export function verifyL4Checksum(buf: Uint8Array, ipOffset: number): boolean {
  const b = buf;
  if (ipOffset < 0 || b.length < ipOffset + 20) return false;
  const hl = ipHeaderLength(b, ipOffset);
  const total = (b[ipOffset + 2] << 8) | b[ipOffset + 3];
  if (hl < 20 || total < hl || b.length < ipOffset + total) return false;
  const protocol = b[ipOffset + 9];
  const field = l4ChecksumField(protocol);
  if (field < 0) return true;
  if ((b[ipOffset + 6] & 0x3f) !== 0 || b[ipOffset + 7] !== 0) return true; // MF set or offset > 0
  const l4 = ipOffset + hl;
  const end = ipOffset + total;
  const minHeader = protocol === PROTO_TCP ? 20 : 8;
  if (end - l4 < minHeader) return false;
  if (protocol === PROTO_UDP && b[l4 + 6] === 0 && b[l4 + 7] === 0) return true;
  const initial = protocol === PROTO_ICMP ? 0 : pseudoHeaderSum(b, ipOffset, protocol, end - l4);
  return onesComplementSum(b, l4, end, initial) === 0xffff;
}

/**
 * RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data changes from `oldWord` to
 * `newWord`: HC' = ~(~HC + ~m + m'). Equals a full recompute for any checksum a sender computed.
 */
export function checksumUpdate16(oldChecksum: number, oldWord: number, newWord: number): number {
  let sum = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** As checksumUpdate16 for a 32-bit value (an IPv4 address): both of its 16-bit words change. */
export function checksumUpdate32(oldChecksum: number, oldValue: number, newValue: number): number {
  let sum =
    (~oldChecksum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    (newValue >>> 16) +
    (newValue & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** UDP flavour of checksumUpdate16: 0 (no checksum) stays 0, and a result of 0 is sent as 0xffff. */
export function udpChecksumUpdate16(oldChecksum: number, oldWord: number, newWord: number): number {
  if (oldChecksum === 0) return 0;
  const c = checksumUpdate16(oldChecksum, oldWord, newWord);
  return c === 0 ? 0xffff : c;
}

/** UDP flavour of checksumUpdate32. */
export function udpChecksumUpdate32(oldChecksum: number, oldValue: number, newValue: number): number {
  if (oldChecksum === 0) return 0;
  const c = checksumUpdate32(oldChecksum, oldValue, newValue);
  return c === 0 ? 0xffff : c;
}
