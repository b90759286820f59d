/**
 * VPCs end to end: real controller, six softswitch processes and endpoint host processes on
 * leaf-spine; VPCs, subnets and endpoints created over REST. Two VPCs share 10.0.0.0/16 with the same
 * addresses: same-VPC pairs talk (also across subnets through the distributed gateway), cross-VPC pairs
 * never do, spoofed frames are dropped and counted, and a spine link going down does not stop traffic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, parseIpv4, parseMac } from '../../src/net/index.js';
import { startLab, type LabHandle } from '../../src/lab/index.js';
import { get, post, received, waitFor } from './lab-client.js';

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

async function send(url: string, body: unknown, method = 'POST') {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

describe('VPCs on leaf-spine, end to end', () => {
  let lab: LabHandle;
  const placed: Placed[] = [];

  async function synced() {
    await waitFor(
      'every switch to hold its desired flows',
      async () => {
        const { switches } = await get<{ switches: { connected: boolean; desiredFlows: number; installedFlows: number }[] }>(`${lab.apiUrl}/v1/switches`);
        return switches.every((s) => s.connected && s.desiredFlows === s.installedFlows) ? true : undefined;
      },
      20_000,
    );
  }

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
    await synced();
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
  });

  const by = (name: string) => {
    const p = placed.find((x) => x.name === name);
    if (!p) throw new Error(name);
    return p;
  };

  async function udp(from: string, to: string, payload: string): Promise<{ payload: string; ttl: number; ok: boolean } | undefined> {
    const dst = by(to);
    await received(dst.url);
    await post(`${by(from).url}/udp`, { dst: dst.ep.ip, dstPort: 6000, payload });
    try {
      const got = await waitFor(`${from}->${to}`, async () => {
        const list = await get<{ received: { payloadHex: string; ttl: number; checksumsOk: boolean }[] }>(`${dst.url}/received`);
        return list.received.length ? list.received : undefined;
      }, 2000);
      return { payload: Buffer.from(got[0].payloadHex, 'hex').toString(), ttl: got[0].ttl, ok: got[0].checksumsOk };
    } catch {
      return undefined;
    }
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
    for (const r of placed.filter((p) => p.vpcName === 'red')) await received(r.url);
    // b1 sends to every red address; only blue's own 10.0.1.x twin may answer, red never receives.
    for (const r of placed.filter((p) => p.vpcName === 'red')) {
      await post(`${by('b1').url}/udp`, { dst: r.ep.ip, dstPort: 6001, payload: 'blue->red?' }).catch(() => undefined);
    }
    await new Promise((res) => setTimeout(res, 500));
    for (const r of placed.filter((p) => p.vpcName === 'red')) {
      const got = await received(r.url);
      expect(got.filter((d) => Buffer.from(d.payloadHex, 'hex').toString() === 'blue->red?')).toEqual([]);
    }
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
    await waitFor('the spoofed frame to be counted', async () => ((await drops()) > dropsBefore ? true : undefined));
    expect(await received(r2.url)).toEqual([]);
  });

  it('a spine link going down reroutes: traffic continues', async () => {
    // Paths prefer spine1; take its links to leaf1 and leaf3 down.
    await send(`${lab.apiUrl}/v1/topology/links/${encodeURIComponent('leaf1:5~spine1:1')}`, { up: false }, 'PATCH');
    await send(`${lab.apiUrl}/v1/topology/links/${encodeURIComponent('leaf3:5~spine1:3')}`, { up: false }, 'PATCH');
    await synced();
    expect(await udp('r1', 'r2', 'via spine2')).toEqual({ payload: 'via spine2', ttl: 64, ok: true });
    expect(await udp('r2', 'r1', 'and back via spine2')).toEqual({ payload: 'and back via spine2', ttl: 64, ok: true });
  });

  async function drops(): Promise<number> {
    const { switches } = await get<{ switches: { packets?: { rxDropped: number } }[] }>(`${lab.apiUrl}/v1/switches`);
    return switches.reduce((n, s) => n + (s.packets?.rxDropped ?? 0), 0);
  }
});
