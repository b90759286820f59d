import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignZones, homeZone, MAX_ZONE, TenantZones } from '../../src/compiler/index.js';

describe('per-switch connection-tracking zones for 24-bit VNIs', () => {
  it('the first 65,535 VNIs hold their own number as zone, on every switch', () => {
    const z = new TenantZones();
    for (const vni of [1, 2, 4094, 4095, 65_535]) {
      expect(z.enter(101, vni)).toEqual(new Map([[vni, vni]]));
      z.enter(102, vni);
    }
    expect(z.zones(101)).toEqual(z.zones(102));
    expect([homeZone(1), homeZone(65_535), homeZone(65_536), homeZone(0xffffff)]).toEqual([1, 65_535, 1, 0xffffff % MAX_ZONE]);
  });

  it('two VNIs with one home zone meet on a switch: the smaller keeps it, the other takes the next free one, only there', () => {
    const z = new TenantZones();
    z.enter(101, 5);
    z.enter(101, 6);
    expect(z.enter(101, 5 + MAX_ZONE)).toEqual(new Map([[5 + MAX_ZONE, 7]]));
    z.enter(102, 5 + MAX_ZONE);
    expect(z.zoneOf(102, 5 + MAX_ZONE)).toBe(5);
    // VNI 7 arriving takes its home back: the displaced VNI moves on, and says so.
    expect(z.enter(101, 7)).toEqual(new Map([[7, 7], [5 + MAX_ZONE, 8]]));
    // VNI 5 leaving lets it home.
    expect(z.leave(101, 5)).toEqual(new Map<number, number | undefined>([[5 + MAX_ZONE, 5], [5, undefined]]));
    expect(z.zones(101)).toEqual(new Map([[6, 6], [7, 7], [5 + MAX_ZONE, 5]]));
  });

  it('after any sequence of arrivals and departures, a switch holds exactly the pure assignment of its VNIs, each zone once', () => {
    // Few home zones, many VNIs sharing them: collisions all the time.
    const vni = fc.constantFrom(1, 2, 3, 65_535, 1 + MAX_ZONE, 2 + MAX_ZONE, 65_535 + MAX_ZONE, 1 + 2 * MAX_ZONE, 0xffffff);
    const op = fc.record({ dpid: fc.constantFrom(101, 102), vni, enter: fc.boolean() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const z = new TenantZones();
        const present = new Map<number, Set<number>>([[101, new Set()], [102, new Set()]]);
        for (const { dpid, vni: v, enter } of ops) {
          const before = z.zones(dpid);
          const changes = enter ? z.enter(dpid, v) : z.leave(dpid, v);
          if (enter) present.get(dpid)?.add(v);
          else present.get(dpid)?.delete(v);
          const now = z.zones(dpid);
          expect(now).toEqual(assignZones(present.get(dpid) ?? []));
          expect(new Set(now.values()).size).toBe(now.size);
          // The changes name exactly the VNIs whose zone moved.
          for (const x of new Set([...before.keys(), ...now.keys()])) {
            if (before.get(x) !== now.get(x)) expect(changes.get(x), `vni ${x}`).toBe(now.get(x));
            else expect(changes.has(x), `vni ${x}`).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a switch a 65,536th VPC, with its own code', () => {
    const z = new TenantZones();
    for (let vni = 1; vni <= MAX_ZONE; vni++) z.enter(7, vni);
    expect(() => z.enter(7, MAX_ZONE + 1)).toThrow(expect.objectContaining({ code: 'OVC_ERR_VPC_ZONES_EXHAUSTED', field: 'dpid' }));
    expect(() => assignZones(Array.from({ length: MAX_ZONE + 1 }, (_, i) => i + 1), 7)).toThrow(expect.objectContaining({ code: 'OVC_ERR_VPC_ZONES_EXHAUSTED' }));
    // Another switch is not full.
    expect(z.enter(8, MAX_ZONE + 1)).toEqual(new Map([[MAX_ZONE + 1, 1]]));
  });
});
