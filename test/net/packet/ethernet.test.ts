import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildEthernet, isMalformed, parseEthernet, payloadOf, type EthernetHeader } from '../../../src/net/index.js';
import { macArb, payloadArb, vlanArb } from './arbitraries.js';

function ok(r: ReturnType<typeof parseEthernet>): EthernetHeader {
  if (isMalformed(r)) throw new Error(`unexpected malformed ${r.malformed}`);
  return r;
}

describe('Ethernet and 802.1Q', () => {
  it('parses an untagged header', () => {
    const f = Buffer.from('0200000000020200000000010800aabb', 'hex');
    expect(ok(parseEthernet(f))).toEqual({
      offset: 0,
      dst: 0x020000000002,
      src: 0x020000000001,
      ethType: 0x0800,
      vlan: undefined,
      payloadOffset: 14,
      payloadEnd: 16,
    });
  });

  it('reports the inner EtherType and the tag of a tagged frame', () => {
    const f = Buffer.from('0200000000020200000000018100b0640806', 'hex');
    const h = ok(parseEthernet(f));
    expect(h.ethType).toBe(0x0806);
    expect(h.vlan).toEqual({ vid: 100, pcp: 5, dei: 1, tpid: 0x8100 });
    expect(h.payloadOffset).toBe(18);
  });

  it('parses behind an encapsulation header when given an offset', () => {
    const inner = buildEthernet({ dst: 1, src: 2, ethType: 0x0800, payload: Buffer.from([9]) });
    const h = ok(parseEthernet(Buffer.concat([Buffer.alloc(8), inner]), 8));
    expect([h.offset, h.dst, h.src, h.payloadOffset]).toEqual([8, 1, 2, 22]);
  });

  it('round-trips build -> parse, payload as a view', () => {
    fc.assert(
      fc.property(macArb, macArb, fc.integer({ min: 0x600, max: 0xffff }).filter((t) => t !== 0x8100 && t !== 0x88a8), vlanArb, payloadArb, (dst, src, ethType, vlan, payload) => {
        const f = buildEthernet({ dst, src, ethType, vlan, payload });
        const h = ok(parseEthernet(f));
        expect([h.dst, h.src, h.ethType]).toEqual([dst, src, ethType]);
        expect(h.vlan).toEqual(vlan);
        const p = payloadOf(f, h);
        expect(p.equals(payload)).toBe(true);
        expect(p.buffer).toBe(f.buffer); // a view, not a copy
      }),
    );
  });

  it('every truncation is malformed("truncated"), never a throw', () => {
    const f = buildEthernet({ dst: 1, src: 2, ethType: 0x0800, vlan: { vid: 7 } });
    for (let n = 0; n < f.length; n++) expect(parseEthernet(f.subarray(0, n))).toEqual({ malformed: 'truncated', layer: 'ethernet' });
    expect(isMalformed(parseEthernet(f))).toBe(false);
  });
});
