/**
 * Security groups and network ACLs end to end with real processes, on both switch kinds: a controller
 * and leaf-spine as softswitch processes and as Open vSwitch bridges (OpenFlow 1.3 with the Nicira
 * ct/conjunction extensions, userspace conntrack; skipped without root or Open vSwitch). Endpoint hosts
 * are lab host processes (attachHost, one path for both kinds); the test crafts their TCP and UDP
 * frames (POST /frame) and reads what each recorded. A handshake a group allows succeeds and its
 * replies pass; a port it does not allow is dropped; an established connection is cut when its rule
 * goes; an ACL deny wins over a group allow; UDP request/response through an egress-only group. A drop
 * is seen as absence before a later frame on the same path that does arrive (frames on one path keep
 * their order), never by waiting.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import { buildTcpFrame, buildUdpFrame, parseIpv4, parseMac } from '../../src/net/index.js';
import { canRunOvs } from '../support/ovs.js';
import { notYet, patch, post, received, type Received, startLab, SWITCH_KINDS, switchesInSync, waitFor } from './lab-client.js';

const run = promisify(execFile);
const GATEWAY_MAC = 0x0a0000000001;
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;

interface Seen {
  proto: 'tcp' | 'udp';
  srcPort: number;
  dstPort: number;
  flags: number;
}

/** An endpoint's host process: frames it is told to send, and everything it has recorded so far. */
class Host {
  readonly seen: Received[] = [];
  constructor(
    readonly url: string,
    readonly mac: number,
    readonly ip: number,
    readonly ipText: string,
  ) {}

  async send(frame: Buffer): Promise<void> {
    await post(`${this.url}/frame`, { hex: frame.toString('hex') });
  }

  private matches(from: Host, p: Seen): (r: Received) => boolean {
    return (r) => r.srcIp === from.ipText && r.proto === p.proto && r.srcPort === p.srcPort && r.dstPort === p.dstPort && r.tcpFlags === p.flags;
  }

  /** Waits until a frame from `from` with these ports (and flags, for TCP) has arrived. */
  async receives(what: string, from: Host, p: Seen): Promise<void> {
    await waitFor(what, async () => {
      this.seen.push(...(await received(this.url)));
      return this.seen.some(this.matches(from, p)) || notYet({ seen: this.seen });
    }, { timeoutMs: 10_000 });
  }

  count(from: Host, p: Seen): number {
    return this.seen.filter(this.matches(from, p)).length;
  }
}

function tcpFrom(a: Host, b: Host, routed: boolean, o: { srcPort: number; dstPort: number; flags: number; seq: number; ack: number; payload?: string }): Buffer {
  const payload = o.payload === undefined ? undefined : Buffer.from(o.payload);
  return buildTcpFrame({ srcMac: a.mac, dstMac: routed ? GATEWAY_MAC : b.mac, srcIp: a.ip, dstIp: b.ip, srcPort: o.srcPort, dstPort: o.dstPort, flags: o.flags, seq: o.seq, ack: o.ack, payload });
}

function udpFrom(a: Host, b: Host, routed: boolean, srcPort: number, dstPort: number): Buffer {
  return buildUdpFrame({ srcMac: a.mac, dstMac: routed ? GATEWAY_MAC : b.mac, srcIp: a.ip, dstIp: b.ip, srcPort, dstPort, payload: Buffer.from('x') });
}

const DENIED_VIP = '10.1.0.200';
const ALLOWED_VIP = '10.1.0.201';

describe.each(SWITCH_KINDS)('security groups and network ACLs on %s', (_label, switches) => {
  const skip = switches === 'ovs' && !canRunOvs();
  let lab: LabHandle;
  let api: string;
  let web: string;
  /** c: a client (egress only); w: web on another leaf; n: web on c's leaf; d: DNS; s: web in subnet b behind an ACL; f: an LB backend on c's leaf. */
  let c: Host, w: Host, n: Host, d: Host, s: Host, f: Host;

  beforeAll(async () => {
    if (skip) return;
    lab = await startLab({ topologyFile: 'topologies/leaf-spine-vpc.yaml', logLevel: 'warn', readyTimeoutMs: 60_000, switches });
    api = lab.apiUrl;
    const vpc = (await post<{ id: string }>(`${api}/v1/vpcs`, { name: 'shop', cidr: '10.1.0.0/16' })).id;
    const a = (await post<{ id: string }>(`${api}/v1/vpcs/${vpc}/subnets`, { cidr: '10.1.0.0/24' })).id;
    const b = (await post<{ id: string }>(`${api}/v1/vpcs/${vpc}/subnets`, { cidr: '10.1.1.0/24' })).id;
    const group = async (name: string, rules: unknown[]) => (await post<{ id: string }>(`${api}/v1/security-groups`, { name, vpc, rules })).id;
    const clients = await group('clients', [{ direction: 'egress', protocol: 'any' }]);
    web = await group('web', [
      { direction: 'ingress', protocol: 'tcp', ports: '80', group: clients },
      { direction: 'ingress', protocol: 'udp', ports: '9', group: clients },
    ]);
    const dns = await group('dns', [{ direction: 'ingress', protocol: 'udp', ports: '53', group: clients }]);
    await post(`${api}/v1/network-acls`, {
      subnet: b,
      rules: [
        { number: 10, action: 'deny', direction: 'ingress', protocol: 'tcp', ports: '80', cidr: '10.1.0.10/32' },
        { number: 20, action: 'allow', direction: 'ingress', protocol: 'any', cidr: '0.0.0.0/0' },
        { number: 10, action: 'allow', direction: 'egress', protocol: 'any', cidr: '0.0.0.0/0' },
      ],
    });
    const plug = async (name: string, sw: string, port: number, subnet: string, ip: string, mac: string, groups: string[], kind: Record<string, unknown> = { kind: 'container' }) => {
      const dpid = lab.plan.switches.find((x) => x.name === sw)?.dpid;
      const ep = await post<{ id: string }>(`${api}/v1/endpoints`, { ...kind, vpc, subnet, dpid, port, ip, mac, securityGroups: groups });
      const gateway = ip.replace(/\.\d+$/, '.1');
      const url = await lab.attachHost({ name, mac, ip: `${ip}/24`, gateway, switch: sw, port, endpoint: ep.id });
      return new Host(url, parseMac(mac), parseIpv4(ip), ip);
    };
    c = await plug('c', 'leaf1', 1, a, '10.1.0.10', '06:00:00:00:01:0a', [clients]);
    w = await plug('w', 'leaf2', 1, a, '10.1.0.11', '06:00:00:00:01:0b', [web]);
    n = await plug('n', 'leaf1', 2, a, '10.1.0.12', '06:00:00:00:01:0c', [web]);
    d = await plug('d', 'leaf3', 1, a, '10.1.0.13', '06:00:00:00:01:0d', [dns]);
    s = await plug('s', 'leaf4', 1, b, '10.1.1.10', '06:00:00:00:01:1a', [web]);
    // A load balancer's only backend, on the client's own switch, in the web group (udp 9 from
    // clients, not 7000): one VIP on a port the group denies, one on a port it allows.
    f = await plug('f', 'leaf1', 3, a, '10.1.0.20', '06:00:00:00:01:14', [web], { kind: 'function', labels: { function: 'api', revision: 'v1' } });
    await post(`${api}/v1/load-balancers`, { vpc, vip: DENIED_VIP, protocol: 'udp', port: 7000, function: 'api' });
    await post(`${api}/v1/load-balancers`, { vpc, vip: ALLOWED_VIP, protocol: 'udp', port: 9, function: 'api' });
    await switchesInSync(api, 60_000);
  }, 180_000);

  afterAll(async () => {
    await lab?.stop();
  });

  /** The handshake and one data segment each way; resolves when each arrived. */
  async function handshake(from: Host, to: Host, routed: boolean, srcPort: number, dstPort: number) {
    await from.send(tcpFrom(from, to, routed, { srcPort, dstPort, flags: SYN, seq: 1000, ack: 0 }));
    await to.receives('the SYN', from, { proto: 'tcp', srcPort, dstPort, flags: SYN });
    await to.send(tcpFrom(to, from, routed, { srcPort: dstPort, dstPort: srcPort, flags: SYN | ACK, seq: 5000, ack: 1001 }));
    await from.receives('the SYN-ACK', to, { proto: 'tcp', srcPort: dstPort, dstPort: srcPort, flags: SYN | ACK });
    await from.send(tcpFrom(from, to, routed, { srcPort, dstPort, flags: ACK, seq: 1001, ack: 5001 }));
    await from.send(tcpFrom(from, to, routed, { srcPort, dstPort, flags: ACK | PSH, seq: 1001, ack: 5001, payload: 'GET' }));
    await to.receives('the request', from, { proto: 'tcp', srcPort, dstPort, flags: ACK | PSH });
    await to.send(tcpFrom(to, from, routed, { srcPort: dstPort, dstPort: srcPort, flags: ACK | PSH, seq: 5001, ack: 1004, payload: 'OK' }));
    await from.receives('the response', to, { proto: 'tcp', srcPort: dstPort, dstPort: srcPort, flags: ACK | PSH });
  }

  it.skipIf(skip)('a handshake the group allows succeeds and its replies pass, across the fabric and on one switch', async () => {
    await handshake(c, w, false, 40000, 80);
    await handshake(c, n, false, 40001, 80);
  });

  it.skipIf(skip)('a port the group does not allow is dropped, and leaves no connection in the zone', async () => {
    await c.send(tcpFrom(c, w, false, { srcPort: 40002, dstPort: 22, flags: SYN, seq: 1000, ack: 0 }));
    await c.send(udpFrom(c, w, false, 40003, 9));
    await w.receives('the UDP marker sent after the SYN', c, { proto: 'udp', srcPort: 40003, dstPort: 9, flags: 0 });
    expect(w.count(c, { proto: 'tcp', srcPort: 40002, dstPort: 22, flags: SYN })).toBe(0);
    // On one switch (c in zone 1, n in zone 2: zones are port numbers).
    await c.send(tcpFrom(c, n, false, { srcPort: 40004, dstPort: 22, flags: SYN, seq: 1000, ack: 0 }));
    await c.send(udpFrom(c, n, false, 40005, 9));
    await n.receives('the UDP marker sent after the SYN', c, { proto: 'udp', srcPort: 40005, dstPort: 9, flags: 0 });
    expect(n.count(c, { proto: 'tcp', srcPort: 40004, dstPort: 22, flags: SYN })).toBe(0);
    if (lab.ovs) {
      // Open vSwitch's userspace conntrack: the allowed marker is committed in both zones, the denied
      // SYN only in c's (its group lets everything out), none in n's.
      const { stdout } = await run('ovs-appctl', ['dpctl/dump-conntrack'], { env: { ...process.env, ...lab.ovs.env } });
      const zones = (ports: string) => stdout.split('\n').filter((e) => e.includes(ports)).map((e) => /zone=(\d+)/.exec(e)?.[1] ?? '0').sort();
      expect(zones('sport=40005,dport=9'), stdout).toEqual(['1', '2']);
      expect(zones('sport=40004,dport=22'), stdout).toEqual(['1']);
    }
  });

  it.skipIf(skip)('UDP request and response through an egress-only group; nothing unsolicited comes back', async () => {
    await c.send(udpFrom(c, d, false, 33000, 53));
    await d.receives('the request', c, { proto: 'udp', srcPort: 33000, dstPort: 53, flags: 0 });
    await d.send(udpFrom(d, c, false, 53, 33001)); // answers nothing c sent
    await d.send(udpFrom(d, c, false, 53, 33000));
    await c.receives('the response', d, { proto: 'udp', srcPort: 53, dstPort: 33000, flags: 0 });
    expect(c.count(d, { proto: 'udp', srcPort: 53, dstPort: 33001, flags: 0 })).toBe(0);
  });

  it.skipIf(skip)('an ACL deny wins over a group allow', async () => {
    await c.send(tcpFrom(c, s, true, { srcPort: 40010, dstPort: 80, flags: SYN, seq: 1000, ack: 0 }));
    await c.send(udpFrom(c, s, true, 40011, 9));
    await s.receives('the UDP marker sent after the SYN', c, { proto: 'udp', srcPort: 40011, dstPort: 9, flags: 0 });
    expect(s.count(c, { proto: 'tcp', srcPort: 40010, dstPort: 80, flags: SYN })).toBe(0);
  });

  it.skipIf(skip)('through a VIP, a backend on the client\'s own switch gets only what its group allows', async () => {
    const toVip = (vip: string, srcPort: number, dstPort: number) =>
      buildUdpFrame({ srcMac: c.mac, dstMac: GATEWAY_MAC, srcIp: c.ip, dstIp: parseIpv4(vip), srcPort, dstPort, payload: Buffer.from('x') });
    // The pool fills once the backend is healthy: until then datagrams to the VIP wait at the controller.
    let tries = 0;
    await waitFor('a datagram through the allowed VIP at the backend', async () => {
      await c.send(toVip(ALLOWED_VIP, 41000 + (tries++ % 100), 9));
      f.seen.push(...(await received(f.url)));
      return f.seen.some((r) => r.proto === 'udp' && r.dstPort === 9) || notYet({ tries, seen: f.seen });
    }, { timeoutMs: 30_000 });
    await c.send(toVip(DENIED_VIP, 41200, 7000));
    await c.send(toVip(ALLOWED_VIP, 41201, 9));
    await f.receives('the marker through the allowed VIP, sent after the denied datagram', c, { proto: 'udp', srcPort: 41201, dstPort: 9, flags: 0 });
    expect(f.seen.filter((r) => r.dstPort === 7000)).toEqual([]);
  });

  it.skipIf(skip)('an established connection is cut when its rule goes (once the PATCH answers)', async () => {
    await handshake(c, w, false, 40020, 80);
    await patch(`${api}/v1/security-groups/${web}`, { rules: [{ direction: 'ingress', protocol: 'udp', ports: '9', group: 'self' }, { direction: 'ingress', protocol: 'udp', ports: '9', cidr: '10.1.0.10/32' }] });
    await c.send(tcpFrom(c, w, false, { srcPort: 40020, dstPort: 80, flags: ACK | PSH, seq: 1004, ack: 5003, payload: 'more' }));
    await c.send(udpFrom(c, w, false, 40021, 9));
    await w.receives('the UDP marker sent after the segment', c, { proto: 'udp', srcPort: 40021, dstPort: 9, flags: 0 });
    expect(w.count(c, { proto: 'tcp', srcPort: 40020, dstPort: 80, flags: ACK | PSH })).toBe(1);
  });
});
