/**
 * The softswitch's packet-in meter: a flood of table misses reaches the controller only as fast as
 * the meter lets it; the rest is dropped in the switch and counted (drops_total{reason="packetInMeter"}).
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildUdpFrame } from '../../src/net/index.js';
import { createSoftSwitch } from '../../src/switch/index.js';
import { notYet, waitFor } from '../support/wait-for.js';
import { startControllerStub } from './controller-stub.js';
import { startHost } from './udp-hosts.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('softswitch packet-in meter', () => {
  it('sends at most the meter\'s burst and rate to the controller and counts the rest', async () => {
    const host = await startHost();
    const ctl = await startControllerStub();
    const sessionP = ctl.nextSession();
    const sw = createSoftSwitch(
      {
        dpid: 9,
        controller: { host: '127.0.0.1', port: ctl.port },
        ports: [{ portNo: 1, name: 'a', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: host.port }],
        packetInMeter: { ratePerSec: 20, burst: 10 },
        sweepIntervalMs: 60_000,
      },
      { logger },
    );
    await sw.start();
    cleanups.push(async () => {
      await sw.stop();
      await host.close();
      await ctl.close();
    });
    const session = await sessionP;
    await session.waitFor('featuresReply');
    const port = sw.ports()[0].local.port;
    const started = performance.now();
    const sent = 300;
    for (let i = 0; i < sent; i++) {
      host.send(buildUdpFrame({ srcMac: 0x020000000001, dstMac: 0x020000000002, srcIp: 0x0a000001, dstIp: 0x0a000002, srcPort: 1000 + i, dstPort: 53, payload: Buffer.from('x') }), port);
    }
    await waitFor('every frame through the pipeline', () => {
      const s = sw.stats();
      return s.ports[0].counters.rxPackets === sent || notYet(s.ports[0].counters);
    });
    const elapsedSec = (performance.now() - started) / 1000;
    const metered = sw.stats().drops.packetInMeter ?? 0;
    const allowed = sent - metered;
    expect(allowed).toBeGreaterThanOrEqual(10);
    expect(allowed).toBeLessThanOrEqual(10 + Math.ceil(20 * elapsedSec) + 1);
    await waitFor('the allowed packet-ins at the controller', () => {
      const n = session.received.filter((m) => m.type === 'packetIn').length;
      return n === allowed || notYet(n);
    });
  });
});
