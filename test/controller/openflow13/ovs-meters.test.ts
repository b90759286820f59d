/**
 * Meters on real ovs-vswitchd bridges (userspace datapath): the controller's meter-mods install
 * meters `ovs-ofctl dump-meters` shows, flows with the meter instruction install after them, a burst
 * well above a meter's rate is cut to about the rate with the rest counted in its band (read both
 * with `ovs-ofctl meter-stats` and through OFPMP_METER), a reconnect reads the meters back and pushes
 * nothing, and a meter modify changes the meter in place. Skipped without root or Open vSwitch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output, type FlowEntry, type MeterEntry } from '../../../src/flow/index.js';
import { loadShipped } from '../../model/helpers.js';
import { canRunOvs } from '../../support/ovs.js';
import { waitFor, notYet } from '../../support/wait-for.js';
import { startLiveFabric, type LiveFabric } from './helpers.js';

const LIVE = canRunOvs();

const meter = (rate: number): MeterEntry => ({ meterId: 7, unit: 'pktps', bands: [{ type: 'drop', rate, burst: 5 }], cookie: 3 });
// A spare ethertype from s1's port 1 out of port 2, through meter 7.
const metered: FlowEntry = { table: 0, priority: 65000, match: { inPort: 1, ethType: 0x88b5 }, actions: [output(2)], meterId: 7, cookie: 77 };

describe.skipIf(!LIVE)('meters on Open vSwitch over OpenFlow 1.3', () => {
  let fab: LiveFabric;
  const dpid = 1;

  beforeAll(async () => {
    fab = await startLiveFabric(loadShipped('demo.yaml'));
    await fab.controller.applyDelta(new Map([[dpid, { add: [metered], remove: [], meterMods: [{ command: 'add' as const, meter: meter(10) }] }]]));
  }, 30_000);
  afterAll(async () => {
    await fab?.stop();
  });

  const ofctl = (...args: string[]) => fab.lab.ovs.ofctl('-O', 'OpenFlow13', ...args);

  it('installs the meter before the flow that names it', async () => {
    expect(fab.events.filter((e) => e.type === 'switch.sync-failed')).toEqual([]);
    const meters = await ofctl('dump-meters', 's1');
    expect(meters).toMatch(/meter=7 pktps burst stats bands=\s*type=drop rate=10 burst_size=5/);
    expect(await ofctl('dump-flows', 's1')).toMatch(/priority=65000,in_port="?[^ ,]+"?,dl_type=0x88b5 actions=meter:7,output:"?[^ ]+"?/);
  });

  it('cuts a burst well above the rate to about the rate, and counts the rest in the band', async () => {
    const frame = 'ffffffffffff0200000000aa88b5' + '00'.repeat(46);
    const sent = 200;
    const started = performance.now();
    // netdev-dummy takes a batch of at most 100 frames a call.
    for (let i = 0; i < sent; i += 50) await fab.lab.ovs.appctl('netdev-dummy/receive', fab.lab.portName('s1', 1), ...Array.from({ length: 50 }, () => frame));
    const seconds = (performance.now() - started) / 1000;
    const stats = await waitFor(
      'meter 7 to count the burst',
      async () => {
        const s = (await fab.controller.session(dpid)?.connection.meterStats?.())?.find((m) => m.meterId === 7);
        return s && s.packetsIn >= sent ? s : notYet(s);
      },
      { timeoutMs: 10_000 },
    );
    const dropped = stats.bands[0].packets;
    const passed = stats.packetsIn - dropped;
    expect(passed).toBeGreaterThan(0);
    expect(passed).toBeLessThanOrEqual(10 * seconds * 1.5 + 5 + 1);
    expect(await ofctl('meter-stats', 's1')).toContain(`0: packet_count:${dropped}`);
  });

  it('a reconnect reads the meter back and pushes nothing; a modify changes it in place', async () => {
    const since = fab.events.length;
    fab.controller.session(dpid)?.connection.close();
    const synced = await waitFor('s1 to sync again', () => fab.events.slice(since).find((e) => e.type === 'switch.synced' && e.dpid === dpid) ?? notYet(fab.events.slice(since).map((e) => e.type)), {
      timeoutMs: 15_000,
    });
    expect(synced).toMatchObject({ added: 0, modified: 0, removed: 0 });
    expect(fab.controller.session(dpid)?.counters).toMatchObject({ flowModsSent: 0, meterModsSent: 0 });

    const flowsBefore = await ofctl('dump-flows', 's1', 'dl_type=0x88b5');
    await fab.controller.applyDelta(new Map([[dpid, { add: [], remove: [], meterMods: [{ command: 'modify' as const, meter: meter(50) }] }]]));
    expect(await ofctl('dump-meters', 's1')).toMatch(/meter=7 pktps burst stats bands=\s*type=drop rate=50 burst_size=5/);
    // The flow is the same flow (its counters were not reset by a re-add).
    expect((await ofctl('dump-flows', 's1', 'dl_type=0x88b5')).replace(/duration=[^,]+,/, '')).toBe(flowsBefore.replace(/duration=[^,]+,/, ''));
  });
});
