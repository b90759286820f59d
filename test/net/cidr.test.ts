import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cidr, cidrContaining, formatCidr, parseCidr, parseIpv4, prefixMask } from '../../src/net/index.js';
import { expectCode } from './expect-code.js';

const ip = parseIpv4;
const cidrArb = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
  .map(([addr, len]) => cidrContaining(addr, len));

describe('parseCidr / formatCidr', () => {
  it('parses a block and derives its parts', () => {
    const c = parseCidr('10.1.2.0/24');
    expect(c.network).toBe(ip('10.1.2.0'));
    expect(c.prefixLength).toBe(24);
    expect(c.mask).toBe(ip('255.255.255.0'));
    expect(c.broadcast).toBe(ip('10.1.2.255'));
    expect(c.size).toBe(256);
    expect(c.hostCount).toBe(254);
    expect(c.firstHost).toBe(ip('10.1.2.1'));
    expect(c.lastHost).toBe(ip('10.1.2.254'));
    expect(c.hostAt(0)).toBe(ip('10.1.2.1'));
    expect(c.hostAt(253)).toBe(ip('10.1.2.254'));
    expect(formatCidr(c)).toBe('10.1.2.0/24');
    expect(String(c)).toBe('10.1.2.0/24');
  });

  it('handles /0, /31 and /32 at the edges', () => {
    const all = parseCidr('0.0.0.0/0');
    expect(all.mask).toBe(0);
    expect(all.broadcast).toBe(0xffffffff);
    expect(all.size).toBe(2 ** 32);
    expect(all.contains(0xffffffff)).toBe(true);
    const p2p = parseCidr('10.0.0.6/31');
    expect([p2p.hostCount, p2p.firstHost, p2p.lastHost]).toEqual([2, ip('10.0.0.6'), ip('10.0.0.7')]);
    const host = parseCidr('255.255.255.255/32');
    expect([host.mask, host.size, host.hostCount, host.firstHost, host.lastHost]).toEqual([
      0xffffffff, 1, 1, 0xffffffff, 0xffffffff,
    ]);
  });

  it.each(['10.0.0.1/24', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '10.0.0.0', '10.0.0/24', '10.0.0.0/024', '10.0.0.0/8x', '/8', ''])(
    'refuses %j with OVC_ERR_NET_BAD_CIDR',
    (text) => {
      expectCode(() => parseCidr(text, 'subnets[0].cidr'), 'OVC_ERR_NET_BAD_CIDR', 'subnets[0].cidr');
    },
  );

  it('the constructor refuses host bits and bad lengths too', () => {
    expectCode(() => new Cidr(ip('10.0.0.1'), 24), 'OVC_ERR_NET_BAD_CIDR');
    expectCode(() => new Cidr(0, 33), 'OVC_ERR_NET_BAD_CIDR');
    expectCode(() => new Cidr(-1, 8), 'OVC_ERR_NET_BAD_CIDR');
    expectCode(() => cidrContaining(ip('10.0.0.1'), 40), 'OVC_ERR_NET_BAD_CIDR');
  });

  it('round-trips every block', () => {
    fc.assert(fc.property(cidrArb, (c) => parseCidr(formatCidr(c)).equals(c)));
  });
});

describe('containment and overlap', () => {
  it('contains exactly the addresses between network and broadcast', () => {
    const c = parseCidr('192.168.4.0/22');
    expect(c.contains(ip('192.168.3.255'))).toBe(false);
    expect(c.contains(ip('192.168.4.0'))).toBe(true);
    expect(c.contains(ip('192.168.7.255'))).toBe(true);
    expect(c.contains(ip('192.168.8.0'))).toBe(false);
  });

  it('overlaps when one block covers the other', () => {
    const a = parseCidr('10.0.0.0/16');
    expect(a.overlaps(parseCidr('10.0.5.0/24'))).toBe(true);
    expect(parseCidr('10.0.5.0/24').overlaps(a)).toBe(true);
    expect(a.overlaps(parseCidr('10.1.0.0/16'))).toBe(false);
    expect(a.overlaps(parseCidr('0.0.0.0/0'))).toBe(true);
    expect(a.covers(parseCidr('10.0.5.0/24'))).toBe(true);
    expect(parseCidr('10.0.5.0/24').covers(a)).toBe(false);
  });

  it('overlaps agrees with "some address lies in both" (checked on the ends of each block)', () => {
    fc.assert(
      fc.property(cidrArb, cidrArb, (a, b) => {
        const shared = [a.network, a.broadcast, b.network, b.broadcast].some((x) => a.contains(x) && b.contains(x));
        return a.overlaps(b) === shared && b.overlaps(a) === shared;
      }),
    );
  });

  it('contains agrees with network <= ip <= broadcast', () => {
    fc.assert(
      fc.property(cidrArb, fc.integer({ min: 0, max: 0xffffffff }), (c, x) => c.contains(x) === (x >= c.network && x <= c.broadcast)),
    );
  });

  it('prefixMask has prefixLength leading ones', () => {
    for (let len = 0; len <= 32; len++) {
      expect(prefixMask(len).toString(2).padStart(32, '0')).toBe('1'.repeat(len) + '0'.repeat(32 - len));
    }
  });
});

describe('host addressing for IPAM', () => {
  it('hostAt and hostIndex are inverse over the usable range', () => {
    fc.assert(
      fc.property(cidrArb, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (c, f) => {
        const i = Math.floor(f * c.hostCount);
        const h = c.hostAt(i);
        return c.contains(h) && c.hostIndex(h) === i && h >= c.firstHost && h <= c.lastHost;
      }),
    );
  });

  it('hostIndex is -1 for network, broadcast and outsiders', () => {
    const c = parseCidr('10.0.0.0/29');
    expect(c.hostIndex(c.network)).toBe(-1);
    expect(c.hostIndex(c.broadcast)).toBe(-1);
    expect(c.hostIndex(ip('10.0.0.8'))).toBe(-1);
    expect(c.hostIndex(ip('10.0.0.6'))).toBe(5);
  });

  it('hostAt refuses indexes outside the usable range', () => {
    const c = parseCidr('10.0.0.0/30');
    expect(() => c.hostAt(2)).toThrow(RangeError);
    expect(() => c.hostAt(-1)).toThrow(RangeError);
    expect(() => c.hostAt(0.5)).toThrow(RangeError);
  });
});
