/**
 * The test host records the UDP datagrams and TCP segments addressed to it (the security-group e2e
 * tests play both ends of a TCP connection with crafted frames and read what arrived). Two hosts wired
 * back to back: each one's socket sends to the other's.
 */
import dgram from 'node:dgram';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TestHost } from '../../src/host/index.js';
import { buildTcpFrame, buildUdpFrame, cidrContaining, parseIpv4 } from '../../src/net/index.js';
import { notYet, waitFor } from '../support/wait-for.js';

const A = { mac: 0x060000000001, ip: parseIpv4('10.0.0.1') };
const B = { mac: 0x060000000002, ip: parseIpv4('10.0.0.2') };

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('TestHost', () => {
  const hosts: TestHost[] = [];
  afterEach(() => {
    for (const h of hosts.splice(0)) h.stop();
  });

  it('records TCP segments (with their flags) and UDP datagrams addressed to it', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const make = (name: string, me: typeof A, bind: number, peer: number) => {
      const h = new TestHost(
        { name, mac: me.mac, ip: me.ip, subnet: cidrContaining(me.ip, 24), bind: { host: '127.0.0.1', port: bind }, peer: { host: '127.0.0.1', port: peer } },
        { logger: pino({ level: 'silent' }), nowMs: () => performance.now() },
      );
      hosts.push(h);
      return h;
    };
    const a = make('a', A, pa, pb);
    const b = make('b', B, pb, pa);
    // b first: a connected socket that sends to a port nobody binds fails its next send.
    await b.start();
    await a.start();
    const ends = { srcMac: A.mac, dstMac: B.mac, srcIp: A.ip, dstIp: B.ip };
    a.sendFrame(buildTcpFrame({ ...ends, srcPort: 40000, dstPort: 80, flags: 0x02, seq: 1, ack: 0 }));
    a.sendFrame(buildUdpFrame({ ...ends, srcPort: 40001, dstPort: 9, payload: Buffer.from('x') }));
    await waitFor('both frames at b', () => b.received.length === 2 || notYet({ received: b.received, counters: b.counters }));
    expect(b.received.map(({ proto, tcpFlags, srcPort, dstPort, checksumsOk }) => ({ proto, tcpFlags, srcPort, dstPort, checksumsOk }))).toEqual([
      { proto: 'tcp', tcpFlags: 0x02, srcPort: 40000, dstPort: 80, checksumsOk: true },
      { proto: 'udp', tcpFlags: 0, srcPort: 40001, dstPort: 9, checksumsOk: true },
    ]);
    expect(b.counters).toMatchObject({ tcpReceived: 1, udpReceived: 1 });
  });
});
