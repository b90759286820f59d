/**
 * IPv4 addresses are plain uint32 numbers (always non-negative: every producer applies `>>> 0`).
 * Text is strict dotted-quad decimal: no octal, hex, short forms or leading zeros, which ipaddr.js
 * would otherwise accept and which make `010.0.0.1` mean different things to different tools.
 */
import ipaddr from 'ipaddr.js';
import { OvercastError } from '../errors/index.js';

export const IPV4_MAX = 0xffffffff;

export function isIpv4(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= IPV4_MAX;
}

export function parseIpv4(text: string, field?: string): number {
  if (typeof text !== 'string' || !ipaddr.IPv4.isValidFourPartDecimal(text)) {
    throw new OvercastError('OVC_ERR_NET_BAD_IPV4', `not a dotted-quad IPv4 address: ${String(text)}`, field);
  }
  const p = text.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

export function formatIpv4(ip: number, field?: string): string {
  if (!isIpv4(ip)) throw new OvercastError('OVC_ERR_NET_BAD_IPV4', `not a 32-bit IPv4 value: ${ip}`, field);
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** Four bytes at `offset`, network order. The caller guarantees `offset + 4 <= buf.length`. */
export function readIpv4(buf: Uint8Array, offset: number): number {
  const b = buf;
  const o = offset;
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function writeIpv4(buf: Uint8Array, offset: number, ip: number): void {
  const b = buf;
  const o = offset;
  b[o] = ip >>> 24;
  b[o + 1] = ip >>> 16;
  b[o + 2] = ip >>> 8;
  b[o + 3] = ip;
}
