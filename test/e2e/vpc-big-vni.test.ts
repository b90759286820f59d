/**
 * Tenants past 4,094, end to end, on both switch kinds: a real controller, leaf-spine as softswitch
 * processes and as Open vSwitch bridges (OpenFlow 1.3; skipped without root or Open vSwitch), endpoint
 * host processes, everything created over REST. Two VPCs at VNIs 70,000 and 16,777,215 (blocks 1 and
 * 255, docs/vpc.md) share 10.0.0.0/16 with the same addresses: traffic within each crosses a spine,
 * labelled with its own VNI (the spine's flow counters say so), and nothing crosses between them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE } from '../../src/flow/index.js';
import type { LabHandle } from '../../src/lab/index.js';
import { vniLabel } from '../../src/compiler/index.js';
import { buildUdpFrame, parseIpv4, parseMac } from '../../src/net/index.js';
import { canRunOvs } from '../support/ovs.js';
import { get, notYet, post, received, send, startLab, SWITCH_KINDS, switchesInSync, waitFor } from './lab-client.js';

const RED_VNI = 70_000;
const BLUE_VNI = 16_777_215;
const LEAF = { 101: 'leaf1', 103: 'leaf3' } as const;

interface Endpoint {
  id: string;
  mac: string;
  ip: string;
}
interface Placed {
  name: string;
  vpc: 'red' | 'blue';
  ep: Endpoint;
  url: string;
}
interface FlowJson {
  table: number;
  match: { ethDst?: number; mplsLabel?: number };
  packets: number;
}

describe.each(SWITCH_KINDS)('VNIs past 4,094 on leaf-spine, end to end, on %s', (_label, switches) => {
  const skip = switches === 'ovs' && !canRunOvs();
  let lab: LabHandle;
  const placed: Placed[] = [];
  const by = (name: string) => placed.find((p) => p.name === name) as Placed;

  beforeAll(async () => {
    if (skip) return;
    lab = await startLab({ topologyFile: 'topologies/leaf-spine-vpc.yaml', logLevel: 'warn', readyTimeoutMs: 60_000, switches });
    const api = lab.apiUrl;
    const vpcs = {
      red: await send(`${api}/v1/vpcs`, { name: 'red', cidr: '10.0.0.0/16', vni: RED_VNI }),
      blue: await send(`${api}/v1/vpcs`, { name: 'blue', cidr: '10.0.0.0/16', vni: BLUE_VNI }),
    };
    const subnets = {
      red: await send(`${api}/v1/vpcs/${vpcs.red.id}/subnets`, { cidr: '10.0.1.0/24' }),
      blue: await send(`${api}/v1/vpcs/${vpcs.blue.id}/subnets`, { cidr: '10.0.1.0/24' }),
    };
    const plan: [string, 'red' | 'blue', 101 | 103, number][] = [
      ['r1', 'red', 101, 1],
      ['r2', 'red', 103, 1],
      ['b1', 'blue', 101, 2],
      ['b2', 'blue', 103, 2],
    ];
    for (const [name, vpc, dpid, port] of plan) {
      const ep = await send<Endpoint>(`${api}/v1/endpoints`, { kind: 'container', vpc: vpcs[vpc].id, subnet: subnets[vpc].id, dpid, port });
      const url = await lab.attachHost({ name, mac: ep.mac, ip: `${ep.ip}/24`, gateway: String(subnets[vpc].gateway), switch: LEAF[dpid], port });
      placed.push({ name, vpc, ep, url });
    }
    await switchesInSync(lab.apiUrl, 60_000);
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
  });

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

  /** Packets the spines' TENANT flows for `to` under `vni`'s bottom label have relayed. */
  async function relayedBySpines(to: string, vni: number): Promise<number> {
    let n = 0;
    for (const spine of [1, 2]) {
      const { flows } = await get<{ flows: FlowJson[] }>(`${lab.apiUrl}/v1/switches/${spine}/flows`);
      for (const f of flows) if (f.table === TABLE.TENANT && f.match.ethDst === parseMac(by(to).ep.mac) && f.match.mplsLabel === vniLabel(vni)) n += f.packets;
    }
    return n;
  }

  it.skipIf(skip)('the two VPCs overlap: same addresses in both', () => {
    expect(by('r1').ep.ip).toBe(by('b1').ep.ip);
    expect(by('r2').ep.ip).toBe(by('b2').ep.ip);
  });

  it.skipIf(skip)('within each VPC a datagram arrives intact, across a spine, labelled with its own VNI', async () => {
    const redBefore = await relayedBySpines('r2', RED_VNI);
    const blueBefore = await relayedBySpines('b1', BLUE_VNI);
    expect(await udp('r1', 'r2', 'red across leaves')).toEqual({ payload: 'red across leaves', ttl: 64, ok: true });
    expect(await udp('b2', 'b1', 'blue across leaves')).toEqual({ payload: 'blue across leaves', ttl: 64, ok: true });
    // Switches credit flow counters a little after forwarding (Open vSwitch from its datapath): poll.
    await waitFor('a spine to count the red datagram under red\'s label', async () => {
      const n = await relayedBySpines('r2', RED_VNI);
      return n > redBefore || notYet({ redBefore, n });
    });
    await waitFor('a spine to count the blue datagram under blue\'s label', async () => {
      const n = await relayedBySpines('b1', BLUE_VNI);
      return n > blueBefore || notYet({ blueBefore, n });
    });
  });

  it.skipIf(skip)('nothing crosses between them, even to the same address', async () => {
    const b1 = by('b1');
    const r2 = by('r2');
    for (const p of placed) await received(p.url);
    // b1 sends to r2's address (which is blue b2's too) and raw frames to r2's MAC: red never hears them.
    await post(`${b1.url}/udp`, { dst: r2.ep.ip, dstPort: 6001, payload: 'blue->red?' });
    const frame = buildUdpFrame({
      srcMac: parseMac(b1.ep.mac),
      dstMac: parseMac(r2.ep.mac),
      srcIp: parseIpv4(b1.ep.ip),
      dstIp: parseIpv4(r2.ep.ip),
      srcPort: 1,
      dstPort: 6001,
      payload: Buffer.from('blue->red?'),
    });
    await post(`${b1.url}/frame`, { hex: frame.toString('hex') });
    // Controls: blue's b2 gets b1's datagram; then a marker from r1 reaches r2, after anything stray.
    const heard = new Map<string, string[]>(placed.map((p) => [p.name, []]));
    const collect = async () => {
      for (const p of placed) for (const d of await received(p.url)) heard.get(p.name)?.push(Buffer.from(d.payloadHex, 'hex').toString());
    };
    await waitFor("b1's datagram at b2, blue's twin of r2", async () => {
      await collect();
      return heard.get('b2')?.includes('blue->red?') || notYet(heard);
    });
    await post(`${by('r1').url}/udp`, { dst: r2.ep.ip, dstPort: 6001, payload: 'marker from r1' });
    await waitFor('the marker at r2', async () => {
      await collect();
      return heard.get('r2')?.includes('marker from r1') || notYet(heard);
    });
    expect(heard.get('r2')).not.toContain('blue->red?');
    expect(heard.get('r1')).toEqual([]);
  });
});
