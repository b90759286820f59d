/**
 * The controller against a real softswitch over the real native TCP channel, in one process:
 * reconcile pushes only the difference, a reconnect with nothing changed sends no flow-mods (groups
 * included), the incremental delta path installs exactly the flows the compiler named, and a push the
 * switch refuses fails, is retried with backoff, and succeeds once the cause is gone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Controller, type ControllerComponents } from '../../src/controller/controller.js';
import type { ControllerEvent } from '../../src/controller/events.js';
import { listenNative, type NativeServer } from '../../src/controller/native/native-server.js';
import { flowKey, group, output, TABLE, type FlowEntry, type GroupEntry } from '../../src/flow/index.js';
import { createSoftSwitch, type SoftSwitch } from '../../src/switch/index.js';
import { fakeTimers } from './packet-hold/fake-timers.js';

const logger = pino({ level: 'silent' });

function flow(n: number): FlowEntry {
  return { table: TABLE.FORWARD, priority: 100, match: { ethDst: 0x020000000000 + n }, actions: [output(1)], cookie: 7 };
}

describe('controller with a softswitch over the native channel', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  async function setup(initial: FlowEntry[], groups: GroupEntry[] = [], components: Partial<ControllerComponents> = {}) {
    const controller = new Controller({ logger, nowMs: () => performance.now(), ...components });
    await controller.setDesired(new Map([[42, { flows: initial, groups }]]));
    const server: NativeServer = await listenNative(controller, '127.0.0.1', 0, logger);
    cleanup.push(async () => {
      controller.close();
      await server.close();
    });
    const start = async (): Promise<SoftSwitch> => {
      const sw = createSoftSwitch(
        { dpid: 42, controller: { host: '127.0.0.1', port: server.port }, ports: [{ portNo: 1, name: 'p1', localHost: '127.0.0.1', localPort: 0 }], backoff: { initialMs: 20, maxMs: 100 } },
        { logger },
      );
      await sw.start();
      cleanup.push(() => sw.stop());
      return sw;
    };
    return { controller, start };
  }

  const synced = (c: Controller) => c.events.waitFor((e) => e.type === 'switch.synced' && e.dpid === 42, 10_000);

  it('installs the desired tables on connect, then only what a delta names', async () => {
    const { controller, start } = await setup([flow(1), flow(2)]);
    const wait = synced(controller);
    const sw = await start();
    expect(await wait).toMatchObject({ added: 2, removed: 0 });
    expect(sw.flows().map((f) => f.flow.match.ethDst).sort()).toEqual([flow(1).match.ethDst, flow(2).match.ethDst]);

    await controller.applyDelta(new Map([[42, { add: [flow(3)], remove: [flow(1)] }]]));
    expect(sw.flows().map((f) => flowKey(f.flow)).sort()).toEqual([flowKey(flow(2)), flowKey(flow(3))].sort());
    expect(controller.session(42)?.counters.deltas).toBe(1);
  });

  it('a reconnecting switch that kept its flows gets no flow-mods (reconcile, not re-add)', async () => {
    const { controller, start } = await setup([flow(1), flow(2), flow(3)]);
    let wait = synced(controller);
    const first = await start();
    await wait;
    // The switch restarts its channel but keeps its tables: a fresh session must find nothing to do.
    const kept = first.flows().length;
    wait = synced(controller);
    controller.session(42)?.connection.close();
    const again = await wait;
    expect(kept).toBe(3);
    expect(again).toMatchObject({ added: 0, modified: 0, removed: 0 });
    expect(controller.session(42)?.counters.flowModsSent).toBe(0);
  });

  it('a reconnecting switch that kept its groups gets no group-mods (the controller reads them)', async () => {
    const lb: GroupEntry = { groupId: 9, type: 'select', buckets: [{ weight: 1, actions: [output(1)] }, { weight: 1, actions: [output(2)] }] };
    const { controller, start } = await setup([flow(1), { ...flow(2), actions: [group(9)] }], [lb]);
    let wait = synced(controller);
    const sw = await start();
    expect(await wait).toMatchObject({ added: 2 });
    expect(sw.stats().groups).toBe(1);
    wait = synced(controller);
    controller.session(42)?.connection.close();
    expect(await wait).toMatchObject({ added: 0, modified: 0, removed: 0 });
    expect(controller.session(42)?.counters).toMatchObject({ flowModsSent: 0, groupModsSent: 0 });
    expect(sw.stats().drops.channelRefused).toBeUndefined();
  });

  it('removes flows the switch has but nobody wants', async () => {
    const { controller, start } = await setup([flow(1)]);
    let wait = synced(controller);
    const sw = await start();
    await wait;
    sw.applyFlowMod({ command: 'add', flow: flow(9) });
    wait = synced(controller);
    controller.session(42)?.connection.close();
    expect(await wait).toMatchObject({ added: 0, removed: 1 });
    expect(sw.flows().map((f) => flowKey(f.flow))).toEqual([flowKey(flow(1))]);
  });

  describe('a push the switch refuses', () => {
    const lb: GroupEntry = { groupId: 9, type: 'indirect', buckets: [{ actions: [output(1)] }] };
    const toGroup: FlowEntry = { ...flow(2), actions: [group(9)] };

    /** A controller whose retry timers the test moves; `events` records everything it emits. */
    async function refusedSetup() {
      const timers = fakeTimers();
      const { controller, start } = await setup([flow(1), toGroup], [], { setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout });
      const events: ControllerEvent[] = [];
      controller.events.subscribe((e) => events.push(e));
      const failed = (n: number) => controller.events.waitFor(() => events.filter((e) => e.type === 'switch.sync-failed').length >= n, 10_000);
      return { timers, controller, start, events, failed };
    }

    it('fails the sync, is retried with backoff, and once the missing group is desired too the switch gets it', async () => {
      const { timers, controller, start, events, failed } = await refusedSetup();
      const sw = await start();
      // The softswitch refuses the flow to group 9 (it has no such group): the barrier fails, naming it.
      expect(await failed(1)).toMatchObject({ dpid: 42, retryInMs: 250, error: expect.stringContaining('OVC_ERR_SWITCH_NO_GROUP') });
      expect(events.find((e) => e.type === 'switch.sync-failed')).toMatchObject({ error: expect.stringContaining('flow-mod add') });
      expect(sw.flows().map((f) => flowKey(f.flow))).toEqual([flowKey(flow(1))]);
      expect(sw.stats().drops.channelRefused).toBe(1);
      // The retry reads the switch again and pushes the difference: refused again, next one later.
      timers.advance(250);
      expect(await failed(2)).toMatchObject({ retryInMs: 500 });
      expect(sw.stats().drops.channelRefused).toBe(2);
      expect(events.filter((e) => e.type === 'switch.synced')).toEqual([]);

      // The desired tables gain the group: the push that follows installs it before the flow.
      await controller.applyDelta(new Map([[42, { add: [], remove: [], groupMods: [{ command: 'add' as const, group: lb }] }]]));
      expect(events.at(-1)).toMatchObject({ type: 'switch.synced', dpid: 42, added: 1, removed: 0 });
      expect(sw.flows().map((f) => flowKey(f.flow)).sort()).toEqual([flowKey(flow(1)), flowKey(toGroup)].sort());
      expect(sw.stats().groups).toBe(1);
      expect(controller.statusOf(42)).toMatchObject({ desiredFlows: 2, installedFlows: 2 });
      // The success cancelled the pending retry.
      expect(timers.pending()).toBe(0);
    });

    it('once the desired tables no longer hold the refused flow, the next push succeeds and a later failure backs off from the start', async () => {
      const { timers, controller, start, events, failed } = await refusedSetup();
      const sw = await start();
      await failed(1);
      timers.advance(250);
      await failed(2);
      await controller.applyDelta(new Map([[42, { add: [], remove: [toGroup] }]]));
      expect(events.at(-1)).toMatchObject({ type: 'switch.synced', added: 0, removed: 0 });
      expect(sw.flows().map((f) => flowKey(f.flow))).toEqual([flowKey(flow(1))]);
      expect(controller.statusOf(42)).toMatchObject({ desiredFlows: 1, installedFlows: 1 });
      expect(timers.pending()).toBe(0);
      // A later failure starts the backoff from the beginning again.
      await controller.applyDelta(new Map([[42, { add: [toGroup], remove: [] }]]));
      expect(events.at(-1)).toMatchObject({ type: 'switch.sync-failed', retryInMs: 250 });
    });
  });
});

