import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { output, toController, type FlowEntry } from '../../src/flow/index.js';
import { buildUdpFrame } from '../../src/net/index.js';
import { createSoftSwitch, type SoftSwitch } from '../../src/switch/index.js';
import { RoleArbiter } from '../../src/switch/controller-roles.js';
import { startControllerStub, type ControllerStub, type StubSession } from './controller-stub.js';
import { startHost, type TestHost } from './udp-hosts.js';
import { notYet, waitFor } from '../support/wait-for.js';

const logger = pino({ level: 'silent' });
const flow = (inPort: number, extra: Partial<FlowEntry> = {}): FlowEntry => ({ table: 0, priority: 100, match: { inPort }, actions: [output(2)], cookie: 1, ...extra });

describe('RoleArbiter', () => {
  it('makes the other master a slave, and refuses an older generation id', () => {
    const roles = new RoleArbiter();
    const a = { role: 'equal' as const } as { role: 'equal' | 'master' | 'slave' | 'noChange' };
    const b = { ...a };
    roles.add(a);
    roles.add(b);
    expect(roles.request(a, 'master', 5)).toBeUndefined();
    expect(roles.request(b, 'master', 6)).toBeUndefined();
    expect([a.role, b.role]).toEqual(['slave', 'master']);
    expect(roles.request(a, 'master', 5)).toMatch(/older/);
    expect(a.role).toBe('slave');
    // 64-bit serial comparison: a generation that wrapped around is newer.
    expect(roles.request(a, 'master', 2 ** 53 - 1)).toBeUndefined();
    expect(roles.request(b, 'equal', 0)).toBeUndefined();
    expect(roles.listeners()).toEqual([a, b]);
  });
});

describe('a softswitch with two controllers', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function rig(): Promise<{ sw: SoftSwitch; one: StubSession; two: StubSession; a: TestHost; b: TestHost; stubs: ControllerStub[] }> {
    const a = await startHost();
    const b = await startHost();
    const stubs = [await startControllerStub({}), await startControllerStub({})];
    const sessions = stubs.map((s) => s.nextSession());
    const sw = createSoftSwitch(
      {
        dpid: 9,
        controllers: stubs.map((s) => ({ host: '127.0.0.1', port: s.port })),
        ports: [
          { portNo: 1, name: 'a', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: a.port },
          { portNo: 2, name: 'b', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: b.port },
        ],
        backoff: { initialMs: 20, maxMs: 100 },
        sweepIntervalMs: 60_000,
      },
      { logger },
    );
    await sw.start();
    cleanups.push(async () => {
      await sw.stop();
      for (const s of stubs) await s.close();
      await a.close();
      await b.close();
    });
    const [one, two] = await Promise.all(sessions);
    await one.waitFor('featuresReply');
    await two.waitFor('featuresReply');
    return { sw, one, two, a, b, stubs };
  }

  it('takes changes from the master only, and packet-ins go to the master', async () => {
    const { sw, one, two, a } = await rig();
    one.send({ type: 'roleRequest', xid: 1, role: 'master', generationId: 10 });
    expect(await one.waitFor('roleReply', (m) => m.xid === 1)).toMatchObject({ role: 'master' });
    two.send({ type: 'roleRequest', xid: 2, role: 'slave', generationId: 10 });
    expect(await two.waitFor('roleReply', (m) => m.xid === 2)).toMatchObject({ role: 'slave' });
    two.send({ type: 'flowMod', xid: 3, flowMod: { command: 'add', flow: flow(1) } });
    expect((await two.waitFor('error', (m) => m.xid === 3)).code).toBe('OVC_ERR_PROTO_UNEXPECTED');
    one.send({ type: 'flowMod', xid: 4, flowMod: { command: 'add', flow: flow(1, { actions: [toController()] }) } });
    one.send({ type: 'barrierRequest', xid: 5 });
    await one.waitFor('barrierReply', (m) => m.xid === 5);
    expect(sw.stats().flows).toBe(1);
    const port1 = sw.ports().find((p) => p.portNo === 1)!.local.port;
    a.send(buildUdpFrame({ srcMac: 0x020000000001, dstMac: 0x020000000002, srcIp: 0x0a000001, dstIp: 0x0a000002, srcPort: 1, dstPort: 2, payload: Buffer.from('x') }), port1);
    await one.waitFor('packetIn');
    expect(two.received.some((m) => m.type === 'packetIn')).toBe(false);
  });

  it('hands mastership to a newer generation and refuses the old master coming back', async () => {
    const { sw, one, two } = await rig();
    one.send({ type: 'roleRequest', xid: 1, role: 'master', generationId: 10 });
    await one.waitFor('roleReply', (m) => m.xid === 1);
    two.send({ type: 'roleRequest', xid: 2, role: 'master', generationId: 11 });
    await two.waitFor('roleReply', (m) => m.xid === 2);
    await waitFor('the first controller to be a slave', () => {
      const roles = sw.stats().channels.map((c) => c.role);
      return roles[0] === 'slave' && roles[1] === 'master' ? true : notYet(roles);
    });
    one.send({ type: 'roleRequest', xid: 3, role: 'master', generationId: 10 });
    expect((await one.waitFor('error', (m) => m.xid === 3)).code).toBe('OVC_ERR_SWITCH_STALE_ROLE');
    one.send({ type: 'flowMod', xid: 4, flowMod: { command: 'add', flow: flow(1) } });
    expect((await one.waitFor('error', (m) => m.xid === 4)).code).toBe('OVC_ERR_PROTO_UNEXPECTED');
  });
});
