import { describe, expect, it } from 'vitest';
import { isOvercastError } from '../../src/errors/index.js';
import type { MeterEntry } from '../../src/flow/index.js';
import { MeterTable } from '../../src/switch/meters.js';

const pktps = (meterId: number, rate: number, burst: number): MeterEntry => ({ meterId, unit: 'pktps', bands: [{ type: 'drop', rate, burst }] });

function table() {
  const clock = { now: 0 };
  return { clock, meters: new MeterTable(() => clock.now) };
}

describe('MeterTable', () => {
  it('passes a burst, then the band rate, and counts the rest in the band', () => {
    const { clock, meters } = table();
    meters.apply({ command: 'add', meter: pktps(1, 100, 10) });
    let passed = 0;
    // 1,000 packets over one second (one a millisecond) against 100 a second and a burst of 10.
    for (let i = 0; i < 1000; i++) {
      clock.now = i;
      if (meters.pass(1, 100)) passed++;
    }
    expect(passed).toBeGreaterThanOrEqual(100);
    expect(passed).toBeLessThanOrEqual(111);
    const [s] = meters.stats();
    expect(s).toMatchObject({ meterId: 1, packetsIn: 1000, bytesIn: 100_000 });
    expect(s.bands[0]).toEqual({ packets: 1000 - passed, bytes: (1000 - passed) * 100 });
  });

  it('meters kilobits by frame size', () => {
    const { clock, meters } = table();
    // 800 kbps = 100,000 bytes a second; burst 12 kb = one 1,500-byte frame.
    meters.apply({ command: 'add', meter: { meterId: 2, unit: 'kbps', bands: [{ type: 'drop', rate: 800, burst: 12 }] } });
    let bytes = 0;
    for (let i = 0; i < 1000; i++) {
      clock.now = i;
      if (meters.pass(2, 1500)) bytes += 1500;
    }
    expect(bytes).toBeGreaterThanOrEqual(99_000);
    expect(bytes).toBeLessThanOrEqual(101_500);
  });

  it('drops in the band of the highest rate exceeded, and spends no band on a drop', () => {
    const { meters } = table();
    meters.apply({ command: 'add', meter: { meterId: 3, unit: 'pktps', bands: [{ type: 'drop', rate: 10, burst: 2 }, { type: 'drop', rate: 20, burst: 5 }] } });
    const results = Array.from({ length: 6 }, () => meters.pass(3, 1));
    expect(results).toEqual([true, true, false, false, false, false]);
    expect(meters.stats()[0].bands).toEqual([
      { packets: 4, bytes: 4 },
      { packets: 0, bytes: 0 },
    ]);
  });

  it('modifies a meter in place, keeping its counters', () => {
    const { meters } = table();
    meters.apply({ command: 'add', meter: pktps(4, 1, 1) });
    meters.pass(4, 1);
    meters.pass(4, 1);
    meters.apply({ command: 'modify', meter: pktps(4, 1, 5) });
    expect(meters.get(4)).toEqual(pktps(4, 1, 5));
    expect(meters.stats()[0]).toMatchObject({ packetsIn: 2, bands: [{ packets: 1, bytes: 1 }] });
    expect([1, 2, 3, 4, 5, 6].map(() => meters.pass(4, 1))).toEqual([true, true, true, true, true, false]);
  });

  it('refuses what OpenFlow refuses, by code', () => {
    const { meters } = table();
    meters.apply({ command: 'add', meter: pktps(5, 10, 1) });
    const refused = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return isOvercastError(e) ? e.code : 'other';
      }
      return 'accepted';
    };
    expect(refused(() => meters.apply({ command: 'add', meter: pktps(5, 10, 1) }))).toBe('OVC_ERR_SWITCH_BAD_METER');
    expect(refused(() => meters.apply({ command: 'modify', meter: pktps(6, 10, 1) }))).toBe('OVC_ERR_SWITCH_BAD_METER');
    expect(refused(() => meters.apply({ command: 'add', meter: pktps(0, 10, 1) }))).toBe('OVC_ERR_SWITCH_BAD_METER');
    expect(refused(() => meters.apply({ command: 'add', meter: pktps(7, 0, 1) }))).toBe('OVC_ERR_SWITCH_BAD_METER');
    expect(meters.checkFlowMod({ command: 'add', flow: { table: 0, priority: 1, match: {}, actions: [], meterId: 9, cookie: 0 } })).toMatchObject([{ code: 'OVC_ERR_SWITCH_NO_METER' }]);
    expect(meters.checkFlowMod({ command: 'add', flow: { table: 0, priority: 1, match: {}, actions: [], meterId: 5, cookie: 0 } })).toEqual([]);
    expect(meters.pass(9, 1)).toBe(false);
  });
});
