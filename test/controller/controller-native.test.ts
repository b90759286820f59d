/**
 * The controller against a real softswitch over the real native TCP channel, in one process:
 * reconcile pushes only the difference, a reconnect with nothing changed sends no flow-mods, and the
 * incremental delta path installs exactly the flows the compiler named.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Controller } from '../../src/controller/controller.js';
import { listenNative, type NativeServer } from '../../src/controller/native/native-server.js';
import { flowKey, output, TABLE, type FlowEntry } from '../../src/flow/index.js';
import { createSoftSwitch, type SoftSwitch } from '../../src/switch/index.js';

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

  async function setup(initial: FlowEntry[]) {
    const controller = new Controller({ logger, nowMs: () => performance.now() });
    await controller.setDesired(new Map([[42, { flows: initial, groups: [] }]]));
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
});
