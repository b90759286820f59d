/**
 * Meters as desired state against a real softswitch over the native channel: installed before the
 * flows that name them, read back on a reconnect (no meter-mods, no flow-mods when nothing changed),
 * modified in place by a delta, and deleted after the flows that named them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Controller } from '../../src/controller/controller.js';
import { listenNative, type NativeServer } from '../../src/controller/native/native-server.js';
import { output, TABLE, type FlowEntry, type MeterEntry } from '../../src/flow/index.js';
import { createSoftSwitch, type SoftSwitch } from '../../src/switch/index.js';

const logger = pino({ level: 'silent' });

const meter = (meterId: number, rate: number): MeterEntry => ({ meterId, unit: 'pktps', bands: [{ type: 'drop', rate, burst: 10 }], cookie: 5 });
const metered = (n: number, meterId: number): FlowEntry => ({ table: TABLE.FORWARD, priority: 100, match: { ethDst: 0x020000000000 + n }, actions: [output(1)], meterId, cookie: 7 });

describe('controller meters with a softswitch over the native channel', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  async function setup(flows: FlowEntry[], meters: MeterEntry[]) {
    const controller = new Controller({ logger, nowMs: () => performance.now() });
    await controller.setDesired(new Map([[42, { flows, groups: [], meters }]]));
    const server: NativeServer = await listenNative(controller, '127.0.0.1', 0, logger);
    cleanup.push(async () => {
      controller.close();
      await server.close();
    });
    const wait = synced(controller);
    const sw = createSoftSwitch(
      { dpid: 42, controller: { host: '127.0.0.1', port: server.port }, ports: [{ portNo: 1, name: 'p1', localHost: '127.0.0.1', localPort: 0 }], backoff: { initialMs: 20, maxMs: 100 } },
      { logger },
    );
    await sw.start();
    cleanup.push(() => sw.stop());
    return { controller, sw, first: await wait };
  }

  const synced = (c: Controller) => c.events.waitFor((e) => e.type === 'switch.synced' && e.dpid === 42, 10_000);
  const metersOf = (sw: SoftSwitch) => sw.meterStats().map((s) => s.meterId);

  it('installs meters before the flows that name them, and a reconnect finds nothing to push', async () => {
    const { controller, sw, first } = await setup([metered(1, 3), metered(2, 4)], [meter(3, 100), meter(4, 200)]);
    expect(first).toMatchObject({ added: 2, removed: 0 });
    expect(metersOf(sw)).toEqual([3, 4]);
    expect(sw.flows().map((f) => f.flow.meterId).sort()).toEqual([3, 4]);
    expect(sw.stats().drops.channelRefused).toBeUndefined();

    const wait = synced(controller);
    controller.session(42)?.connection.close();
    expect(await wait).toMatchObject({ added: 0, modified: 0, removed: 0, groupMods: 0, meterMods: 0 });
    expect(controller.session(42)?.counters).toMatchObject({ flowModsSent: 0, meterModsSent: 0 });
  });

  it('a delta modifies a meter in place (no flow-mod) and deletes a meter after its flows', async () => {
    const { controller, sw } = await setup([metered(1, 3)], [meter(3, 100)]);
    const session = controller.session(42);
    const flowModsBefore = session?.counters.flowModsSent;
    await controller.applyDelta(new Map([[42, { add: [], remove: [], meterMods: [{ command: 'modify' as const, meter: meter(3, 500) }] }]]));
    expect(session?.counters.flowModsSent).toBe(flowModsBefore);
    expect(sw.meterStats()).toHaveLength(1);
    expect(controller.desiredFor(42).meters).toEqual([meter(3, 500)]);

    await controller.applyDelta(new Map([[42, { add: [], remove: [metered(1, 3)], meterMods: [{ command: 'delete' as const, meter: meter(3, 500) }] }]]));
    expect(metersOf(sw)).toEqual([]);
    expect(sw.flows()).toEqual([]);
    expect(sw.stats().drops.channelRefused).toBeUndefined();
  });

  it('a reconcile changes a meter the switch holds differently', async () => {
    const { controller, sw } = await setup([metered(1, 3)], [meter(3, 100)]);
    await controller.setDesired(new Map([[42, { flows: [metered(1, 3)], groups: [], meters: [meter(3, 300)] }]]));
    const s = (await controller.session(42)?.connection.meterConfig?.()) ?? [];
    expect(s).toEqual([{ meterId: 3, unit: 'pktps', bands: [{ type: 'drop', rate: 300, burst: 10 }] }]);
    expect(metersOf(sw)).toEqual([3]);
  });
});
