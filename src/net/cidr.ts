/**
 * IPv4 prefixes. A Cidr is immutable and always canonical (no host bits set), so two Cidrs for the
 * same block have equal `network` and `prefixLength`; VPC subnets and IPAM are built on it.
 */
import { OvercastError } from '../errors/index.js';
import { formatIpv4, isIpv4, parseIpv4 } from './ipv4.js';

/** The netmask of a prefix length as a uint32 (`<< 32` is a no-op in JS, hence the special case). */
export function prefixMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

function isPrefixLength(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 32;
}

export class Cidr {
  readonly network: number;
  readonly prefixLength: number;

  /** Refuses a bad prefix length and host bits set (OVC_ERR_NET_BAD_CIDR). */
  constructor(network: number, prefixLength: number, field?: string) {
    if (!isIpv4(network) || !isPrefixLength(prefixLength)) {
      throw new OvercastError('OVC_ERR_NET_BAD_CIDR', `not a CIDR: ${network}/${prefixLength}`, field);
    }
    if ((network & ~prefixMask(prefixLength)) !== 0) {
      throw new OvercastError('OVC_ERR_NET_BAD_CIDR', `host bits set in ${formatIpv4(network)}/${prefixLength}`, field);
    }
    this.network = network;
    this.prefixLength = prefixLength;
  }

  get mask(): number {
    return prefixMask(this.prefixLength);
  }

  /** The last address of the block (for /32 the address itself). */
  get broadcast(): number {
    return (this.network | ~this.mask) >>> 0;
  }

  /** Number of addresses in the block (2^32 for /0: a number, not a uint32). */
  get size(): number {
    return 2 ** (32 - this.prefixLength);
  }

  /**
   * Usable host addresses: the block minus network and broadcast; /31 has two usable addresses
   * (RFC 3021, point-to-point) and /32 one.
   */
  get hostCount(): number {
    return this.prefixLength >= 31 ? this.size : this.size - 2;
  }

  get firstHost(): number {
    return this.prefixLength >= 31 ? this.network : this.network + 1;
  }

  get lastHost(): number {
    return this.prefixLength >= 31 ? this.broadcast : this.broadcast - 1;
  }

  /** The i-th usable host (0-based, from firstHost). An index outside [0, hostCount) is a bug: RangeError. */
  hostAt(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.hostCount) {
      throw new RangeError(`host index ${i} outside 0..${this.hostCount - 1} of ${formatCidr(this)}`);
    }
    return this.firstHost + i;
  }

  /** Index of `ip` among the usable hosts, or -1 (network, broadcast, or outside the block). */
  hostIndex(ip: number): number {
    if (!this.contains(ip)) return -1;
    const i = ip - this.firstHost;
    return i >= 0 && i < this.hostCount ? i : -1;
  }

  contains(ip: number): boolean {
    return ((ip & this.mask) >>> 0) === this.network;
  }

  /** Is `other` entirely inside this block? */
  covers(other: Cidr): boolean {
    return other.prefixLength >= this.prefixLength && this.contains(other.network);
  }

  /** Do the blocks share any address? (Two prefixes overlap exactly when one covers the other.) */
  overlaps(other: Cidr): boolean {
    return this.covers(other) || other.covers(this);
  }

  equals(other: Cidr): boolean {
    return this.network === other.network && this.prefixLength === other.prefixLength;
  }

  toString(): string {
    return formatCidr(this);
  }
}

const CIDR_PREFIX = /^(?:[0-9]|[12][0-9]|3[0-2])$/;

/** `a.b.c.d/len`, strict: dotted-quad address, decimal length 0..32, no host bits set. */
export function parseCidr(text: string, field?: string): Cidr {
  const slash = typeof text === 'string' ? text.indexOf('/') : -1;
  if (slash < 0 || !CIDR_PREFIX.test(text.slice(slash + 1))) {
    throw new OvercastError('OVC_ERR_NET_BAD_CIDR', `not a CIDR (a.b.c.d/len): ${String(text)}`, field);
  }
  let network: number;
  try {
    network = parseIpv4(text.slice(0, slash), field);
  } catch {
    throw new OvercastError('OVC_ERR_NET_BAD_CIDR', `not a CIDR (a.b.c.d/len): ${text}`, field);
  }
  return new Cidr(network, Number(text.slice(slash + 1)), field);
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefixLength}`;
}

/** The block of the given length around `ip` (host bits cleared): `10.0.0.7`, 24 -> `10.0.0.0/24`. */
export function cidrContaining(ip: number, prefixLength: number, field?: string): Cidr {
  if (!isIpv4(ip) || !isPrefixLength(prefixLength)) {
    throw new OvercastError('OVC_ERR_NET_BAD_CIDR', `not a CIDR: ${ip}/${prefixLength}`, field);
  }
  return new Cidr((ip & prefixMask(prefixLength)) >>> 0, prefixLength, field);
}
