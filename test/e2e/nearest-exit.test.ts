/**
 * Two gateways serving one pool, end to end with real processes (topologies/gateway-pair.yaml: a
 * controller, two softswitches, gw1 on s1:9 and gw2 on s2:9, an outside host on each uplink). Each
 * instance's outbound traffic leaves by the gateway on its own switch, with its elastic IP as source
 * (checksums verified by the receiving host), and either gateway takes inbound traffic to it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import type { TestHost } from '../../src/host/index.js';
import { formatIpv4, parseIpv4 } from '../../src/net/index.js';
import { createShopVpc, notYet, plugHost, post, startLab, type PlugOptions, waitFor } from './lab-client.js';

const OUTSIDE_IP = '198.51.100.10';

describe('nearest exit lab (two gateways)', () => {
  let lab: LabHandle;
  const hosts: TestHost[] = [];
  let outside1: TestHost;
  let outside2: TestHost;
  let a: TestHost;
  let b: TestHost;
  let eipA: string;
  let eipB: string;

  const plug = (sw: string, port: number, o: PlugOptions) => plugHost(lab, hosts, sw, port, o);

  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/gateway-pair.yaml', logLevel: 'warn', readyTimeoutMs: 60_000 });
    const api = lab.apiUrl;
    const shop = await createShopVpc(api);
    const epA = await shop.addFunction({ dpid: 1, port: 1, ip: '10.1.0.10', mac: '06:00:00:00:00:0a' });
    const epB = await shop.addFunction({ dpid: 2, port: 1, ip: '10.1.0.11', mac: '06:00:00:00:00:0b' });
    // Each uplink's outside host has the same address (two views of the internet) and its own router MAC.
    outside1 = await plug('s1', 9, { name: 'outside1', mac: '02:00:00:00:01:10', ip: OUTSIDE_IP, gateway: '198.51.100.1' });
    outside2 = await plug('s2', 9, { name: 'outside2', mac: '02:00:00:00:01:20', ip: OUTSIDE_IP, gateway: '198.51.100.2' });
    a = await plug('s1', 1, { name: 'a', mac: '06:00:00:00:00:0a', ip: '10.1.0.10', gateway: '10.1.0.1' });
    b = await plug('s2', 1, { name: 'b', mac: '06:00:00:00:00:0b', ip: '10.1.0.11', gateway: '10.1.0.1' });
    eipA = (await post<{ publicIp: string }>(`${api}/v1/elastic-ips`, { endpoint: epA.id })).publicIp;
    eipB = (await post<{ publicIp: string }>(`${api}/v1/elastic-ips`, { endpoint: epB.id })).publicIp;
    await lab.waitReady(30_000);
  }, 120_000);

  afterAll(async () => {
    for (const h of hosts) h.stop();
    await lab?.stop();
  });

  function clear(): void {
    for (const h of hosts) h.received.length = 0;
  }

  it("each instance's outbound leaves by the gateway on its own switch, from its elastic IP", async () => {
    for (const [name, from, publicIp, exit, other, otherInstance] of [
      ['a', a, eipA, outside1, outside2, b],
      ['b', b, eipB, outside2, outside1, a],
    ] as const) {
      clear();
      await from.sendUdp(parseIpv4(OUTSIDE_IP), 7000, 4000, Buffer.from(`from ${name}`));
      const got = await waitFor(`the outside host on its own switch's uplink to receive from ${name}`, () => exit.received[0]);
      expect(formatIpv4(got.srcIp)).toBe(publicIp);
      expect(got.checksumsOk).toBe(true);
      expect(got.payload.toString()).toBe(`from ${name}`);
      // Nothing reaches the other uplink. The control: the other instance's datagram leaves by that
      // uplink, through the switch and port a wrong exit would have used, sent after ours was out; when
      // it is in, a copy of ours sent that way would be in too.
      await otherInstance.sendUdp(parseIpv4(OUTSIDE_IP), 7000, 4000, Buffer.from('control'));
      await waitFor(`the control datagram at the other uplink`, () => other.received.some((d) => d.payload.toString() === 'control') || notYet(other.received.map((d) => d.payload.toString())));
      expect(other.received.map((d) => d.payload.toString())).toEqual(['control']);
      expect(exit.received).toHaveLength(1);
    }
  });

  it('either gateway takes inbound traffic to either instance', async () => {
    for (const [label, via, to, publicIp, privateIp] of [
      ['outside1 to a', outside1, a, eipA, '10.1.0.10'],
      ['outside2 to a', outside2, a, eipA, '10.1.0.10'],
      ['outside1 to b', outside1, b, eipB, '10.1.0.11'],
      ['outside2 to b', outside2, b, eipB, '10.1.0.11'],
    ] as const) {
      clear();
      await via.sendUdp(parseIpv4(publicIp), 4000, 7000, Buffer.from(label));
      const got = await waitFor(label, () => to.received[0]);
      expect(formatIpv4(got.dstIp)).toBe(privateIp);
      expect(formatIpv4(got.srcIp)).toBe(OUTSIDE_IP);
      expect(got.checksumsOk).toBe(true);
      expect(got.payload.toString()).toBe(label);
    }
  });
});
