/**
 * Elastic IPs end to end with real processes (a controller and two softswitches from
 * topologies/gateway-demo.yaml) and real UDP test hosts: the outside host on the gateway's uplink
 * (s1:9), two function instances on s2 and s1. UDP both ways through the elastic IP with checksums
 * verified by the receiving host; then the address moves to the other instance while the outside host
 * sends continuously: nothing sent after the PATCH is acknowledged reaches the old instance, and
 * nothing is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import type { TestHost, ReceivedDatagram } from '../../src/host/index.js';
import { buildUdpFrame, formatIpv4, parseIpv4, parseMac } from '../../src/net/index.js';
import { createShopVpc, get, notYet, patch, plugHost, post, startLab, type PlugOptions, waitFor } from './lab-client.js';

/** The outside host's stream sends four datagrams, then yields this long (pacing, not waiting). */
const SEND_PACE_MS = 2;

describe('elastic IP lab', () => {
  let lab: LabHandle;
  const hosts: TestHost[] = [];
  let outside: TestHost;
  let a: TestHost;
  let b: TestHost;
  let eip: { id: string; publicIp: string };
  let epBId: string;

  const plug = (sw: string, port: number, o: PlugOptions) => plugHost(lab, hosts, sw, port, o);

  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/gateway-demo.yaml', logLevel: 'warn', readyTimeoutMs: 60_000 });
    const api = lab.apiUrl;
    const shop = await createShopVpc(api);
    // The VPC's default group lets in only its members (docs/security-groups.md): the instances serve
    // the outside, so their group lets UDP in from anywhere.
    const { items } = await get<{ items: { id: string; rules: unknown[] }[] }>(`${api}/v1/security-groups?vpc=${shop.vpc}`);
    await patch(`${api}/v1/security-groups/${items[0].id}`, { rules: [...items[0].rules, { direction: 'ingress', protocol: 'udp', cidr: '0.0.0.0/0' }] });
    const epA = await shop.addFunction({ dpid: 2, port: 1, ip: '10.1.0.10', mac: '06:00:00:00:00:0a' });
    const epB = await shop.addFunction({ dpid: 1, port: 1, ip: '10.1.0.11', mac: '06:00:00:00:00:0b' });
    outside = await plug('s1', 9, { name: 'outside', mac: '02:00:00:00:01:10', ip: '198.51.100.10', prefix: 24, gateway: '198.51.100.1' });
    a = await plug('s2', 1, { name: 'a', mac: '06:00:00:00:00:0a', ip: '10.1.0.10', prefix: 24, gateway: '10.1.0.1' });
    b = await plug('s1', 1, { name: 'b', mac: '06:00:00:00:00:0b', ip: '10.1.0.11', prefix: 24, gateway: '10.1.0.1' });
    eip = await post<{ id: string; publicIp: string }>(`${api}/v1/elastic-ips`, { endpoint: epA.id });
    epBId = epB.id;
    await lab.waitReady(30_000);
  }, 120_000);

  afterAll(async () => {
    for (const h of hosts) h.stop();
    await lab?.stop();
  });

  it('the outside host and the instance exchange UDP through the elastic IP, checksums verified on receipt', async () => {
    const publicIp = parseIpv4(eip.publicIp);
    // Outbound first (the instance's switch port learns it): the outside sees the public address.
    a.received.length = 0;
    outside.received.length = 0;
    await a.sendUdp(parseIpv4('198.51.100.10'), 7000, 4000, Buffer.from('from a'));
    const got = await waitFor('the outside host to receive', () => outside.received[0]);
    expect(formatIpv4(got.srcIp)).toBe(eip.publicIp);
    expect(got.srcPort).toBe(7000);
    expect(got.checksumsOk).toBe(true);
    expect(got.payload.toString()).toBe('from a');
    // Inbound: to the public address, DNATed to the instance.
    await outside.sendUdp(publicIp, 4000, 7000, Buffer.from('to a'));
    const back = await waitFor('the instance to receive', () => a.received[0]);
    expect(formatIpv4(back.dstIp)).toBe('10.1.0.10');
    expect(formatIpv4(back.srcIp)).toBe('198.51.100.10');
    expect(back.checksumsOk).toBe(true);
    expect(back.payload.toString()).toBe('to a');
  });

  it('moves to another instance while the outside sends: nothing sent after the acknowledgement reaches the old one, nothing lost', async () => {
    const publicIp = parseIpv4(eip.publicIp);
    // b's switch port learns b before anything is addressed to it.
    await b.sendUdp(parseIpv4('10.1.0.10'), 1, 1, Buffer.from('hello'));
    await waitFor('b to be heard', () => a.received.some((d) => d.payload.toString() === 'hello') || notYet(a.received.map((d) => d.payload.toString())));
    a.received.length = 0;
    b.received.length = 0;
    // The outside's stream, by sequence number, as each instance receives it.
    const atA: ReceivedDatagram[] = [];
    const atB: ReceivedDatagram[] = [];
    const fromOutside = (d: ReceivedDatagram) => formatIpv4(d.srcIp) === '198.51.100.10' && d.srcPort === 4000;
    a.onUdp((d) => fromOutside(d) && atA.push(d));
    b.onUdp((d) => fromOutside(d) && atB.push(d));
    const seqs = (list: ReceivedDatagram[]) => list.map((d) => d.payload.readUInt32BE(0));
    const dstMac = await outside.resolve(publicIp);
    let seq = 0;
    let stop = false;
    const sender = (async () => {
      while (!stop) {
        for (let i = 0; i < 4; i++) {
          const payload = Buffer.alloc(4);
          payload.writeUInt32BE(seq++);
          outside.sendFrame(buildUdpFrame({ srcMac: parseMac('02:00:00:00:01:10'), dstMac, srcIp: parseIpv4('198.51.100.10'), dstIp: publicIp, srcPort: 4000, dstPort: 7000, payload }));
        }
        await new Promise((r) => setTimeout(r, SEND_PACE_MS)); // pacing the stream, not waiting for a result
      }
    })();
    const seen = () => ({ sent: seq, atA: atA.length, atB: atB.length });
    await waitFor('the stream flowing to the old instance', () => atA.length >= 50 || notYet(seen()));
    await patch(`${lab.apiUrl}/v1/elastic-ips/${eip.id}`, { endpoint: epBId });
    const sentAtAck = seq;
    await waitFor('the stream flowing to the new instance', () => seqs(atB).filter((s) => s >= sentAtAck).length >= 50 || notYet(seen()));
    stop = true;
    await sender;
    const total = seq;
    await waitFor('every datagram of the stream at one instance or the other', () => {
      const got = new Set([...seqs(atA), ...seqs(atB)]);
      if (got.size === total) return true;
      return notYet({ ...seen(), missing: Array.from({ length: total }, (_, i) => i).filter((i) => !got.has(i)).slice(0, 20) });
    });
    // A marker from b to a crosses the same link and port into a that a stray datagram of the
    // stream would: when it is in, anything the switches sent a's way earlier is in too.
    const markers = () => a.received.filter((d) => d.payload.toString() === 'marker').length;
    await b.sendUdp(parseIpv4('10.1.0.10'), 1, 1, Buffer.from('marker'));
    await waitFor('the marker from b at a', () => markers() > 0 || notYet(seen()));
    const seqsA = seqs(atA);
    const seqsB = seqs(atB);
    const lateAtOld = seqsA.filter((s) => s >= sentAtAck);
    console.log(`move: sent ${total}, ack after #${sentAtAck}; old got ${seqsA.length} (max #${Math.max(...seqsA)}), new got ${seqsB.length} (min #${Math.min(...seqsB)}); sent after ack at old: ${lateAtOld.length}`);
    expect(lateAtOld).toEqual([]);
    expect(seqsA.length).toBeGreaterThan(0);
    expect(seqsB.length).toBeGreaterThan(0);
    expect([...atA, ...atB].every((d) => d.checksumsOk)).toBe(true);
    expect(seqsA.length + seqsB.length).toBe(total); // each exactly once
  }, 30_000);
});
