/**
 * VPCs end to end: real controller, six softswitch processes and endpoint host processes on
 * leaf-spine; VPCs, subnets and endpoints created over REST. Two VPCs share 10.0.0.0/16 with the same
 * addresses: same-VPC pairs talk (also across subnets through the distributed gateway), cross-VPC pairs
 * never do, spoofed frames are dropped and counted, and a spine link going down does not stop traffic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, parseIpv4, parseMac } from '../../src/net/index.js';
import type { LabHandle } from '../../src/lab/index.js';
import { get, notYet, post, received, send, startLab, switchesInSync, waitFor } from './lab-client.js';

interface Endpoint {
  id: string;
  vpc: string;
  subnet: string;
  dpid: number;
  port: number;
  mac: string;
  ip: string;
}
interface Subnet {
  id: string;
  cidr: string;
  gateway: string;
}
interface Placed {
  name: string;
  ep: Endpoint;
  url: string;
  vpcName: string;
}

const LEAF = { 101: 'leaf1', 102: 'leaf2', 103: 'leaf3', 104: 'leaf4' } as const;

describe('VPCs on leaf-spine, end to end', () => {
  let lab: LabHandle;
  const placed: Placed[] = [];

  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/leaf-spine-vpc.yaml', logLevel: 'warn', readyTimeoutMs: 60_000 });
    const api = lab.apiUrl;
    const red = await send(`${api}/v1/vpcs`, { name: 'red', cidr: '10.0.0.0/16' });
    const blue = await send(`${api}/v1/vpcs`, { name: 'blue', cidr: '10.0.0.0/16' });
    const red1 = (await send(`${api}/v1/vpcs/${red.id}/subnets`, { cidr: '10.0.1.0/24' })) as unknown as Subnet;
    const red2 = (await send(`${api}/v1/vpcs/${red.id}/subnets`, { cidr: '10.0.2.0/24' })) as unknown as Subnet;
    const blue1 = (await send(`${api}/v1/vpcs/${blue.id}/subnets`, { cidr: '10.0.1.0/24' })) as unknown as Subnet;
    const plan: [string, string, Subnet, number, number][] = [
      ['r1', String(red.id), red1, 101, 1],
      ['r2', String(red.id), red1, 103, 1],
      ['r3', String(red.id), red2, 104, 1],
      ['b1', String(blue.id), blue1, 101, 2],
      ['b2', String(blue.id), blue1, 104, 2],
    ];
    for (const [name, vpc, subnet, dpid, port] of plan) {
      const ep = (await send(`${api}/v1/endpoints`, { kind: 'container', vpc, subnet: subnet.id, dpid, port })) as unknown as Endpoint;
      const prefix = subnet.cidr.split('/')[1];
      const url = await lab.attachHost({
        name,
        mac: ep.mac,
        ip: `${ep.ip}/${prefix}`,
        gateway: subnet.gateway,
        switch: LEAF[dpid as keyof typeof LEAF],
        port,
      });
      placed.push({ name, ep, url, vpcName: vpc === red.id ? 'red' : 'blue' });
    }
    await switchesInSync(lab.apiUrl);
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
  });

  const by = (name: string) => {
    const p = placed.find((x) => x.name === name);
    if (!p) throw new Error(name);
    return p;
  };

  /** One datagram from one endpoint to another; what arrived (a timeout fails with what the receiver had). */
  async function udp(from: string, to: string, payload: string): Promise<{ payload: string; ttl: number; ok: boolean }> {
    const dst = by(to);
    await received(dst.url);
    await post(`${by(from).url}/udp`, { dst: dst.ep.ip, dstPort: 6000, payload });
    const got = await waitFor(`${from}->${to}`, async () => {
      const list = await received(dst.url, false);
      return list[0] ?? notYet(list);
    });
    return { payload: Buffer.from(got.payloadHex, 'hex').toString(), ttl: got.ttl, ok: got.checksumsOk };
  }

  it('the two VPCs really overlap: blue and red endpoints hold the same addresses', () => {
    expect(by('r1').ep.ip).toBe(by('b1').ep.ip);
    expect(by('r2').ep.ip).toBe(by('b2').ep.ip);
  });

  it('same-VPC endpoints on different leaves exchange UDP, intact', async () => {
    expect(await udp('r1', 'r2', 'red same subnet')).toEqual({ payload: 'red same subnet', ttl: 64, ok: true });
    expect(await udp('b2', 'b1', 'blue same subnet')).toEqual({ payload: 'blue same subnet', ttl: 64, ok: true });
  });

  it('routes between subnets of one VPC through the distributed gateway (TTL decremented, checksums valid)', async () => {
    expect(await udp('r1', 'r3', 'red across subnets')).toEqual({ payload: 'red across subnets', ttl: 63, ok: true });
    expect(await udp('r3', 'r2', 'and back')).toEqual({ payload: 'and back', ttl: 63, ok: true });
  });

  it('nothing crosses between VPCs, even to the same address', async () => {
    const red = placed.filter((p) => p.vpcName === 'red');
    const b1 = by('b1');
    for (const p of placed) await received(p.url);
    // b1 sends to every red address (the send may fail: no ARP answer is one way of not crossing), and
    // frames straight to every red endpoint's MAC and address: red never receives either.
    for (const r of red) {
      await post(`${b1.url}/udp`, { dst: r.ep.ip, dstPort: 6001, payload: 'blue->red?' }).catch((e: unknown) => console.log(`b1 -> ${r.ep.ip}: ${String(e)}`));
      const frame = buildUdpFrame({
        srcMac: parseMac(b1.ep.mac),
        dstMac: parseMac(r.ep.mac),
        srcIp: parseIpv4(b1.ep.ip),
        dstIp: parseIpv4(r.ep.ip),
        srcPort: 1,
        dstPort: 6001,
        payload: Buffer.from('blue->red?'),
      });
      await post(`${b1.url}/frame`, { hex: frame.toString('hex') });
    }
    // Controls: blue's twin of r2 (same address) gets b1's datagram, and then a marker from another red
    // endpoint reaches each red one: a stray blue datagram, sent before, would have arrived before it.
    const heard = new Map<string, string[]>(placed.map((p) => [p.name, []]));
    const collect = async () => {
      for (const p of placed) for (const d of await received(p.url)) heard.get(p.name)?.push(Buffer.from(d.payloadHex, 'hex').toString());
    };
    await waitFor('b1\'s datagram at b2, blue\'s twin of r2', async () => {
      await collect();
      return heard.get('b2')?.includes('blue->red?') || notYet(heard);
    });
    for (const r of red) {
      const from = r.name === 'r1' ? 'r2' : 'r1';
      await post(`${by(from).url}/udp`, { dst: r.ep.ip, dstPort: 6001, payload: `marker from ${from}` });
    }
    await waitFor('the marker at every red endpoint', async () => {
      await collect();
      return red.every((r) => heard.get(r.name)?.some((t) => t.startsWith('marker'))) || notYet(heard);
    });
    for (const r of red) expect(heard.get(r.name), r.name).not.toContain('blue->red?');
  });

  it('drops and counts a spoofed source address', async () => {
    const dropsBefore = await drops();
    const r1 = by('r1');
    const r2 = by('r2');
    await received(r2.url);
    const spoofed = buildUdpFrame({
      srcMac: parseMac(r1.ep.mac),
      dstMac: parseMac(r2.ep.mac),
      srcIp: parseIpv4('10.0.1.200'),
      dstIp: parseIpv4(r2.ep.ip),
      srcPort: 1,
      dstPort: 6002,
      payload: Buffer.from('spoofed'),
    });
    await post(`${r1.url}/frame`, { hex: spoofed.toString('hex') });
    await waitFor('the spoofed frame to be counted', async () => {
      const now = await drops();
      return now > dropsBefore || notYet({ dropsBefore, now });
    });
    expect(await received(r2.url)).toEqual([]);
  });

  it('a spine link going down reroutes: traffic continues', async () => {
    // Paths prefer spine1; take its links to leaf1 and leaf3 down.
    await send(`${lab.apiUrl}/v1/topology/links/${encodeURIComponent('leaf1:5~spine1:1')}`, { up: false }, 'PATCH');
    await send(`${lab.apiUrl}/v1/topology/links/${encodeURIComponent('leaf3:5~spine1:3')}`, { up: false }, 'PATCH');
    await switchesInSync(lab.apiUrl);
    expect(await udp('r1', 'r2', 'via spine2')).toEqual({ payload: 'via spine2', ttl: 64, ok: true });
    expect(await udp('r2', 'r1', 'and back via spine2')).toEqual({ payload: 'and back via spine2', ttl: 64, ok: true });
  });

  async function drops(): Promise<number> {
    const { switches } = await get<{ switches: { packets?: { rxDropped: number } }[] }>(`${lab.apiUrl}/v1/switches?counters=true`);
    return switches.reduce((n, s) => n + (s.packets?.rxDropped ?? 0), 0);
  }
});
