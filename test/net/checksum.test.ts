import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checksumUpdate16,
  checksumUpdate32,
  fillIpv4Checksum,
  fillL4Checksum,
  internetChecksum,
  ipv4HeaderChecksum,
  l4Checksum,
  onesComplementSum,
  udpChecksumUpdate16,
  verifyIpv4Checksum,
  verifyL4Checksum,
} from '../../src/net/index.js';
import { hex, KNOWN } from './fixtures.js';

/** Oracle: the ones' complement sum is the plain sum modulo 0xffff (with 0xffff standing for a nonzero 0). */
function referenceChecksum(b: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += b[i] * 256 + (i + 1 < end ? b[i + 1] : 0);
  const s = sum === 0 ? 0 : sum % 0xffff || 0xffff;
  return 0xffff - s;
}

describe('internetChecksum (RFC 1071)', () => {
  it('matches the RFC 1071 section 3 example: 0001 f203 f4f5 f6f7 sums to ddf2', () => {
    const b = Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(onesComplementSum(b, 0, 8)).toBe(0xddf2);
    expect(internetChecksum(b, 0, 8)).toBe(0x220d);
  });

  it('pads an odd trailing byte with zero', () => {
    expect(onesComplementSum(Buffer.from([0x12, 0x34, 0x56]), 0, 3)).toBe(0x1234 + 0x5600);
  });

  it('continues from an initial sum, so a buffer may be summed in even-sized pieces', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(100), (bytes, cut) => {
        const mid = Math.min(bytes.length, cut * 2);
        return internetChecksum(bytes, mid, bytes.length, onesComplementSum(bytes, 0, mid)) === internetChecksum(bytes, 0, bytes.length);
      }),
    );
  });

  it('agrees with a modulo-0xffff oracle on random data, including long runs of 0xff', () => {
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 1, maxLength: 3000 }).map((b) => b.fill(0xff)));
    fc.assert(fc.property(bytes, (b) => internetChecksum(b, 0, b.length) === referenceChecksum(b, 0, b.length)));
  });

  it('folds correctly on a buffer whose raw sum exceeds 2^32', () => {
    const b = new Uint8Array(200_000).fill(0xff);
    expect(onesComplementSum(b, 0, b.length)).toBe(0xffff);
    b[7] = 0xfe;
    expect(internetChecksum(b, 0, b.length)).toBe(referenceChecksum(b, 0, b.length));
  });
});

describe('IPv4 header checksum', () => {
  // The classic worked example (Wikipedia, "IPv4 header checksum"): c0a8:0001 -> c0a8:00c7, checksum b861.
  const header = hex('450000730000400040110000c0a80001c0a800c7');

  it('computes the worked example', () => {
    expect(ipv4HeaderChecksum(header, 0)).toBe(0xb861);
    const b = Buffer.from(header);
    fillIpv4Checksum(b, 0);
    expect(b.readUInt16BE(10)).toBe(0xb861);
    expect(verifyIpv4Checksum(b, 0)).toBe(true);
    b[8] ^= 1;
    expect(verifyIpv4Checksum(b, 0)).toBe(false);
  });

  it('ignores the stored checksum when computing', () => {
    const b = Buffer.from(header);
    b.writeUInt16BE(0x1234, 10);
    expect(ipv4HeaderChecksum(b, 0)).toBe(0xb861);
  });

  it('verifies the captured-style fixtures at their offsets (VLAN-tagged too)', () => {
    expect(verifyIpv4Checksum(hex(KNOWN.udp), 14)).toBe(true);
    expect(verifyIpv4Checksum(hex(KNOWN.udpVlanOdd), 18)).toBe(true);
    expect(ipv4HeaderChecksum(hex(KNOWN.tcp), 14)).toBe(0x66bc);
  });

  it('verify is total: short or bad headers are false, never a throw', () => {
    expect(verifyIpv4Checksum(header.subarray(0, 19), 0)).toBe(false);
    expect(verifyIpv4Checksum(hex('440000730000400040110000c0a80001c0a800c7'), 0)).toBe(false);
    expect(verifyIpv4Checksum(header, -1)).toBe(false);
    expect(verifyIpv4Checksum(header, 5)).toBe(false);
  });
});

describe('L4 checksums with the pseudo-header', () => {
  it.each([
    ['udp', 14, 0xb556],
    ['udpVlanOdd', 18, 0x2772],
    ['tcp', 14, 0x7cee],
    ['icmp', 14, 0x0111],
  ] as const)('%s: computes the known checksum and verifies', (name, ipOff, expected) => {
    const b = hex(KNOWN[name]);
    expect(l4Checksum(b, ipOff)).toBe(expected);
    expect(verifyL4Checksum(b, ipOff)).toBe(true);
    b[b.length - 1] ^= 0x40; // corrupt one payload bit
    expect(verifyL4Checksum(b, ipOff)).toBe(false);
    fillL4Checksum(b, ipOff);
    expect(verifyL4Checksum(b, ipOff)).toBe(true);
  });

  it('UDP checksum 0 means none and verifies', () => {
    const b = hex(KNOWN.udp);
    b.writeUInt16BE(0, 14 + 20 + 6);
    expect(verifyL4Checksum(b, 14)).toBe(true);
  });

  it('a UDP checksum that computes to 0 is sent as 0xffff and verifies', () => {
    const b = hex(KNOWN.udp);
    // Make the ones' complement sum 0xffff by choosing the first two (word-aligned) payload bytes.
    const last = 14 + 20 + 8;
    b.writeUInt16BE(0, last);
    b.writeUInt16BE(0, 14 + 20 + 6);
    // With the slot 0 the checksum c0 is 0xffff - S0; adding c0 brings the sum to 0xffff.
    b.writeUInt16BE(l4Checksum(b, 14) as number, last);
    expect(l4Checksum(b, 14)).toBe(0xffff);
    fillL4Checksum(b, 14);
    expect(b.readUInt16BE(14 + 20 + 6)).toBe(0xffff);
    expect(verifyL4Checksum(b, 14)).toBe(true);
  });

  it('other protocols have no L4 checksum here; fragments are not checked', () => {
    const b = hex(KNOWN.udp);
    b[14 + 9] = 47; // GRE
    expect(l4Checksum(b, 14)).toBeUndefined();
    expect(verifyL4Checksum(b, 14)).toBe(true);
    const frag = hex(KNOWN.udp);
    frag[14 + 6] |= 0x20; // MF
    frag[frag.length - 1] ^= 1;
    expect(verifyL4Checksum(frag, 14)).toBe(true);
  });

  it('verify is total on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: -2, max: 40 }), (b, off) => {
        verifyL4Checksum(b, off);
        verifyIpv4Checksum(b, off);
        return true;
      }),
    );
  });
});

describe('incremental update (RFC 1624)', () => {
  // A covered block as in real headers: never all zero (the IPv4 version nibble, the pseudo-header's
  // protocol), which is the one case where the incremental form yields 0x0000 for a recomputed 0xffff.
  const block = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 2, maxLength: 30 }).map((words) => {
    const b = Buffer.alloc(words.length * 2);
    words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
    b[0] = 0x45;
    return b;
  });
  const word = fc.oneof(fc.constantFrom(0, 0xffff, 1, 0xfffe), fc.integer({ min: 0, max: 0xffff }));

  it('checksumUpdate16 equals a recompute', () => {
    fc.assert(
      fc.property(block, fc.nat(), word, (b, at, w) => {
        const i = 2 * (1 + (at % (b.length / 2 - 1)));
        const before = internetChecksum(b, 0, b.length);
        const old = b.readUInt16BE(i);
        b.writeUInt16BE(w, i);
        return checksumUpdate16(before, old, w) === internetChecksum(b, 0, b.length);
      }),
    );
  });

  it('checksumUpdate32 equals a recompute', () => {
    fc.assert(
      fc.property(block.filter((b) => b.length >= 6), fc.nat(), fc.integer({ min: 0, max: 0xffffffff }), (b, at, v) => {
        const i = 2 * (1 + (at % (b.length / 2 - 2)));
        const before = internetChecksum(b, 0, b.length);
        const old = b.readUInt32BE(i);
        b.writeUInt32BE(v, i);
        return checksumUpdate32(before, old, v) === internetChecksum(b, 0, b.length);
      }),
    );
  });

  it('handles a stored checksum of 0x0000 (sum 0xffff) and a result of 0x0000', () => {
    // Data summing to 0xffff: checksum 0x0000.
    const b = hex('4500baff');
    expect(internetChecksum(b, 0, 4)).toBe(0x0000);
    b.writeUInt16BE(0xbafe, 2);
    expect(internetChecksum(b, 0, 4)).toBe(0x0001);
    expect(checksumUpdate16(0x0000, 0xbaff, 0xbafe)).toBe(0x0001);
    // ...and back to a 0x0000 result, as a recompute gives.
    expect(checksumUpdate16(0x0001, 0xbafe, 0xbaff)).toBe(0x0000);
    expect(checksumUpdate32(0x0000, 0x4500baff, 0x4500bafe)).toBe(0x0001);
  });

  it('UDP: 0 stays 0 (no checksum), and a 0 result is written 0xffff', () => {
    expect(udpChecksumUpdate16(0, 0x1234, 0x4321)).toBe(0);
    expect(checksumUpdate16(0x0001, 0x0000, 0x0001)).toBe(0x0000);
    expect(udpChecksumUpdate16(0x0001, 0x0000, 0x0001)).toBe(0xffff);
  });
});
