/**
 * The partition, replayed on the plain TCP channel (where anyone may claim a dpid): while s1
 * is away an impostor claims dpid 1 and reports its two link ports down, taking both links down. When
 * the real s1 reconnects, its features say the ports are up and the links come back at once, flows
 * included. And while s1 is connected, the impostor is not let in at all.
 */
import fs from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import { createIntentService } from '../../src/controller/intent/index.js';
import { startIntentRuntime, type IntentRuntime } from '../../src/controller/intent-runtime.js';
import { listenNative } from '../../src/controller/native/native-server.js';
import { openIntentStore } from '../../src/controller/store/index.js';
import { linkId, parseTopology } from '../../src/model/index.js';
import { notYet, waitFor } from '../support/wait-for.js';
import { connectFakeSwitch, type FakeSwitch } from './channel/fake-switch.js';

const logger = pino({ level: 'silent' });
const topology = parseTopology(fs.readFileSync('topologies/demo.yaml', 'utf8'), 'demo.yaml');
const S1_LINKS = ['s1:3~s2:1', 's1:4~s3:2'];

describe('link state follows the switches\' ports', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  async function setup() {
    const store = openIntentStore(':memory:');
    const intent = await createIntentService({ seedTopology: topology }, { store, logger });
    const controller = new Controller({ logger, nowMs: () => performance.now() });
    const runtime = await startIntentRuntime(intent, controller, logger);
    const server = await listenNative(controller, '127.0.0.1', 0, logger);
    cleanup.push(async () => {
      runtime.stop();
      controller.close();
      await server.close();
      store.close();
    });
    const connect = (dpid: number): FakeSwitch => {
      const sw = topology.switches.find((s) => s.dpid === dpid);
      const f = connectFakeSwitch({ port: server.port, dpid, ports: (sw?.ports ?? []).map((p) => ({ portNo: p.number, name: `p${p.number}`, hwAddr: 0, up: true })) });
      cleanup.push(() => f.close());
      return f;
    };
    const joined = (dpid: number, not?: unknown) =>
      waitFor(`dpid ${dpid} to join`, () => {
        const s = controller.session(dpid);
        return s && s !== not ? s : notYet(controller.channelCounters);
      }, { timeoutMs: 10_000 });
    const gone = (dpid: number) => waitFor(`dpid ${dpid} to leave`, () => controller.session(dpid) === undefined || notYet('connected'), { timeoutMs: 10_000 });
    return { intent, controller, runtime, connect, joined, gone };
  }

  const compiledLinks = (runtime: IntentRuntime) => Object.fromEntries(runtime.compiler.topology().links.map((l) => [linkId(l), l.up]));
  const linksAre = (runtime: IntentRuntime, ids: string[], up: boolean) =>
    waitFor(`links ${ids.join(', ')} ${up ? 'up' : 'down'}`, () => {
      const now = compiledLinks(runtime);
      return ids.every((id) => now[id] === up) || notYet(now);
    }, { timeoutMs: 10_000 });

  it('two fake port-down messages are healed by the real switch\'s reconnect', async () => {
    const { controller, runtime, connect, joined, gone } = await setup();
    const s1 = connect(1);
    connect(2);
    connect(3);
    await Promise.all([joined(1), joined(2), joined(3)]);
    const flowsOnS2 = controller.desiredFlowCount(2);

    s1.close();
    await gone(1);
    const impostor = connect(1);
    await joined(1);
    for (const port of [3, 4]) impostor.send({ type: 'portStatus', xid: 0, reason: 'modify', port: { portNo: port, name: `p${port}`, hwAddr: 0, up: false } });
    await linksAre(runtime, S1_LINKS, false);
    expect(Object.fromEntries(runtime.operationalLinks())).toMatchObject({ [S1_LINKS[0]]: false, [S1_LINKS[1]]: false });
    expect(controller.desiredFlowCount(2)).not.toBe(flowsOnS2);

    impostor.close();
    await gone(1);
    connect(1);
    await joined(1);
    await linksAre(runtime, S1_LINKS, true);
    expect([...runtime.operationalLinks().values()].every(Boolean)).toBe(true);
    expect(controller.desiredFlowCount(2)).toBe(flowsOnS2);
  });

  it('an impostor is not let in while the real switch answers', async () => {
    const { controller, connect, joined } = await setup();
    connect(1);
    const real = await joined(1);
    const impostor = connect(1);
    await impostor.closed;
    expect(controller.session(1)).toBe(real);
    expect(controller.channelCounters.takeoverRefused).toBe(1);
  });

  it('a link down as configured stays down whatever its ports say; up again, it waits for its ports', async () => {
    const { intent, controller, runtime, connect, joined } = await setup();
    const s1 = connect(1);
    connect(2);
    connect(3);
    await Promise.all([joined(1), joined(2), joined(3)]);
    const [id] = S1_LINKS;
    const port3 = async (up: boolean) => {
      const heard = controller.events.waitFor((e) => e.type === 'port.status' && e.dpid === 1 && e.port === 3 && e.up === up, 10_000);
      s1.send({ type: 'portStatus', xid: 0, reason: 'modify', port: { portNo: 3, name: 'p3', hwAddr: 0, up } });
      await heard;
    };
    await intent.topology.setLinkUp(id, false);
    await linksAre(runtime, [id], false);
    await port3(true);
    expect(compiledLinks(runtime)[id]).toBe(false);
    await port3(false);
    await intent.topology.setLinkUp(id, true);
    expect(intent.topology.get().links.find((l) => linkId(l) === id)?.up).toBe(true);
    expect(compiledLinks(runtime)[id]).toBe(false);
    await port3(true);
    await linksAre(runtime, [id], true);
  });
});
