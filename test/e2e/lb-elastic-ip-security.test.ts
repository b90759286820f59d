/**
 * A load balancer behind an elastic IP, end to end (a controller and two softswitches from
 * topologies/gateway-demo.yaml): its backend sits on the gateway's own switch (s1), where the public
 * address's translation could reach the backend's port straight away. Its security group allows UDP 9
 * from anywhere and nothing else: through one public address (UDP 7000) the outside's datagrams are
 * dropped, through another (UDP 9) they arrive and the backend's replies leave from the public address.
 * A drop is seen as absence before a later datagram on the same way in that does arrive, never by
 * waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import type { TestHost } from '../../src/host/index.js';
import { buildUdpFrame, formatIpv4, parseIpv4, parseMac } from '../../src/net/index.js';
import { createShopVpc, notYet, plugHost, post, startLab, switchesInSync, waitFor, type PlugOptions } from './lab-client.js';

const OUTSIDE_IP = '198.51.100.10';
const OUTSIDE_MAC = '02:00:00:00:01:10';
const DENIED_PORT = 7000;
const ALLOWED_PORT = 9;

describe("a load balancer's elastic IP to a backend on the gateway's switch, end to end", () => {
  let lab: LabHandle;
  const hosts: TestHost[] = [];
  let outside: TestHost;
  let backend: TestHost;
  let deniedIp: number;
  let allowedIp: number;

  const plug = (sw: string, port: number, o: PlugOptions) => plugHost(lab, hosts, sw, port, o);

  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/gateway-demo.yaml', logLevel: 'warn', readyTimeoutMs: 60_000 });
    const api = lab.apiUrl;
    const shop = await createShopVpc(api);
    const web = (await post<{ id: string }>(`${api}/v1/security-groups`, { name: 'web', vpc: shop.vpc, rules: [{ direction: 'ingress', protocol: 'udp', ports: String(ALLOWED_PORT), cidr: '0.0.0.0/0' }, { direction: 'egress', protocol: 'any' }] })).id;
    outside = await plug('s1', 9, { name: 'outside', mac: OUTSIDE_MAC, ip: OUTSIDE_IP, prefix: 24, gateway: '198.51.100.1' });
    backend = await plug('s1', 1, { name: 'api0', mac: '06:00:00:00:00:20', ip: '10.1.0.20', prefix: 24, gateway: '10.1.0.1' });
    await post(`${api}/v1/endpoints`, { kind: 'function', vpc: shop.vpc, subnet: shop.subnet, dpid: 1, port: 1, ip: '10.1.0.20', mac: '06:00:00:00:00:20', labels: { function: 'api', revision: 'v1' }, securityGroups: [web] });
    backend.onUdp((d) => {
      if (d.dstPort === ALLOWED_PORT) void backend.sendUdp(d.srcIp, ALLOWED_PORT, d.srcPort, Buffer.concat([Buffer.from('echo:'), d.payload])).catch(() => undefined);
    });
    const lb = async (vip: string, port: number) => {
      const eip = await post<{ id: string; publicIp: string }>(`${api}/v1/elastic-ips`, {});
      await post(`${api}/v1/load-balancers`, { vpc: shop.vpc, vip, protocol: 'udp', port, function: 'api', elasticIp: eip.id });
      return parseIpv4(eip.publicIp);
    };
    deniedIp = await lb('10.1.9.1', DENIED_PORT);
    allowedIp = await lb('10.1.9.2', ALLOWED_PORT);
    await switchesInSync(api, 60_000);
  }, 120_000);

  afterAll(async () => {
    for (const h of hosts) h.stop();
    await lab?.stop();
  });

  async function sendFromOutside(publicIp: number, srcPort: number, dstPort: number, text: string): Promise<void> {
    const dstMac = await outside.resolve(publicIp);
    outside.sendFrame(buildUdpFrame({ srcMac: parseMac(OUTSIDE_MAC), dstMac, srcIp: parseIpv4(OUTSIDE_IP), dstIp: publicIp, srcPort, dstPort, payload: Buffer.from(text) }));
  }

  const got = (port: number) => backend.received.filter((d) => d.dstPort === port).map((d) => d.payload.toString());

  it('the group decides: a port it does not allow is dropped, one it allows arrives and its reply leaves from the public address', async () => {
    // The pool fills once the backend is healthy: until then datagrams to the public address wait at the controller.
    let tries = 0;
    await waitFor('a datagram through the allowed public address at the backend', async () => {
      await sendFromOutside(allowedIp, 42000 + (tries % 100), ALLOWED_PORT, `warm${tries++}`);
      return got(ALLOWED_PORT).length > 0 || notYet({ tries, received: backend.received.length });
    }, { timeoutMs: 30_000 });
    await sendFromOutside(deniedIp, 42200, DENIED_PORT, 'denied');
    await sendFromOutside(allowedIp, 42201, ALLOWED_PORT, 'marker');
    await waitFor('the marker sent after the denied datagram', () => got(ALLOWED_PORT).includes('marker') || notYet(backend.received.map((d) => `${d.dstPort}:${d.payload.toString()}`)), { timeoutMs: 10_000 });
    expect(got(DENIED_PORT)).toEqual([]);
    const reply = await waitFor('the reply to the marker at the outside', () => outside.received.find((d) => d.payload.toString() === 'echo:marker') ?? notYet(outside.received.length), { timeoutMs: 10_000 });
    expect([formatIpv4(reply.srcIp), reply.srcPort, reply.dstPort, reply.checksumsOk]).toEqual([formatIpv4(allowedIp), ALLOWED_PORT, 42201, true]);
  }, 60_000);
});
