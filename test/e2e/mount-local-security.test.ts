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
import { notYet, placeHost, type PlacedHost, post, received, type Received, startLab, SWITCH_KINDS, switchesInSync, vpcWithSubnet, waitFor } from './lab-client.js';

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
    const storage = await vpcWithSubnet(api, 'storage', '10.0.0.0/16', '10.0.1.0/24');
    const apps = await vpcWithSubnet(api, 'apps', '10.0.0.0/16', '10.0.1.0/24');
    const sg = await post<{ id: string }>(`${api}/v1/security-groups`, {
      name: 'nfs',
      vpc: storage.vpc,
      rules: [
        { direction: 'ingress', protocol: 'udp', ports: String(ALLOWED_PORT), cidr: '10.0.1.0/24' },
        { direction: 'egress', protocol: 'any' },
      ],
    });
    target = await placeHost(lab, 'r1', 'storage', storage, 101, 'leaf1', { port: 1, securityGroups: [sg.id] });
    fn = await placeHost(lab, 'fn', 'function', apps, 101, 'leaf1', { port: 2 });
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
