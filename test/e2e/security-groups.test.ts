/**
 * Security groups and network ACLs end to end with real processes (a controller and the leaf-spine
 * softswitches): hand-made TCP and UDP frames from raw hosts on switch ports. (On Open vSwitch
 * bridges an endpoint's port is reached through a frame relay that only attachHost's host processes
 * get, and those record UDP only; see docs/security-groups.md.) A handshake a group allows succeeds and its replies pass; a port it does not allow
 * is dropped; an established connection is cut when its rule goes; an ACL deny wins over a group
 * allow; UDP request/response through an egress-only group. A drop is seen as absence before a later
 * frame on the same path that does arrive (frames on one path keep their order), never by waiting.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import { buildArpRequest, buildTcpFrame, buildUdpFrame, isMalformed, parseFrame, parseIpv4, parseMac, type SocketAddress } from '../../src/net/index.js';
import { notYet, patch, post, startLab, waitFor } from './lab-client.js';

const GATEWAY_MAC = 0x0a0000000001;
const SYN = 0x02;
const ACK = 0x10;

interface Seen {
  srcIp: number;
  proto: 'tcp' | 'udp';
  srcPort: number;
  dstPort: number;
  flags: number;
}

/** A host that sends and records raw Ethernet frames on one switch port. */
class RawHost {
  readonly seen: Seen[] = [];
  arpReplies = 0;
  private readonly sock = dgram.createSocket('udp4');
  constructor(
    readonly mac: number,
    readonly ip: number,
    private readonly peer: SocketAddress,
  ) {}

  async start(): Promise<void> {
    this.sock.on('message', (m) => {
      const f = parseFrame(m);
      if (isMalformed(f)) return;
      if (f.arp) this.arpReplies++;
      else if (f.ip && f.tcp) this.seen.push({ srcIp: f.ip.src, proto: 'tcp', srcPort: f.tcp.srcPort, dstPort: f.tcp.dstPort, flags: f.tcp.flags });
      else if (f.ip && f.udp) this.seen.push({ srcIp: f.ip.src, proto: 'udp', srcPort: f.udp.srcPort, dstPort: f.udp.dstPort, flags: 0 });
    });
    await new Promise<void>((resolve) => this.sock.bind(0, '127.0.0.1', resolve));
  }

  send(frame: Buffer): void {
    this.sock.send(frame, this.peer.port, this.peer.host);
  }

  stop(): void {
    this.sock.close();
  }

  /** Waits until a frame from `from` with these ports (and flags, for TCP) has arrived. */
  async receives(what: string, from: RawHost, p: Omit<Seen, 'srcIp'>): Promise<void> {
    await waitFor(what, () => this.seen.some((s) => s.srcIp === from.ip && s.proto === p.proto && s.srcPort === p.srcPort && s.dstPort === p.dstPort && s.flags === p.flags) || notYet({ seen: this.seen }), { timeoutMs: 10_000 });
  }

  has(from: RawHost, p: Omit<Seen, 'srcIp'>): boolean {
    return this.seen.some((s) => s.srcIp === from.ip && s.proto === p.proto && s.srcPort === p.srcPort && s.dstPort === p.dstPort && s.flags === p.flags);
  }
}

function tcpFrom(a: RawHost, b: RawHost, routed: boolean, o: { srcPort: number; dstPort: number; flags: number; seq: number; ack: number; payload?: string }): Buffer {
  const payload = o.payload === undefined ? undefined : Buffer.from(o.payload);
  return buildTcpFrame({ srcMac: a.mac, dstMac: routed ? GATEWAY_MAC : b.mac, srcIp: a.ip, dstIp: b.ip, srcPort: o.srcPort, dstPort: o.dstPort, flags: o.flags, seq: o.seq, ack: o.ack, payload });
}

function udpFrom(a: RawHost, b: RawHost, routed: boolean, srcPort: number, dstPort: number): Buffer {
  return buildUdpFrame({ srcMac: a.mac, dstMac: routed ? GATEWAY_MAC : b.mac, srcIp: a.ip, dstIp: b.ip, srcPort, dstPort, payload: Buffer.from('x') });
}

describe('security groups and network ACLs on softswitches', () => {
  let lab: LabHandle;
  const hosts: RawHost[] = [];
  let api: string;
  let web: string;
  /** c: a client (egress only); w: web on another leaf; n: web on c's leaf; d: DNS; s: web in subnet b behind an ACL. */
  let c: RawHost, w: RawHost, n: RawHost, d: RawHost, s: RawHost;

  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/leaf-spine-vpc.yaml', logLevel: 'warn', readyTimeoutMs: 60_000 });
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
    const plug = async (sw: string, port: number, subnet: string, ip: string, mac: string, groups: string[]) => {
      await post(`${api}/v1/endpoints`, { kind: 'container', vpc, subnet, dpid: lab.plan.switches.find((x) => x.name === sw)?.dpid, port, ip, mac, securityGroups: groups });
      const sp = lab.plan.switches.find((x) => x.name === sw)?.ports.find((p) => p.number === port);
      if (!sp) throw new Error(`no ${sw}:${port}`);
      const h = new RawHost(parseMac(mac), parseIpv4(ip), sp.bind);
      await h.start();
      hosts.push(h);
      return h;
    };
    c = await plug('leaf1', 1, a, '10.1.0.10', '06:00:00:00:01:0a', [clients]);
    w = await plug('leaf2', 1, a, '10.1.0.11', '06:00:00:00:01:0b', [web]);
    n = await plug('leaf1', 2, a, '10.1.0.12', '06:00:00:00:01:0c', [web]);
    d = await plug('leaf3', 1, a, '10.1.0.13', '06:00:00:00:01:0d', [dns]);
    s = await plug('leaf4', 1, b, '10.1.1.10', '06:00:00:00:01:1a', [web]);
    await lab.waitReady(30_000);
    // Each port learns its host from a first frame; an ARP answer for the gateway says it did.
    for (const h of hosts) {
      const gw = (h.ip & 0xffffff00) + 1;
      await waitFor('an ARP answer for the gateway', () => {
        if (h.arpReplies > 0) return true;
        h.send(buildArpRequest({ srcMac: h.mac, srcIp: h.ip, targetIp: gw }));
        return notYet({ arpReplies: h.arpReplies });
      }, { timeoutMs: 20_000 });
    }
  }, 180_000);

  afterAll(async () => {
    for (const h of hosts) h.stop();
    await lab?.stop();
  });

  /** The handshake and one data segment each way; resolves when each arrived. */
  async function handshake(from: RawHost, to: RawHost, routed: boolean, srcPort: number, dstPort: number) {
    from.send(tcpFrom(from, to, routed, { srcPort, dstPort, flags: SYN, seq: 1000, ack: 0 }));
    await to.receives('the SYN', from, { proto: 'tcp', srcPort, dstPort, flags: SYN });
    to.send(tcpFrom(to, from, routed, { srcPort: dstPort, dstPort: srcPort, flags: SYN | ACK, seq: 5000, ack: 1001 }));
    await from.receives('the SYN-ACK', to, { proto: 'tcp', srcPort: dstPort, dstPort: srcPort, flags: SYN | ACK });
    from.send(tcpFrom(from, to, routed, { srcPort, dstPort, flags: ACK, seq: 1001, ack: 5001 }));
    from.send(tcpFrom(from, to, routed, { srcPort, dstPort, flags: ACK | 0x08, seq: 1001, ack: 5001, payload: 'GET' }));
    await to.receives('the request', from, { proto: 'tcp', srcPort, dstPort, flags: ACK | 0x08 });
    to.send(tcpFrom(to, from, routed, { srcPort: dstPort, dstPort: srcPort, flags: ACK | 0x08, seq: 5001, ack: 1004, payload: 'OK' }));
    await from.receives('the response', to, { proto: 'tcp', srcPort: dstPort, dstPort: srcPort, flags: ACK | 0x08 });
  }

  it('a handshake the group allows succeeds and its replies pass, across the fabric and on one switch', async () => {
    await handshake(c, w, false, 40000, 80);
    await handshake(c, n, false, 40001, 80);
  });

  it('a port the group does not allow is dropped', async () => {
    c.send(tcpFrom(c, w, false, { srcPort: 40002, dstPort: 22, flags: SYN, seq: 1000, ack: 0 }));
    c.send(udpFrom(c, w, false, 40003, 9));
    await w.receives('the UDP marker sent after the SYN', c, { proto: 'udp', srcPort: 40003, dstPort: 9, flags: 0 });
    expect(w.has(c, { proto: 'tcp', srcPort: 40002, dstPort: 22, flags: SYN })).toBe(false);
  });

  it('UDP request and response through an egress-only group; nothing unsolicited comes back', async () => {
    c.send(udpFrom(c, d, false, 33000, 53));
    await d.receives('the request', c, { proto: 'udp', srcPort: 33000, dstPort: 53, flags: 0 });
    d.send(udpFrom(d, c, false, 53, 33001)); // answers nothing c sent
    d.send(udpFrom(d, c, false, 53, 33000));
    await c.receives('the response', d, { proto: 'udp', srcPort: 53, dstPort: 33000, flags: 0 });
    expect(c.has(d, { proto: 'udp', srcPort: 53, dstPort: 33001, flags: 0 })).toBe(false);
  });

  it('an ACL deny wins over a group allow', async () => {
    c.send(tcpFrom(c, s, true, { srcPort: 40010, dstPort: 80, flags: SYN, seq: 1000, ack: 0 }));
    c.send(udpFrom(c, s, true, 40011, 9));
    await s.receives('the UDP marker sent after the SYN', c, { proto: 'udp', srcPort: 40011, dstPort: 9, flags: 0 });
    expect(s.has(c, { proto: 'tcp', srcPort: 40010, dstPort: 80, flags: SYN })).toBe(false);
  });

  it('an established connection is cut when its rule goes (once the PATCH answers)', async () => {
    await handshake(c, w, false, 40020, 80);
    await patch(`${api}/v1/security-groups/${web}`, { rules: [{ direction: 'ingress', protocol: 'udp', ports: '9', group: 'self' }, { direction: 'ingress', protocol: 'udp', ports: '9', cidr: '10.1.0.10/32' }] });
    c.send(tcpFrom(c, w, false, { srcPort: 40020, dstPort: 80, flags: ACK | 0x08, seq: 1004, ack: 5003, payload: 'more' }));
    c.send(udpFrom(c, w, false, 40021, 9));
    await w.receives('the UDP marker sent after the segment', c, { proto: 'udp', srcPort: 40021, dstPort: 9, flags: 0 });
    expect(w.seen.filter((x) => x.proto === 'tcp' && x.srcPort === 40020 && x.flags === (ACK | 0x08))).toHaveLength(1);
  });
});
