import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BROADCAST_MAC,
  formatMac,
  isMac,
  isMulticastMac,
  macFromHiLo,
  macHi,
  macLo,
  parseMac,
  readMac,
  writeMac,
} from '../../src/net/index.js';
import { expectCode } from './expect-code.js';

const macArb = fc.integer({ min: 0, max: 0xffffffffffff });

describe('parseMac / formatMac', () => {
  it('parses colon and dash forms in any case', () => {
    expect(parseMac('aa:bb:cc:dd:ee:ff')).toBe(0xaabbccddeeff);
    expect(parseMac('AA-BB-CC-DD-EE-FF')).toBe(0xaabbccddeeff);
    expect(parseMac('00:00:00:00:00:01')).toBe(1);
    expect(parseMac('ff:ff:ff:ff:ff:ff')).toBe(BROADCAST_MAC);
  });

  it('formats lower-case colon form with leading zeros', () => {
    expect(formatMac(0x0a0b0c0d0e0f)).toBe('0a:0b:0c:0d:0e:0f');
    expect(formatMac(0)).toBe('00:00:00:00:00:00');
    expect(formatMac(BROADCAST_MAC)).toBe('ff:ff:ff:ff:ff:ff');
  });

  it.each([
    '',
    'aa:bb:cc:dd:ee',
    'aa:bb:cc:dd:ee:ff:00',
    'aa:bb-cc:dd:ee:ff',
    'aabb.ccdd.eeff',
    'aabbccddeeff',
    'g0:bb:cc:dd:ee:ff',
    'a:bb:cc:dd:ee:ff',
    ' aa:bb:cc:dd:ee:ff',
    'aa:bb:cc:dd:ee:ff\n',
  ])('refuses %j with OVC_ERR_NET_BAD_MAC', (text) => {
    expectCode(() => parseMac(text, 'body.mac'), 'OVC_ERR_NET_BAD_MAC', 'body.mac');
  });

  it('refuses a non-string at runtime (untyped input from YAML or JSON)', () => {
    expectCode(() => parseMac(42 as unknown as string), 'OVC_ERR_NET_BAD_MAC');
  });

  it.each([-1, 2 ** 48, 1.5, Number.NaN])('formatMac refuses %d', (n) => {
    expectCode(() => formatMac(n, 'mac'), 'OVC_ERR_NET_BAD_MAC', 'mac');
  });

  it('round-trips every 48-bit value', () => {
    fc.assert(fc.property(macArb, (mac) => parseMac(formatMac(mac)) === mac && isMac(mac)));
  });
});

describe('readMac / writeMac', () => {
  it('reads and writes network order at an offset', () => {
    const b = Buffer.alloc(9);
    writeMac(b, 2, 0x0102030405f6);
    expect([...b]).toEqual([0, 0, 1, 2, 3, 4, 5, 0xf6, 0]);
    expect(readMac(b, 2)).toBe(0x0102030405f6);
  });

  it('round-trips every value, including the high bit of each half', () => {
    fc.assert(
      fc.property(macArb, fc.integer({ min: 0, max: 4 }), (mac, off) => {
        const b = Buffer.alloc(12);
        writeMac(b, off, mac);
        return readMac(b, off) === mac;
      }),
    );
  });

  it('splits into the packet key halves and back', () => {
    fc.assert(
      fc.property(macArb, (mac) => {
        const hi = macHi(mac);
        const lo = macLo(mac);
        return hi >= 0 && hi <= 0xffff && lo >= 0 && lo <= 0xffffffff && macFromHiLo(hi, lo) === mac;
      }),
    );
  });
});

describe('isMulticastMac', () => {
  it('tests the I/G bit of the first octet', () => {
    expect(isMulticastMac(BROADCAST_MAC)).toBe(true);
    expect(isMulticastMac(parseMac('01:00:5e:00:00:01'))).toBe(true);
    expect(isMulticastMac(parseMac('33:33:00:00:00:01'))).toBe(true);
    expect(isMulticastMac(parseMac('02:00:00:00:00:01'))).toBe(false);
    expect(isMulticastMac(parseMac('00:ff:ff:ff:ff:ff'))).toBe(false);
    expect(isMulticastMac(parseMac('fe:ff:ff:ff:ff:ff'))).toBe(false);
  });
});
