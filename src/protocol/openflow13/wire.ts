/**
 * Byte cursors for the codec. The writer indexes a growable Buffer directly (no readUInt* or writeUInt*
 * calls, no DataView per message): encoding flow-mods is on the controller's push path. The reader
 * bounds-checks every read and throws DecodeError, which decodeOf13 turns into an Of13Malformed result, so
 * decoders read like the spec and still never let a RangeError escape.
 */
import type { MalformedCode } from './messages.js';

const TWO_32 = 0x100000000;

export class Writer {
  buf: Buffer;
  off = 0;

  constructor(initialBytes = 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Make room for n more bytes. Hot encoders call this once with an upper bound, then write freely. */
  ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.off++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    b[this.off] = v >>> 8;
    b[this.off + 1] = v;
    this.off += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const o = this.off;
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
    this.off = o + 4;
  }

  /** A safe integer as 64 bits (upper bits zero for values below 2^32; -1 is all ones). */
  u64(v: number): void {
    this.u32(Math.floor(v / TWO_32));
    this.u32(v >>> 0);
  }

  /** A cookie mask: 2^53 - 1 (every bit a cookie can have) is written as all ones, as Open vSwitch does. */
  u64Mask(v: number): void {
    if (v === Number.MAX_SAFE_INTEGER) {
      this.u32(0xffffffff);
      this.u32(0xffffffff);
    } else this.u64(v);
  }

  u64big(v: bigint): void {
    this.u32(Number((v >> 32n) & 0xffffffffn));
    this.u32(Number(v & 0xffffffffn));
  }

  /** A 48-bit number (a MAC). */
  u48(v: number): void {
    this.u16(Math.floor(v / TWO_32));
    this.u32(v >>> 0);
  }

  zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.off, this.off + n);
    this.off += n;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.off);
    this.off += src.length;
  }

  /** A string in a fixed-size NUL-padded field. */
  fixedString(s: string, size: number): void {
    this.ensure(size);
    this.buf.fill(0, this.off, this.off + size);
    this.buf.write(s, this.off, size - 1, 'latin1');
    this.off += size;
  }

  padTo8(start: number): void {
    const rem = (this.off - start) % 8;
    if (rem !== 0) this.zeros(8 - rem);
  }

  put16(at: number, v: number): void {
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v;
  }

  /** A fresh Buffer holding what was written since `start` (the scratch buffer is reused). */
  copyOut(start = 0): Buffer {
    const out = Buffer.allocUnsafe(this.off - start);
    this.buf.copy(out, 0, start, this.off);
    return out;
  }
}

export class DecodeError extends Error {
  constructor(
    readonly code: MalformedCode,
    reason: string,
  ) {
    super(reason);
  }
}

export const malformed = (reason: string): DecodeError => new DecodeError('OVC_ERR_PROTO_MALFORMED', reason);
export const unsupported = (reason: string): DecodeError => new DecodeError('OVC_ERR_PROTO_UNSUPPORTED', reason);

export class Reader {
  constructor(
    readonly buf: Uint8Array,
    public off: number,
    /** Exclusive end of the region this reader may read. */
    readonly end: number,
  ) {}

  get remaining(): number {
    return this.end - this.off;
  }

  need(n: number, what: string): void {
    if (n < 0 || this.off + n > this.end) throw malformed(`truncated ${what}`);
  }

  u8(): number {
    this.need(1, 'u8');
    return this.buf[this.off++];
  }

  u16(): number {
    this.need(2, 'u16');
    const b = this.buf;
    const v = (b[this.off] << 8) | b[this.off + 1];
    this.off += 2;
    return v;
  }

  u32(): number {
    this.need(4, 'u32');
    const b = this.buf;
    const o = this.off;
    this.off = o + 4;
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }

  /** 64 bits as a number, exact below 2^53 (counters); all ones (OpenFlow's "not available") is -1. */
  u64Counter(): number {
    const hi = this.u32();
    const lo = this.u32();
    if (hi === 0xffffffff && lo === 0xffffffff) return -1;
    return hi * TWO_32 + lo;
  }

  /**
   * A 64-bit cookie mask: bits above 53 select cookie bits that are always zero in Overcast, so they
   * are dropped; all ones (an exact cookie match, as ovs-ofctl writes it) becomes 2^53 - 1.
   */
  u64Mask(): number {
    const hi = this.u32() & 0x1fffff;
    return hi * TWO_32 + this.u32();
  }

  /** 64 bits that must fit a safe integer, else `undefined`. */
  u64Safe(): number | undefined {
    const hi = this.u32();
    const lo = this.u32();
    if (hi > 0x1fffff) return undefined;
    return hi * TWO_32 + lo;
  }

  u64big(): bigint {
    const hi = this.u32();
    return (BigInt(hi) << 32n) | BigInt(this.u32());
  }

  u48(): number {
    const hi = this.u16();
    return hi * TWO_32 + this.u32();
  }

  skip(n: number, what = 'padding'): void {
    this.need(n, what);
    this.off += n;
  }

  /** A copy, so a decoded message does not pin the receive buffer. */
  bytes(n: number): Buffer {
    this.need(n, 'bytes');
    const out = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    return out;
  }

  fixedString(size: number): string {
    this.need(size, 'string');
    let end = this.off;
    const stop = this.off + size;
    while (end < stop && this.buf[end] !== 0) end++;
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.off, end - this.off).toString('latin1');
    this.off = stop;
    return s;
  }

  /** A sub-reader over the next n bytes; this reader moves past them. */
  sub(n: number, what: string): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, this.off, this.off + n);
    this.off += n;
    return r;
  }
}
