import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PORT, group, output, toController, type FlowEntry } from '../../src/flow/index.js';
import { MAX_FRAME_BYTES, frame } from '../../src/protocol/index.js';
import { buildUdpFrame } from '../../src/net/index.js';
import { createSoftSwitch, type SoftSwitch } from '../../src/switch/index.js';
import { startControllerStub, type ControllerStub, type StubSession } from './controller-stub.js';
import { notYet, waitFor } from '../support/wait-for.js';
import { startHost, type TestHost } from './udp-hosts.js';

const logger = pino({ level: 'silent' });
const frameAB = (srcPort = 1000) =>
  buildUdpFrame({ srcMac: 0x020000000001, dstMac: 0x020000000002, srcIp: 0x0a000001, dstIp: 0x0a000002, srcPort, dstPort: 53, payload: Buffer.from('ping') });
const fwd = (inPort: number, outPort: number, extra: Partial<FlowEntry> = {}): FlowEntry => ({
  table: 0,
  priority: 100,
  match: { inPort },
  actions: [output(outPort)],
  cookie: 0x42,
  ...extra,
});

interface Rig {
  sw: SoftSwitch;
  a: TestHost;
  b: TestHost;
  ctl: ControllerStub;
  session: StubSession;
  clock: { t: number };
  port1: number;
}
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(opts: { ctlPort?: number } = {}): Promise<Rig> {
  const a = await startHost();
  const b = await startHost();
  const ctl = await startControllerStub({ port: opts.ctlPort });
  const clock = { t: 1_000_000 };
  const sessionP = ctl.nextSession();
  const sw = createSoftSwitch(
    {
      dpid: 7,
      controller: { host: '127.0.0.1', port: ctl.port },
      ports: [
        { portNo: 1, name: 'a', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: a.port },
        { portNo: 2, name: 'b', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: b.port },
      ],
      backoff: { initialMs: 20, maxMs: 100 },
      sweepIntervalMs: 60_000,
    },
    { logger, now: () => clock.t },
  );
  await sw.start();
  cleanups.push(async () => {
    await sw.stop();
    await a.close();
    await b.close();
    await ctl.close();
  });
  const session = await sessionP;
  await session.waitFor('featuresReply');
  const port1 = sw.ports().find((p) => p.portNo === 1)!.local.port;
  return { sw, a, b, ctl, session, clock, port1 };
}

async function install(s: StubSession, flows: FlowEntry[], xid = 50): Promise<void> {
  for (const flow of flows) s.send({ type: 'flowMod', xid, flowMod: { command: 'add', flow } });
  s.send({ type: 'barrierRequest', xid });
  await s.waitFor('barrierReply', (m) => m.xid === xid);
}

describe('softswitch runtime', () => {
  it('says hello, lists its ports, forwards a frame port 1 -> port 2 and counts it', async () => {
    const { sw, a, b, session, port1 } = await rig();
    const features = await session.waitFor('featuresReply');
    expect(features.dpid).toBe(7);
    expect(features.ports.map((p) => p.portNo)).toEqual([1, 2]);
    await install(session, [fwd(1, 2)]);
    const f = frameAB();
    a.send(f, port1);
    const [got] = await b.waitFrames(1);
    expect(got.equals(f)).toBe(true);

    session.send({ type: 'flowStatsRequest', xid: 60, match: {}, cookie: 0, cookieMask: 0 });
    const stats = await session.waitFor('flowStatsReply', (m) => m.xid === 60);
    expect(stats.flows).toHaveLength(1);
    expect(stats.flows[0]).toMatchObject({ packets: 1, bytes: f.length });
    session.send({ type: 'portStatsRequest', xid: 61 });
    const ps = await session.waitFor('portStatsReply', (m) => m.xid === 61);
    expect(ps.ports.find((p) => p.portNo === 1)).toMatchObject({ rxPackets: 1, rxBytes: f.length });
    expect(ps.ports.find((p) => p.portNo === 2)).toMatchObject({ txPackets: 1, txBytes: f.length });
    expect(sw.stats().flows).toBe(1);
  });

  it('sends a table miss to the controller as a packet-in', async () => {
    const { a, session, port1, sw } = await rig();
    const f = frameAB();
    a.send(f, port1);
    const pin = await session.waitFor('packetIn');
    expect(pin).toMatchObject({ inPort: 1, reason: 'noMatch', table: 0 });
    expect(Buffer.from(pin.data).equals(f)).toBe(true);
    expect(sw.stats().ports[0].counters.rxPackets).toBe(1);
  });

  it('sends to the controller by action with the flow cookie, and applies packet-outs', async () => {
    const { a, b, session, port1 } = await rig();
    await install(session, [fwd(1, 0, { actions: [toController()], cookie: 99 })]);
    a.send(frameAB(), port1);
    const pin = await session.waitFor('packetIn');
    expect(pin).toMatchObject({ reason: 'action', cookie: 99 });
    session.send({ type: 'packetOut', xid: 70, inPort: PORT.CONTROLLER, actions: [output(2)], data: pin.data });
    const [got] = await b.waitFrames(1);
    expect(got.equals(Buffer.from(pin.data))).toBe(true);
  });

  it('expires an idle flow on the injected clock and reports it removed', async () => {
    const { sw, session, clock } = await rig();
    await install(session, [fwd(1, 2, { idleTimeoutSec: 5 }), fwd(2, 1, { hardTimeoutSec: 60 })]);
    clock.t += 4000;
    sw.sweep();
    expect(sw.stats().flows).toBe(2);
    clock.t += 2000;
    sw.sweep();
    expect(sw.stats().flows).toBe(1);
    const removed = await session.waitFor('flowRemoved');
    expect(removed).toMatchObject({ reason: 'idleTimeout', flow: { match: { inPort: 1 } } });
    clock.t += 60_000;
    sw.sweep();
    expect(sw.stats().flows).toBe(0);
    await session.waitFor('flowRemoved', (m) => m.reason === 'hardTimeout');
  });

  it('refuses an invalid flow-mod with its error code and keeps going', async () => {
    const { session } = await rig();
    session.send({ type: 'flowMod', xid: 80, flowMod: { command: 'add', flow: { ...fwd(1, 2), match: { ipv4Dst: 1 } } } });
    const err = await session.waitFor('error', (m) => m.xid === 80);
    expect(err.code).toBe('OVC_ERR_FLOW_BAD_MATCH');
    session.send({ type: 'flowMod', xid: 81, flowMod: { command: 'add', flow: { ...fwd(1, 2), table: 99 } } });
    expect((await session.waitFor('error', (m) => m.xid === 81)).code).toBe('OVC_ERR_FLOW_BAD_TABLE');
    session.send({ type: 'barrierReply', xid: 82 });
    expect((await session.waitFor('error', (m) => m.xid === 82)).code).toBe('OVC_ERR_PROTO_UNEXPECTED');
  });

  it('answers malformed and oversized frames with an Error, counts them, and the channel survives', async () => {
    const { session, sw } = await rig();
    session.sendRaw(frame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])));
    const e1 = await session.waitFor('error', (m) => m.code === 'OVC_ERR_PROTO_MALFORMED');
    expect(e1.code).toBe('OVC_ERR_PROTO_MALFORMED');
    const big = Buffer.alloc(4 + 16);
    big.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    session.sendRaw(big);
    session.sendRaw(Buffer.alloc(MAX_FRAME_BYTES + 1 - 16));
    await session.waitFor('error', (m) => m.code === 'OVC_ERR_PROTO_OVERSIZED');
    session.send({ type: 'barrierRequest', xid: 90 });
    await session.waitFor('barrierReply', (m) => m.xid === 90);
    expect(sw.stats().drops).toMatchObject({ channelMalformed: 1, channelOversized: 1 });
    expect(sw.connected).toBe(true);
  });

  it('applies a bundle atomically: all of it, or none when one mod is bad', async () => {
    const { sw, session } = await rig();
    const open = (id: number, xid: number) => session.send({ type: 'bundleControl', xid, bundleId: id, ctrl: 'openRequest' });
    open(1, 100);
    await session.waitFor('bundleControl', (m) => m.xid === 100 && m.ctrl === 'openReply');
    session.send({ type: 'bundleAdd', xid: 101, bundleId: 1, mod: { type: 'flowMod', flowMod: { command: 'add', flow: fwd(1, 2) } } });
    session.send({ type: 'bundleAdd', xid: 102, bundleId: 1, mod: { type: 'flowMod', flowMod: { command: 'add', flow: { ...fwd(2, 1), table: 99 } } } });
    session.send({ type: 'bundleControl', xid: 103, bundleId: 1, ctrl: 'commitRequest' });
    expect((await session.waitFor('error', (m) => m.xid === 103)).code).toBe('OVC_ERR_FLOW_BAD_TABLE');
    expect(sw.stats().flows).toBe(0);
    open(2, 110);
    session.send({ type: 'bundleAdd', xid: 111, bundleId: 2, mod: { type: 'flowMod', flowMod: { command: 'add', flow: fwd(1, 2) } } });
    session.send({
      type: 'bundleAdd',
      xid: 112,
      bundleId: 2,
      mod: { type: 'groupMod', groupMod: { command: 'add', group: { groupId: 5, type: 'all', buckets: [{ actions: [output(1)] }] } } },
    });
    session.send({ type: 'bundleControl', xid: 113, bundleId: 2, ctrl: 'commitRequest' });
    await session.waitFor('bundleControl', (m) => m.xid === 113 && m.ctrl === 'commitReply');
    expect(sw.stats()).toMatchObject({ flows: 1, groups: 1 });
    session.send({ type: 'bundleControl', xid: 114, bundleId: 9, ctrl: 'commitRequest' });
    expect((await session.waitFor('error', (m) => m.xid === 114)).code).toBe('OVC_ERR_SWITCH_BAD_BUNDLE');
  });

  it('keeps forwarding while the controller is away and reconnects when it returns', async () => {
    const { sw, a, b, ctl, session, port1 } = await rig();
    await install(session, [fwd(1, 2)]);
    const ctlPort = ctl.port;
    await ctl.close();
    await waitFor('the switch to see its controller go', () => !sw.connected);
    a.send(frameAB(1), port1);
    await b.waitFrames(1);
    const ctl2 = await startControllerStub({ port: ctlPort });
    cleanups.push(() => ctl2.close());
    const s2 = await ctl2.nextSession();
    await s2.waitFor('featuresReply');
    await waitFor('the switch to be connected again', () => sw.connected || notYet(sw.stats().channel));
    a.send(frameAB(2), port1);
    await b.waitFrames(2);
    expect(sw.stats().channel).toMatchObject({ connected: true, connects: 2, disconnects: 1 });
  });

  it('refuses a controller with no common version and closes', async () => {
    const ctl = await startControllerStub({ versions: [5] });
    const sessionP = ctl.nextSession();
    const sw = createSoftSwitch(
      { dpid: 1, controller: { host: '127.0.0.1', port: ctl.port }, ports: [], backoff: { initialMs: 5000, maxMs: 5000 } },
      { logger },
    );
    await sw.start();
    cleanups.push(async () => {
      await sw.stop();
      await ctl.close();
    });
    const s = await sessionP;
    const err = await s.waitFor('error');
    expect(err.code).toBe('OVC_ERR_PROTO_VERSION');
    await s.closed;
    expect(sw.connected).toBe(false);
  });

  it('reports a port whose peer went away with a PortStatus and marks it not live', async () => {
    const { sw, a, b, session, port1 } = await rig();
    await install(session, [fwd(1, 2)]);
    await b.close();
    // Each send to the closed peer draws an ICMP port-unreachable, seen as ECONNREFUSED on the socket.
    await waitFor('a send error on the port whose peer is gone', () => {
      a.send(frameAB(), port1);
      return sw.ports()[1].counters.txErrors > 0 || notYet(sw.ports()[1].counters);
    });
    sw.sweep();
    const st = await session.waitFor('portStatus');
    expect(st).toMatchObject({ reason: 'modify', port: { portNo: 2, up: false } });
    expect(sw.ports()[1].live).toBe(false);
  });

  it('drops a silent controller after the echo timeout and reconnects', async () => {
    const ctl = await startControllerStub({ silent: true });
    const sw = createSoftSwitch(
      { dpid: 3, controller: { host: '127.0.0.1', port: ctl.port }, ports: [], echoIntervalMs: 40, echoTimeoutMs: 150, backoff: { initialMs: 10, maxMs: 20 } },
      { logger },
    );
    await sw.start();
    cleanups.push(async () => {
      await sw.stop();
      await ctl.close();
    });
    const first = await ctl.nextSession();
    await first.waitFor('echoRequest');
    await first.closed;
    await waitFor('the switch to connect again after the echo timeout', () => ctl.sessions.length >= 2 || notYet({ sessions: ctl.sessions.length, channel: sw.stats().channel }));
    expect(sw.stats().channel?.disconnects).toBeGreaterThanOrEqual(1);
  });

  it('forwards through a group; deleting the group removes the flows that use it', async () => {
    const { sw, a, b, session, port1 } = await rig();
    session.send({ type: 'groupMod', xid: 130, groupMod: { command: 'add', group: { groupId: 9, type: 'select', buckets: [{ weight: 1, actions: [output(2)] }] } } });
    await install(session, [fwd(1, 0, { actions: [group(9)] })], 131);
    a.send(frameAB(), port1);
    await b.waitFrames(1);
    session.send({ type: 'groupMod', xid: 132, groupMod: { command: 'add', group: { groupId: 9, type: 'all', buckets: [] } } });
    expect((await session.waitFor('error', (m) => m.xid === 132)).code).toBe('OVC_ERR_SWITCH_BAD_GROUP');
    session.send({ type: 'groupMod', xid: 133, groupMod: { command: 'delete', group: { groupId: 9, type: 'all', buckets: [] } } });
    session.send({ type: 'barrierRequest', xid: 134 });
    await session.waitFor('barrierReply', (m) => m.xid === 134);
    expect(sw.stats()).toMatchObject({ flows: 0, groups: 0 });
  });

  it('refuses a flow that forwards to a group it does not have (as OpenFlow does), counts it, and lists its groups', async () => {
    const { sw, session } = await rig();
    session.send({ type: 'flowMod', xid: 135, flowMod: { command: 'add', flow: fwd(1, 0, { actions: [group(4)] }) } });
    const err = await session.waitFor('error', (m) => m.xid === 135);
    expect(err.code).toBe('OVC_ERR_SWITCH_NO_GROUP');
    expect(sw.stats()).toMatchObject({ flows: 0, drops: { channelRefused: 1 } });
    // In a bundle, a group added earlier in the same bundle counts.
    session.send({ type: 'bundleControl', xid: 136, bundleId: 3, ctrl: 'openRequest' });
    session.send({ type: 'bundleAdd', xid: 137, bundleId: 3, mod: { type: 'groupMod', groupMod: { command: 'add', group: { groupId: 4, type: 'indirect', buckets: [{ actions: [output(2)] }] } } } });
    session.send({ type: 'bundleAdd', xid: 138, bundleId: 3, mod: { type: 'flowMod', flowMod: { command: 'add', flow: fwd(1, 0, { actions: [group(4)] }) } } });
    session.send({ type: 'bundleControl', xid: 139, bundleId: 3, ctrl: 'commitRequest' });
    await session.waitFor('bundleControl', (m) => m.xid === 139 && m.ctrl === 'commitReply');
    session.send({ type: 'groupDescRequest', xid: 140 });
    const desc = await session.waitFor('groupDescReply', (m) => m.xid === 140);
    expect(desc).toMatchObject({ more: false, groups: [{ groupId: 4, type: 'indirect', buckets: [{ actions: [output(2)] }] }] });
    expect(sw.stats()).toMatchObject({ flows: 1, groups: 1 });
  });

  it('refuses changes from a controller that made itself slave', async () => {
    const { sw, session } = await rig();
    session.send({ type: 'roleRequest', xid: 140, role: 'slave', generationId: 1 });
    expect(await session.waitFor('roleReply', (m) => m.xid === 140)).toMatchObject({ role: 'slave', generationId: 1 });
    session.send({ type: 'flowMod', xid: 141, flowMod: { command: 'add', flow: fwd(1, 2) } });
    expect((await session.waitFor('error', (m) => m.xid === 141)).code).toBe('OVC_ERR_PROTO_UNEXPECTED');
    expect(sw.stats().flows).toBe(0);
  });

  it('replies to echo requests (keepalive)', async () => {
    const { session } = await rig();
    session.send({ type: 'echoRequest', xid: 120, data: new Uint8Array([1, 2, 3]) });
    const r = await session.waitFor('echoReply', (m) => m.xid === 120);
    expect([...r.data]).toEqual([1, 2, 3]);
  });
});
