/**
 * Scale from zero end to end, in one process: a controller, a real softswitch over the native TCP
 * channel, and UDP sockets as hosts. While the function's pool is empty its VIP flow sends packets to
 * the controller, which holds them; when the first instance registers the controller installs its flow
 * and replays the held packets as packet-outs to TABLE, and they leave the instance's port rewritten
 * by the new flow, in their original order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Controller } from '../../../src/controller/controller.js';
import type { ControllerEvent } from '../../../src/controller/events.js';
import { listenNative } from '../../../src/controller/native/native-server.js';
import { attachPacketHold, createPacketHold } from '../../../src/controller/packet-hold.js';
import { output, setField, TABLE, toController, type FlowEntry } from '../../../src/flow/index.js';
import { buildUdpFrame } from '../../../src/net/index.js';
import { createSoftSwitch } from '../../../src/switch/index.js';
import { notYet, waitFor } from '../../support/wait-for.js';
import { startHost } from '../../switch/udp-hosts.js';

const logger = pino({ level: 'silent' });
const DPID = 42;
const LB_COOKIE = 0x5ca1e;
const VIP = 0x0a00fe01; // 10.0.254.1
const BACKEND = 0x0a000105; // 10.0.1.5

const ingress: FlowEntry = { table: TABLE.INGRESS, priority: 100, match: { inPort: 1 }, actions: [], gotoTable: TABLE.NAT_LB, cookie: 1 };
const vipMatch = { ethType: 0x0800, ipv4Dst: VIP };
/** The pool is empty: the VIP goes to the controller, under the load balancer's cookie. */
const cold: FlowEntry = { table: TABLE.NAT_LB, priority: 200, match: vipMatch, actions: [toController()], cookie: LB_COOKIE };
/** One instance on port 2: DNAT to it. */
const warm: FlowEntry = { table: TABLE.NAT_LB, priority: 300, match: vipMatch, actions: [setField('ipv4Dst', BACKEND), output(2)], cookie: LB_COOKIE };

const frameN = (n: number) =>
  buildUdpFrame({ srcMac: 0x020000000001, dstMac: 0x020000000002, srcIp: 0x0a000101, dstIp: VIP, srcPort: 4000 + n, dstPort: 8080, payload: Buffer.from(`req-${n}`) });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('scale from zero over the native channel', () => {
  it('holds packets for a cold function, then releases them through the new flows in order', async () => {
    const controller = new Controller({ logger, nowMs: () => performance.now() });
    const events: ControllerEvent[] = [];
    controller.events.subscribe((e) => events.push(e));
    await controller.setDesired(new Map([[DPID, { flows: [ingress, cold], groups: [] }]]));
    const hold = createPacketHold(
      { classify: (p) => (p.cookie === LB_COOKIE ? { functionKey: 'fn/resize', vpcId: 'vpc-1', vip: '10.0.254.1' } : undefined), holdMs: 10_000 },
      { nowMs: () => performance.now(), emit: (e) => controller.events.emit(e) },
    );
    const runtime = attachPacketHold(controller, hold);
    cleanups.push(() => {
      runtime.detach();
      hold.close();
    });
    const server = await listenNative(controller, '127.0.0.1', 0, logger);
    cleanups.push(async () => {
      controller.close();
      await server.close();
    });

    const client = await startHost();
    const instance = await startHost();
    cleanups.push(() => client.close());
    cleanups.push(() => instance.close());
    const synced = controller.events.waitFor((e) => e.type === 'switch.synced' && e.dpid === DPID, 10_000);
    const sw = createSoftSwitch(
      {
        dpid: DPID,
        controller: { host: '127.0.0.1', port: server.port },
        ports: [
          { portNo: 1, name: 'client', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: client.port },
          { portNo: 2, name: 'fn', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: instance.port },
        ],
        backoff: { initialMs: 20, maxMs: 100 },
      },
      { logger },
    );
    await sw.start();
    cleanups.push(() => sw.stop());
    expect(await synced).toMatchObject({ added: 2 });
    const port1 = sw.ports().find((p) => p.portNo === 1)?.local.port ?? 0;

    // Cold: five requests reach the controller and wait there.
    const N = 5;
    for (let n = 1; n <= N; n++) client.send(frameN(n), port1);
    await waitFor(`${N} packets held at the controller`, () => hold.held('fn/resize') === N || notYet({ held: hold.held('fn/resize') }));
    expect(instance.received).toHaveLength(0);
    expect(events.filter((e) => e.type === 'function.activation-requested')).toMatchObject([
      { functionKey: 'fn/resize', vpcId: 'vpc-1', vip: '10.0.254.1', heldPackets: 1 },
    ]);

    // The first instance registers: install its flow (acknowledged by a barrier), then release.
    const registeredAtMs = performance.now();
    await controller.applyDelta(new Map([[DPID, { add: [warm], remove: [cold] }]]));
    const r = runtime.activate('fn/resize', { registeredAtMs });
    expect(r).toMatchObject({ count: N, unsendable: 0, expired: 0 });
    expect(r.delayMs).toBeGreaterThanOrEqual(0);

    const got = await instance.waitFrames(N);
    // Original order, rewritten by the new flow (DNAT to the backend).
    expect(got.map((f) => f.subarray(42).toString())).toEqual([1, 2, 3, 4, 5].map((n) => `req-${n}`));
    expect(got.every((f) => f.readUInt32BE(30) === BACKEND)).toBe(true);
    expect(events.filter((e) => e.type === 'packets.released')).toMatchObject([{ functionKey: 'fn/resize', count: N }]);
    expect(hold.held('fn/resize')).toBe(0);
    // The replay went through the pipeline once: no packet came back to the controller.
    expect(controller.session(DPID)?.counters.packetIns).toBe(N);
    expect(sw.flows().find((f) => f.flow.priority === 300)?.packets).toBe(N);

    // Warm now: the next request goes straight through, the controller never sees it.
    client.send(frameN(6), port1);
    await instance.waitFrames(N + 1);
    expect(instance.received[N].subarray(42).toString()).toBe('req-6');
    expect(controller.session(DPID)?.counters.packetIns).toBe(N);
  });

  it('a table miss can feed the hold too, and packets of a switch that went away are counted, not sent', async () => {
    const controller = new Controller({ logger, nowMs: () => performance.now() });
    const events: ControllerEvent[] = [];
    controller.events.subscribe((e) => events.push(e));
    const hold = createPacketHold({ classify: (p) => (p.reason === 'noMatch' ? 'fn/miss' : undefined) }, { nowMs: () => performance.now(), emit: (e) => controller.events.emit(e) });
    const runtime = attachPacketHold(controller, hold);
    cleanups.push(() => hold.close());
    const server = await listenNative(controller, '127.0.0.1', 0, logger);
    cleanups.push(async () => {
      controller.close();
      await server.close();
    });
    const client = await startHost();
    cleanups.push(() => client.close());
    const synced = controller.events.waitFor((e) => e.type === 'switch.synced' && e.dpid === DPID, 10_000);
    const sw = createSoftSwitch(
      {
        dpid: DPID,
        controller: { host: '127.0.0.1', port: server.port },
        ports: [{ portNo: 1, name: 'client', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: client.port }],
        backoff: { initialMs: 20, maxMs: 100 },
      },
      { logger },
    );
    await sw.start();
    cleanups.push(() => sw.stop());
    await synced;
    const port1 = sw.ports()[0].local.port;
    client.send(frameN(1), port1);
    client.send(frameN(2), port1);
    await waitFor('2 packets held at the controller', () => hold.held('fn/miss') === 2 || notYet({ held: hold.held('fn/miss') }));

    const gone = controller.events.waitFor((e) => e.type === 'switch.disconnected', 5000);
    await sw.stop();
    await gone;
    const r = runtime.activate('fn/miss');
    expect(r).toMatchObject({ count: 0, unsendable: 2 });
    expect(events.filter((e) => e.type === 'packets.dropped')).toMatchObject([{ functionKey: 'fn/miss', reason: 'unsendable', count: 2 }]);
  });
});
