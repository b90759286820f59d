/**
 * The softswitch's connection table through real UDP ports: a connection from port 1 is committed and
 * its replies pass, unsolicited traffic from port 2 does not; the zone limit drops and counts the
 * overflow; the sweep expires connections on the switch's clock.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CT_STATE, ct, output, type FlowEntry } from '../../src/flow/index.js';
import { buildUdpFrame } from '../../src/net/index.js';
import { createSoftSwitch } from '../../src/switch/index.js';
import { notYet, waitFor } from '../support/wait-for.js';
import { startHost } from './udp-hosts.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const { TRK, NEW, EST } = CT_STATE;
const FLOWS: FlowEntry[] = [
  { table: 0, priority: 10, cookie: 1, match: { ethType: 0x0800 }, actions: [ct(4, { table: 1 })] },
  { table: 1, priority: 20, cookie: 2, match: { ethType: 0x0800, inPort: 1, ctState: { value: TRK | NEW, mask: TRK | NEW } }, actions: [ct(4, { commit: true }), output(2)] },
  { table: 1, priority: 10, cookie: 3, match: { inPort: 1, ctState: { value: TRK | EST, mask: TRK | EST } }, actions: [output(2)] },
  { table: 1, priority: 10, cookie: 4, match: { inPort: 2, ctState: { value: TRK | EST, mask: TRK | EST } }, actions: [output(1)] },
];
const A = { mac: 0x020000000001, ip: 0x0a000001 };
const B = { mac: 0x020000000002, ip: 0x0a000002 };
const fromA = (srcPort: number) => buildUdpFrame({ srcMac: A.mac, dstMac: B.mac, srcIp: A.ip, dstIp: B.ip, srcPort, dstPort: 53, payload: Buffer.from('q') });
const fromB = (dstPort: number) => buildUdpFrame({ srcMac: B.mac, dstMac: A.mac, srcIp: B.ip, dstIp: A.ip, srcPort: 53, dstPort, payload: Buffer.from('r') });

describe('softswitch connection tracking', () => {
  it('passes replies of committed connections only, limits the zone, expires on sweep', async () => {
    let now = 1_000_000;
    const [a, b] = [await startHost(), await startHost()];
    const sw = createSoftSwitch(
      {
        dpid: 3,
        tableMiss: 'drop',
        ports: [
          { portNo: 1, name: 'a', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: a.port },
          { portNo: 2, name: 'b', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: b.port },
        ],
        sweepIntervalMs: 3_600_000,
        conntrack: { zoneLimit: 1, timeouts: { udpFirstMs: 5000, udpMultipleMs: 5000 } },
      },
      { logger, now: () => now },
    );
    await sw.start();
    cleanups.push(async () => {
      await sw.stop();
      await a.close();
      await b.close();
    });
    for (const flow of FLOWS) sw.applyFlowMod({ command: 'add', flow });
    const [portA, portB] = sw.ports().map((p) => p.local.port);
    const rx = (port: number) => sw.stats().ports[port - 1].counters.rxPackets;
    const processed = async (port: number, n: number) =>
      waitFor(`${n} frames in on port ${port}`, () => rx(port) >= n || notYet(sw.stats().ports.map((p) => p.counters)));

    b.send(fromB(5000), portB);
    await processed(2, 1);
    expect(sw.stats().drops.tableMiss).toBe(1);

    a.send(fromA(5000), portA);
    await b.waitFrames(1);
    expect(sw.stats().conntrack).toMatchObject({ connections: 1, created: 1 });
    b.send(fromB(5000), portB);
    await a.waitFrames(1);

    // Zone 4 holds one connection: a second one from A is dropped and counted.
    a.send(fromA(5001), portA);
    await processed(1, 2);
    expect(sw.stats().drops.conntrackLimit).toBe(1);
    expect(sw.stats().conntrack.zoneLimitDrops).toBe(1);

    now += 5001;
    sw.sweep();
    expect(sw.stats().conntrack).toMatchObject({ connections: 0, expired: 1 });
    b.send(fromB(5000), portB);
    await processed(2, 3);
    expect(sw.stats().drops.tableMiss).toBe(2);
    expect(a.received).toHaveLength(1);
  });
});
