import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, isIpv4, parseIpv4, readIpv4, writeIpv4 } from '../../src/net/index.js';
import { expectCode } from './expect-code.js';

const ipArb = fc.integer({ min: 0, max: 0xffffffff });

describe('parseIpv4 / formatIpv4', () => {
  it('parses dotted quads to unsigned numbers', () => {
    expect(parseIpv4('10.0.0.1')).toBe(0x0a000001);
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('192.168.1.200')).toBe(0xc0a801c8);
  });

  it('formats', () => {
    expect(formatIpv4(0xc0a801c8)).toBe('192.168.1.200');
    expect(formatIpv4(0)).toBe('0.0.0.0');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
  });

  it.each([
    '',
    '10.0.0',
    '10.0.0.1.2',
    '256.0.0.1',
    '10.0.0.-1',
    '010.0.0.1', // octal in inet_aton
    '0x0a.0.0.1',
    '167772161', // one-part form
    '10.1', // two-part form
    ' 10.0.0.1',
    '10.0.0.1/24',
    '::1',
    '10.0.0.1 ',
  ])('refuses %j with OVC_ERR_NET_BAD_IPV4', (text) => {
    expectCode(() => parseIpv4(text, 'body.ip'), 'OVC_ERR_NET_BAD_IPV4', 'body.ip');
  });

  it.each([-1, 2 ** 32, 0.5])('formatIpv4 refuses %d', (n) => {
    expectCode(() => formatIpv4(n), 'OVC_ERR_NET_BAD_IPV4');
  });

  it('round-trips every address', () => {
    fc.assert(fc.property(ipArb, (ip) => parseIpv4(formatIpv4(ip)) === ip && isIpv4(ip)));
  });
});

describe('readIpv4 / writeIpv4', () => {
  it('uses network order and yields unsigned values', () => {
    const b = Buffer.alloc(6);
    writeIpv4(b, 1, 0xc0a80001);
    expect([...b]).toEqual([0, 192, 168, 0, 1, 0]);
    expect(readIpv4(b, 1)).toBe(0xc0a80001);
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(ipArb, (ip) => {
        const b = Buffer.alloc(4);
        writeIpv4(b, 0, ip);
        return readIpv4(b, 0) === ip;
      }),
    );
  });
});
