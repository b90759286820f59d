/**
 * The OVS lab end to end: a topology as Open vSwitch bridges (links as netdev-dummy unix streams),
 * programmed by our controller over OpenFlow 1.3, with Overcast's UDP test hosts attached through the
 * frame relay. Hosts resolve each other (the bridges' ARP responder answers) and ping across bridges.
 * Skipped without root or Open vSwitch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvsLab, type OvsLab } from '../../../src/lab/lab-ovs.js';
import { frameForDummyStream, splitDummyStream } from '../../../src/lab/ovs-frame-relay.js';
import { compileFabric } from '../../../src/compiler/index.js';
import { Controller } from '../../../src/controller/controller.js';
import type { ControllerEvent } from '../../../src/controller/events.js';
import { listenOpenFlow, type OpenFlowServer } from '../../../src/controller/openflow13/index.js';
import { TestHost } from '../../../src/host/index.js';
import { cidrContaining } from '../../../src/net/index.js';
import { loadShipped } from '../../model/helpers.js';
import { canRunOvs } from '../../support/ovs.js';
import { desiredOf, silent, waitSynced } from './helpers.js';

const LIVE = canRunOvs();

describe('netdev-dummy stream framing', () => {
  it('frames are a 2-byte big-endian length then the bytes; a cut frame waits for the rest', () => {
    const a = Buffer.alloc(60, 1);
    const b = Buffer.alloc(14, 2);
    const stream = Buffer.concat([frameForDummyStream(a), frameForDummyStream(b)]);
    expect(stream.readUInt16BE(0)).toBe(60);
    const got: Buffer[] = [];
    const rest = splitDummyStream(stream.subarray(0, 70), (f) => got.push(Buffer.from(f)));
    expect(got).toEqual([a]);
    expect(rest.length).toBe(70 - 62);
    splitDummyStream(Buffer.concat([rest, stream.subarray(70)]), (f) => got.push(Buffer.from(f)));
    expect(got).toEqual([a, b]);
  });
});

describe.skipIf(!LIVE)('OVS lab: demo.yaml with UDP test hosts', () => {
  const topology = loadShipped('demo.yaml');
  let lab: OvsLab;
  let controller: Controller;
  let server: OpenFlowServer;
  const hosts = new Map<string, TestHost>();

  beforeAll(async () => {
    controller = new Controller({ logger: silent, nowMs: () => performance.now() });
    const events: ControllerEvent[] = [];
    controller.events.subscribe((e) => events.push(e));
    await controller.setDesired(desiredOf(compileFabric(topology)));
    server = await listenOpenFlow(controller, '127.0.0.1', 0, silent);
    // Relays and hosts bind port 0; each relay then learns where its host listens.
    const relays = topology.hosts.map((h) => ({ host: h.name, bind: { host: '127.0.0.1', port: 0 } }));
    lab = await startOvsLab({ topology, controller: `tcp:127.0.0.1:${server.port}`, hostRelays: relays, controllerMaxBackoffMs: 1000 });
    await waitSynced(events, topology.switches.map((s) => s.dpid));
    for (const h of topology.hosts) {
      const relay = lab.relays.get(h.name);
      if (!relay) throw new Error(`no relay for ${h.name}`);
      const host = new TestHost(
        { name: h.name, mac: h.mac, ip: h.ip, subnet: cidrContaining(h.ip, h.prefixLength), bind: { host: '127.0.0.1', port: 0 }, peer: relay.address() },
        { logger: silent, nowMs: () => performance.now() },
      );
      await host.start();
      relay.setPeer({ host: '127.0.0.1', port: host.boundPort });
      hosts.set(h.name, host);
    }
  }, 30_000);

  afterAll(async () => {
    for (const h of hosts.values()) h.stop();
    controller?.close();
    await server?.close();
    await lab?.stop();
  });

  it('every host pings every other host across the bridges', async () => {
    const results: string[] = [];
    for (const a of topology.hosts) {
      for (const b of topology.hosts) {
        if (a === b) continue;
        const r = await (hosts.get(a.name) as TestHost).ping(b.ip, 2, 2000);
        results.push(`${a.name}->${b.name} ${r.received}/${r.sent}`);
      }
    }
    expect(results).toEqual(topology.hosts.flatMap((a) => topology.hosts.filter((b) => b !== a).map((b) => `${a.name}->${b.name} 2/2`)));
    const relay = lab.relays.get('h1');
    expect(relay?.counters.toSwitch).toBeGreaterThan(0);
    expect(relay?.counters.toHost).toBeGreaterThan(0);
  }, 30_000);
});
