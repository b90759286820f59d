/**
 * A load balancer behind an elastic IP with real processes (a controller and two softswitches from
 * topologies/gateway-demo.yaml) and real UDP test hosts: the outside host on the gateway's uplink (s1:9)
 * sends to publicIp:80; the gateway rewrites it to the VIP and the LB's select group picks one of four
 * instances of one function (two revisions weighted 80/20, on both switches; backend port 8080). Every
 * instance echoes what it gets; the outside host checks each reply comes from publicIp:80 with
 * checksums verified on receipt. Then scale from zero through the public address: a second LB behind
 * another address, for a function with no instance, holds the outside's packets until the first
 * instance registers, and they arrive there in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import type { TestHost, ReceivedDatagram } from '../../src/host/index.js';
import { buildUdpFrame, formatIpv4, parseIpv4, parseMac } from '../../src/net/index.js';
import { createShopVpc, get, notYet, openEventStream, patch, plugHost, post, startLab, switchesInSync, type PlugOptions, type ShopVpc, waitFor } from './lab-client.js';

/**
 * The VPC's default group lets in only its members (docs/security-groups.md): instances serving the
 * outside get UDP in from anywhere.
 */
async function openToOutside(api: string, vpc: string): Promise<void> {
  const { items } = await get<{ items: { id: string; rules: unknown[] }[] }>(`${api}/v1/security-groups?vpc=${vpc}`);
  await patch(`${api}/v1/security-groups/${items[0].id}`, { rules: [...items[0].rules, { direction: 'ingress', protocol: 'udp', cidr: '0.0.0.0/0' }] });
}

const CONNECTIONS = 3000;
const FIRST_PORT = 20_000;
const LB_PORT = 80;
const BACKEND_PORT = 8080;
const OUTSIDE_IP = '198.51.100.10';
const OUTSIDE_MAC = '02:00:00:00:01:10';

/** The sender yields this long after every 100 frames, so the receiving sockets keep up (pacing, not waiting). */
const PACE_MS = 2;
/** A marker's payload: the tag, this, the connection index whose source port carries it. */
const MARK = '!';

interface Backend {
  name: string;
  revision: string;
  host: TestHost;
}

describe('load balancer behind an elastic IP, end to end', () => {
  let lab: LabHandle;
  const hosts: TestHost[] = [];
  const backends: Backend[] = [];
  /** Echo replies a backend could not send (no ARP answer...): none expected. */
  const echoFailures: string[] = [];
  let outside: TestHost;
  let shop: ShopVpc;
  let vpc: string;

  const plug = (sw: string, port: number, o: PlugOptions) => plugHost(lab, hosts, sw, port, o);

  /** From the outside host: one datagram per connection (source port FIRST_PORT + i) to publicIp:port, paced. */
  async function sendConnections(publicIp: number, port: number, tag: string, count: number): Promise<void> {
    const dstMac = await outside.resolve(publicIp);
    for (let i = 0; i < count; i++) {
      outside.sendFrame(
        buildUdpFrame({ srcMac: parseMac(OUTSIDE_MAC), dstMac, srcIp: parseIpv4(OUTSIDE_IP), dstIp: publicIp, srcPort: FIRST_PORT + i, dstPort: port, payload: Buffer.from(`${tag}${i}`) }),
      );
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, PACE_MS));
    }
  }

  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/gateway-demo.yaml', logLevel: 'warn', readyTimeoutMs: 60_000 });
    const api = lab.apiUrl;
    shop = await createShopVpc(api);
    await openToOutside(api, shop.vpc);
    vpc = shop.vpc;
    outside = await plug('s1', 9, { name: 'outside', mac: OUTSIDE_MAC, ip: OUTSIDE_IP, prefix: 24, gateway: '198.51.100.1' });
    // Four instances of "web": v1 on s1:1, s2:1, s2:2; v2 on s1:2. Each echoes back what it receives.
    const placement: [string, number, number, string][] = [
      ['s1', 1, 1, 'v1'],
      ['s2', 2, 1, 'v1'],
      ['s2', 2, 2, 'v1'],
      ['s1', 1, 2, 'v2'],
    ];
    for (const [i, [sw, dpid, port, revision]] of placement.entries()) {
      const name = `web${i}`;
      const mac = `06:00:00:00:00:${(0x10 + i).toString(16)}`;
      const ip = `10.1.0.${20 + i}`;
      const host = await plug(sw, port, { name, mac, ip, prefix: 24, gateway: '10.1.0.1' });
      await shop.addFunction({ dpid, port, ip, mac, labels: { function: 'web', revision } });
      host.onUdp((d) => {
        if (d.dstPort !== BACKEND_PORT) return;
        host.sendUdp(d.srcIp, BACKEND_PORT, d.srcPort, Buffer.concat([Buffer.from(`${name}:`), d.payload])).catch((e: unknown) => echoFailures.push(`${name}: ${String(e)}`));
      });
      backends.push({ name, revision, host });
    }
    await lab.waitReady(30_000);
  }, 120_000);

  afterAll(async () => {
    for (const h of hosts) h.stop();
    await lab?.stop();
  });

  it('outside -> publicIp:80 spreads connections 80/20 over the instances on both switches, each sticks, replies leave from publicIp:80', async () => {
    const eip = await post<{ id: string; publicIp: string }>(`${lab.apiUrl}/v1/elastic-ips`, {});
    await post(`${lab.apiUrl}/v1/load-balancers`, {
      vpc,
      vip: '10.1.9.9',
      protocol: 'udp',
      port: LB_PORT,
      backendPort: BACKEND_PORT,
      function: 'web',
      weights: { v1: 80, v2: 20 },
      elasticIp: eip.id,
    });
    await switchesInSync(lab.apiUrl);
    const publicIp = parseIpv4(eip.publicIp);

    /**
     * One round: every connection once; where each landed (at the backends) and what came back (at the
     * outside). Once all are in, a marker follows on one connection per backend (the same 5-tuple, so
     * the same path): when every marker and its reply are back, anything delivered twice or late would
     * have arrived before them and is in `bad`.
     */
    const round = async (tag: string) => {
      const at = new Map<number, string>();
      const marked = new Map<number, string>();
      const bad: string[] = [];
      const offs = backends.map((b) =>
        b.host.onUdp((d: ReceivedDatagram) => {
          const text = d.payload.toString();
          if (!text.startsWith(tag)) return;
          if (text.startsWith(`${tag}${MARK}`)) return void marked.set(Number(text.slice(tag.length + MARK.length)), b.name);
          const i = Number(text.slice(tag.length));
          if (at.has(i)) bad.push(`connection ${i} delivered twice`);
          at.set(i, b.name);
          if (formatIpv4(d.srcIp) !== OUTSIDE_IP || d.srcPort !== FIRST_PORT + i || !d.checksumsOk) bad.push(`${b.name} got ${formatIpv4(d.srcIp)}:${d.srcPort} ok=${d.checksumsOk}`);
        }),
      );
      const replies = new Map<number, ReceivedDatagram>();
      const markReplies = new Set<number>();
      const offOutside = outside.onUdp((d) => {
        const m = /^(web\d+):([a-z]+)(!?)(\d+)$/.exec(d.payload.toString());
        if (!m || m[2] !== tag) return;
        const i = Number(m[4]);
        if (m[3] === MARK) markReplies.add(i);
        else if (replies.has(i)) bad.push(`reply ${i} arrived twice`);
        else replies.set(i, d);
      });
      await sendConnections(publicIp, LB_PORT, tag, CONNECTIONS);
      const missing = () => ({ atBackends: at.size, replies: replies.size, of: CONNECTIONS, bad: bad.slice(0, 10) });
      await waitFor(`every connection of round ${tag} at a backend and its reply at the outside`, () => (at.size === CONNECTIONS && replies.size === CONNECTIONS) || notYet(missing()), {
        timeoutMs: 15_000,
        everyMs: 100,
      });
      const markOn = backends.map((b) => [...at].find(([, name]) => name === b.name)?.[0] ?? 0);
      const dstMac = await outside.resolve(publicIp);
      for (const i of markOn) {
        outside.sendFrame(
          buildUdpFrame({ srcMac: parseMac(OUTSIDE_MAC), dstMac, srcIp: parseIpv4(OUTSIDE_IP), dstIp: publicIp, srcPort: FIRST_PORT + i, dstPort: LB_PORT, payload: Buffer.from(`${tag}${MARK}${i}`) }),
        );
      }
      await waitFor(`the markers after round ${tag} and their replies`, () => markOn.every((i) => marked.has(i) && markReplies.has(i)) || notYet({ sentOn: markOn, marked, markReplies }), {
        timeoutMs: 10_000,
      });
      for (const off of offs) off();
      offOutside();
      return { at, replies, bad };
    };

    const first = await round('a');
    const second = await round('b');
    const counts = new Map(backends.map((b) => [b.name, 0]));
    for (const name of first.at.values()) counts.set(name, (counts.get(name) ?? 0) + 1);
    const canary = backends.filter((b) => b.revision === 'v2').reduce((n, b) => n + (counts.get(b.name) ?? 0), 0);
    const share = canary / first.at.size;
    let moved = 0;
    for (const [i, name] of second.at) if (first.at.get(i) !== undefined && first.at.get(i) !== name) moved++;
    console.log(
      `lb+eip: ${first.at.size}/${CONNECTIONS} connections delivered, ${first.replies.size} replies; per backend ${[...counts].map(([n, c]) => `${n}=${c}`).join(' ')}; ` +
        `canary (v2) share ${(share * 100).toFixed(2)}%; second round ${second.at.size} delivered, ${moved} changed backend`,
    );

    expect([...first.bad, ...second.bad, ...echoFailures]).toEqual([]);
    expect(first.at.size).toBe(CONNECTIONS);
    expect(second.at.size).toBe(CONNECTIONS);
    // Every instance (both switches, both revisions) takes some; the canary about a fifth.
    for (const b of backends) expect(counts.get(b.name)).toBeGreaterThan(CONNECTIONS * 0.1);
    expect(share).toBeGreaterThan(0.16);
    expect(share).toBeLessThan(0.24);
    // Each connection sticks to its backend.
    expect(moved).toBe(0);
    // Replies: from the public address and the LB port, to the connection's port, checksums verified on receipt.
    for (const r of [first.replies, second.replies]) {
      expect(r.size).toBe(CONNECTIONS);
      for (const [i, d] of r) {
        expect(formatIpv4(d.srcIp)).toBe(eip.publicIp);
        expect(d.srcPort).toBe(LB_PORT);
        expect(d.dstPort).toBe(FIRST_PORT + i);
        expect(d.checksumsOk).toBe(true);
      }
    }
    // The reply names the backend the connection reached.
    for (const [i, d] of first.replies) expect(d.payload.toString().split(':')[0]).toBe(first.at.get(i));
  }, 60_000);

  it("cold start through the public address: the outside's packets wait at the controller and arrive, in order, at the first instance", async () => {
    const eip = await post<{ id: string; publicIp: string }>(`${lab.apiUrl}/v1/elastic-ips`, {});
    await post(`${lab.apiUrl}/v1/load-balancers`, { vpc, vip: '10.1.9.10', protocol: 'udp', port: 9090, function: 'thumb', elasticIp: eip.id });
    await switchesInSync(lab.apiUrl);
    const publicIp = parseIpv4(eip.publicIp);
    const stream = await openEventStream(lab.apiUrl, 'function.*,packets.*');
    const dstMac = await outside.resolve(publicIp);
    for (let i = 0; i < 5; i++) {
      outside.sendFrame(buildUdpFrame({ srcMac: parseMac(OUTSIDE_MAC), dstMac, srcIp: parseIpv4(OUTSIDE_IP), dstIp: publicIp, srcPort: 30000, dstPort: 9090, payload: Buffer.from(`cold-${i}`) }));
    }
    const requested = JSON.stringify(await stream.waitForEvent('function.activation-requested'));
    expect(requested).toContain(`${vpc}/thumb`);
    expect(requested).toContain('10.1.9.10');

    const thumb = await plug('s2', 3, { name: 'thumb0', mac: '06:00:00:00:00:30', ip: '10.1.0.30', prefix: 24, gateway: '10.1.0.1' });
    const registeredAt = performance.now();
    await shop.addFunction({ dpid: 2, port: 3, ip: '10.1.0.30', mac: '06:00:00:00:00:30', labels: { function: 'thumb', revision: 'v1' } });
    const payloads = () => thumb.received.map((d) => d.payload.toString());
    const got = await waitFor('the held packets at the new instance', () => (thumb.received.length >= 5 ? thumb.received.slice(0, 5) : notYet(payloads())), { timeoutMs: 10_000 });
    const arrivedAfterMs = got[0].atMs - registeredAt;
    const released = await stream.waitForEvent('packets.released');
    console.log(`cold start via the public IP: first held packet at the instance ${arrivedAfterMs.toFixed(1)} ms after the registration request; released ${JSON.stringify(released)}`);
    await stream.close();
    for (const d of got) {
      expect(formatIpv4(d.srcIp)).toBe(OUTSIDE_IP);
      expect(formatIpv4(d.dstIp)).toBe('10.1.0.30');
      expect(d.dstPort).toBe(9090);
      expect(d.checksumsOk).toBe(true);
    }

    // Warm now: a new packet to the public address goes straight to the instance. Sent after the
    // release, it also closes the list: a held packet delivered twice or late would be before it.
    outside.sendFrame(buildUdpFrame({ srcMac: parseMac(OUTSIDE_MAC), dstMac, srcIp: parseIpv4(OUTSIDE_IP), dstIp: publicIp, srcPort: 30001, dstPort: 9090, payload: Buffer.from('warm') }));
    const warm = await waitFor('the warm packet', () => thumb.received.find((d) => d.payload.toString() === 'warm') ?? notYet(payloads()));
    expect(payloads()).toEqual(['cold-0', 'cold-1', 'cold-2', 'cold-3', 'cold-4', 'warm']);
    expect(warm.checksumsOk).toBe(true);
    expect(warm.srcPort).toBe(30001);
  }, 60_000);
});
