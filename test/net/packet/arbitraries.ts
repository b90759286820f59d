import fc from 'fast-check';
import type { Ipv4FrameOptions, VlanTagInit } from '../../../src/net/index.js';

export const macArb = fc.integer({ min: 0, max: 0xffffffffffff });
export const ipArb = fc.integer({ min: 0, max: 0xffffffff });
export const portArb = fc.integer({ min: 0, max: 0xffff });
export const u32Arb = fc.integer({ min: 0, max: 0xffffffff });
export const payloadArb = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));

export const vlanArb: fc.Arbitrary<VlanTagInit | undefined> = fc.option(
  fc.record({
    vid: fc.integer({ min: 0, max: 0xfff }),
    pcp: fc.integer({ min: 0, max: 7 }),
    dei: fc.integer({ min: 0, max: 1 }),
    tpid: fc.constantFrom(0x8100, 0x88a8),
  }),
  { nil: undefined },
);

export const addressingArb: fc.Arbitrary<Ipv4FrameOptions> = fc.record({
  srcMac: macArb,
  dstMac: macArb,
  srcIp: ipArb,
  dstIp: ipArb,
  ttl: fc.integer({ min: 0, max: 255 }),
  ipId: portArb,
  dscp: fc.integer({ min: 0, max: 63 }),
  ipFlags: fc.constantFrom(0, 2),
  vlan: vlanArb,
});
