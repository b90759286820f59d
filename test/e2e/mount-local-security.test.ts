/**
 * A volume mount whose target sits on the client's own switch, end to end on both switch kinds
 * (topologies/leaf-spine-vpc.yaml as softswitch processes and as Open vSwitch bridges, skipped without
 * root or Open vSwitch): the mount translation could hand the packet straight to the
 * target's port there. The volume serves UDP 2049 and 2050; the target's security group admits only
 * 2049. A datagram to the mount address on 2050 is dropped, one on 2049 arrives (from the attachment's
 * source address) and its answer reaches the function from the mount address. A drop is seen as
 * absence before a later datagram on the same way in that does arrive, never by waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import { canRunOvs } from '../support/ovs.js';
import { notYet, type PlacedHost, post, received, type Received, startLab, SWITCH_KINDS, switchesInSync, waitFor } from './lab-client.js';

const ALLOWED_PORT = 2049;
const DENIED_PORT = 2050;

describe.each(SWITCH_KINDS)("a volume mount to a target on the client's switch, end to end on %s", (_label, switches) => {
  const skip = switches === 'ovs' && !canRunOvs();
  let lab: LabHandle;
  let target: PlacedHost;
  let fn: PlacedHost;
  let mount: string;
  let source: string;
  const atTarget: Received[] = [];

  beforeAll(async () => {
    if (skip) return;
    lab = await startLab({ topologyFile: 'topologies/leaf-spine-vpc.yaml', logLevel: 'warn', readyTimeoutMs: 60_000, switches });
    const api = lab.apiUrl;
    const storageVpc = (await post<{ id: string }>(`${api}/v1/vpcs`, { name: 'storage', cidr: '10.0.0.0/16' })).id;
    const appVpc = (await post<{ id: string }>(`${api}/v1/vpcs`, { name: 'apps', cidr: '10.0.0.0/16' })).id;
    const storageSn = await post<{ id: string; gateway: string }>(`${api}/v1/vpcs/${storageVpc}/subnets`, { cidr: '10.0.1.0/24' });
    const appSn = await post<{ id: string; gateway: string }>(`${api}/v1/vpcs/${appVpc}/subnets`, { cidr: '10.0.1.0/24' });
    const sg = await post<{ id: string }>(`${api}/v1/security-groups`, {
      name: 'nfs',
      vpc: storageVpc,
      rules: [
        { direction: 'ingress', protocol: 'udp', ports: String(ALLOWED_PORT), cidr: '10.0.1.0/24' },
        { direction: 'egress', protocol: 'any' },
      ],
    });
    const place = async (name: string, kind: string, vpc: string, sn: { id: string; gateway: string }, port: number, groups?: string[]): Promise<PlacedHost> => {
      const ep = await post<{ id: string; mac: string; ip: string }>(`${api}/v1/endpoints`, { kind, vpc, subnet: sn.id, dpid: 101, port, ...(groups ? { securityGroups: groups } : {}) });
      const url = await lab.attachHost({ name, mac: ep.mac, ip: `${ep.ip}/24`, gateway: sn.gateway, switch: 'leaf1', port });
      return { id: ep.id, ip: ep.ip, url };
    };
    target = await place('r1', 'storage', storageVpc, storageSn, 1, [sg.id]);
    fn = await place('fn', 'function', appVpc, appSn, 2);
    const volume = (await post<{ id: string }>(`${api}/v1/volumes`, { name: 'home', protocol: 'nfs', targets: [target.id], ports: [ALLOWED_PORT, DENIED_PORT] })).id;
    const att = await post<{ mountAddress: string; sourceAddress: string }>(`${api}/v1/volumes/${volume}/attachments`, { endpoint: fn.id });
    mount = att.mountAddress;
    source = att.sourceAddress;
    await switchesInSync(api, 60_000);
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it.skipIf(skip)("the target's group decides: a volume port it does not admit is dropped, one it admits arrives and is answered", async () => {
    const send = (dstPort: number, srcPort: number, payload: string) => post(`${fn.url}/udp`, { dst: mount, srcPort, dstPort, payload });
    const payloads = (port: number) => atTarget.filter((d) => d.dstPort === port).map((d) => Buffer.from(d.payloadHex, 'hex').toString());
    await send(DENIED_PORT, 40100, 'denied');
    await send(ALLOWED_PORT, 40101, 'marker');
    await waitFor('the marker sent after the denied datagram, at the target', async () => {
      atTarget.push(...(await received(target.url)));
      return payloads(ALLOWED_PORT).includes('marker') || notYet(atTarget);
    }, { timeoutMs: 10_000 });
    expect(payloads(DENIED_PORT)).toEqual([]);
    expect(atTarget.filter((d) => d.dstPort === ALLOWED_PORT).map((d) => d.srcIp)).toEqual([source]);
    await post(`${target.url}/udp`, { dst: source, srcPort: ALLOWED_PORT, dstPort: 40101, payload: 'answer' });
    const answer = await waitFor('the answer at the function', async () => (await received(fn.url)).find((d) => d.srcPort === ALLOWED_PORT) ?? notYet('nothing yet'), { timeoutMs: 10_000 });
    expect([answer.srcIp, answer.dstPort, Buffer.from(answer.payloadHex, 'hex').toString()]).toEqual([mount, 40101, 'answer']);
  }, 60_000);
});
