/**
 * MAC addresses are plain numbers: 48 bits fit exactly in a double, so they compare with ===, key
 * Maps without strings, and cost nothing to copy. Text only appears at the edges (config, API, logs).
 */
import { OvercastError } from '../errors/index.js';

/** 2^32: splits a MAC into its high 16 and low 32 bits (JS bitwise operators stop at 32 bits). */
const TWO_32 = 0x100000000;
export const MAC_MAX = 0xffffffffffff;
export const BROADCAST_MAC = MAC_MAX;

const MAC_TEXT = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;

/** A 48-bit integer? (The check every API boundary needs before trusting a number as a MAC.) */
export function isMac(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAC_MAX;
}

/** `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff`, any case, one separator throughout. */
export function parseMac(text: string, field?: string): number {
  const m = typeof text === 'string' ? MAC_TEXT.exec(text) : null;
  if (!m) throw new OvercastError('OVC_ERR_NET_BAD_MAC', `not a MAC address: ${String(text)}`, field);
  return parseInt(m[1] + m[3] + m[4] + m[5] + m[6] + m[7], 16);
}

/** Lower-case colon form. Refuses anything but a 48-bit integer, so a bug never prints as a MAC. */
export function formatMac(mac: number, field?: string): string {
  if (!isMac(mac)) throw new OvercastError('OVC_ERR_NET_BAD_MAC', `not a 48-bit MAC value: ${mac}`, field);
  const hex = mac.toString(16).padStart(12, '0');
  return `${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}:${hex.slice(8, 10)}:${hex.slice(10, 12)}`;
}

/** Six bytes at `offset`, network order. The caller guarantees `offset + 6 <= buf.length`. */
export function readMac(buf: Uint8Array, offset: number): number {
  const b = buf;
  const o = offset;
  return ((b[o] << 8) | b[o + 1]) * TWO_32 + (((b[o + 2] << 24) | (b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5]) >>> 0);
}

export function writeMac(buf: Uint8Array, offset: number, mac: number): void {
  const b = buf;
  const o = offset;
  const hi = Math.floor(mac / TWO_32);
  const lo = mac >>> 0; // ToUint32 is modulo 2^32: exactly the low 32 bits of an integer below 2^53
  b[o] = hi >>> 8;
  b[o + 1] = hi;
  b[o + 2] = lo >>> 24;
  b[o + 3] = lo >>> 16;
  b[o + 4] = lo >>> 8;
  b[o + 5] = lo;
}

/** The I/G bit (least significant bit of the first octet): group addresses, broadcast included. */
export function isMulticastMac(mac: number): boolean {
  return (Math.floor(mac / 0x10000000000) & 1) === 1;
}

export function isBroadcastMac(mac: number): boolean {
  return mac === BROADCAST_MAC;
}

/** The packet key stores a MAC as two slots: its high 16 bits and its low 32 bits. */
export function macHi(mac: number): number {
  return Math.floor(mac / TWO_32);
}
export function macLo(mac: number): number {
  return mac >>> 0;
}
export function macFromHiLo(hi: number, lo: number): number {
  return (hi & 0xffff) * TWO_32 + (lo >>> 0);
}
