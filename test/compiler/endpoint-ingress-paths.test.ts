/**
 * Every way a packet can reach an endpoint passes the ingress network ACL of its subnet and its
 * security groups (docs/security-groups.md): frames through the compiled tables on the softswitch's
 * flow tables, with select groups and connection tracking (security-fixture.ts). Everything sits on
 * leaf1, the gateway's switch, where the translations could deliver straight to a port: a load
 * balancer behind an elastic IP, an elastic IP, a load balancer inside the VPC, routing between two
 * subnets of one switch, a volume mount (one target and replicas) and its replies. For each path: a
 * group that does not allow the port drops it; one that does lets it in and its reply out; an ACL
 * deny wins over the group.
 */
import { describe, expect, it } from 'vitest';
import { createIncrementalCompiler } from '../../src/compiler/index.js';
import type { Attachment, ElasticIp, Endpoint, Intent, LoadBalancer, NetworkAcl, SecurityGroup, SecurityRule, Volume } from '../../src/model/index.js';
import { GATEWAY_MAC } from '../../src/model/index.js';
import { buildUdpFrame, isMalformed, parseFrame } from '../../src/net/index.js';
import { createStatefulSim, type StatefulSim } from './security-fixture.js';
import { gatewayTopology, GW_DPID, GW_MAC, GW_PORT, OUTSIDE_IP, ROUTER_MAC } from './service-fixture.js';
import { endpoint, ip, subnet, vpc } from './vpc-fixture.js';

const ANYWHERE = { network: 0, prefixLength: 0 };
const EGRESS_ANY: SecurityRule = { direction: 'egress', protocol: 'any', cidr: ANYWHERE };
/** The targets' group: SSH only, or UDP too. */
const CLOSED: SecurityGroup = { id: 'guard', vpcId: 'red', name: 'guard', isDefault: false, rules: [{ direction: 'ingress', protocol: 'tcp', ports: { from: 22, to: 22 }, cidr: ANYWHERE }, EGRESS_ANY] };
const OPEN: SecurityGroup = { ...CLOSED, rules: [...CLOSED.rules, { direction: 'ingress', protocol: 'udp', cidr: ANYWHERE }] };
/** The mount client's group (blue): nothing in but replies. */
const CLIENT_GROUP: SecurityGroup = { id: 'client', vpcId: 'blue', name: 'client', isDefault: false, rules: [EGRESS_ANY] };
/** A subnet's ACL that denies UDP in (and lets the rest in and everything out). */
const denyUdpIn = (id: string, subnetId: string): NetworkAcl => ({
  id,
  subnetId,
  rules: [
    { number: 10, action: 'deny', direction: 'ingress', protocol: 'udp', cidr: ANYWHERE },
    { number: 20, action: 'allow', direction: 'ingress', protocol: 'any', cidr: ANYWHERE },
    { number: 10, action: 'allow', direction: 'egress', protocol: 'any', cidr: ANYWHERE },
  ],
});

/** The gateway's fabric with two more free ports on leaf1 (13, 14): six endpoints beside the uplink (11). */
const base = gatewayTopology();
const topology = { ...base, switches: base.switches.map((x) => (x.dpid === GW_DPID ? { ...x, ports: [...x.ports, { number: 13 }, { number: 14 }] } : x)) };
const L1 = GW_DPID;
const guarded = (e: Endpoint, kind: Endpoint['kind'] = e.kind, labels: Record<string, string> = {}): Endpoint => ({ ...e, kind, labels, securityGroups: ['guard'] });
/** An LB backend, an elastic IP's endpoint, two storage targets (red-a); a client in red-b; a mount client in blue. */
const b = guarded(endpoint('b', 'red', 'red-a', L1, 7, 0x020000000a07, ip(10, 0, 0, 11)), 'function', { function: 'api' });
const h = guarded(endpoint('h', 'red', 'red-a', L1, 8, 0x020000000a08, ip(10, 0, 0, 12)));
const s1 = guarded(endpoint('s1', 'red', 'red-a', L1, 9, 0x020000000a09, ip(10, 0, 0, 13)), 'storage');
const s2 = guarded(endpoint('s2', 'red', 'red-a', L1, 10, 0x020000000a0a, ip(10, 0, 0, 14)), 'storage');
const c = endpoint('c', 'red', 'red-b', L1, 13, 0x020000000a0b, ip(10, 0, 1, 10));
const m: Endpoint = { ...endpoint('m', 'blue', 'blue-a', L1, 14, 0x020000000b0c, ip(10, 0, 0, 20)), securityGroups: ['client'] };

const LB_PUBLIC = ip(203, 0, 113, 5);
const EIP_PUBLIC = ip(203, 0, 113, 6);
const VIP = ip(10, 0, 0, 200);
const INNER_VIP = ip(10, 0, 0, 201);
const MOUNT = ip(10, 0, 0, 50);
const SOURCE = ip(10, 0, 0, 60);
const lb: LoadBalancer = { id: 'lb-1', vpcId: 'red', vip: VIP, protocol: 'udp', port: 80, backendPort: 8080, function: 'api', weights: {}, unhealthy: [], elasticIpId: 'eip-lb' };
/** A load balancer without an elastic IP, for the same function (in a world of its own: one LB per function). */
const innerLb: LoadBalancer = { ...lb, id: 'lb-2', vip: INNER_VIP, port: 81, elasticIpId: undefined };
const eips: ElasticIp[] = [
  { id: 'eip-lb', publicIp: LB_PUBLIC },
  { id: 'eip-h', publicIp: EIP_PUBLIC, endpointId: 'h' },
];
const nfs = (targets: string[]): Volume => ({ id: 'vol-1', name: 'home', protocol: 'nfs', targets, ports: [2049] });
const att: Attachment = { id: 'att-1', volumeId: 'vol-1', endpointId: 'm', mode: 'rw', mounts: [{ ip: MOUNT }], source: { subnetId: 'red-a', ip: SOURCE } };

interface WorldOptions {
  guard: SecurityGroup;
  acls?: NetworkAcl[];
  /** The volume's targets (default s1). */
  targets?: string[];
  /** The load balancer (default the one behind an elastic IP). */
  lb?: LoadBalancer;
}

function world(o: WorldOptions): StatefulSim {
  const eps = [b, h, s1, s2, c, m];
  const intent: Intent = {
    vpcs: new Map([
      ['red', vpc('red', 1)],
      ['blue', vpc('blue', 2)],
    ]),
    subnets: new Map([subnet('red-a', 'red', 0), subnet('red-b', 'red', 1), subnet('blue-a', 'blue', 0)].map((x) => [x.id, x])),
    endpoints: new Map(eps.map((e) => [e.id, e])),
    elasticIps: new Map(eips.map((x) => [x.id, x])),
    loadBalancers: new Map([[(o.lb ?? lb).id, o.lb ?? lb]]),
    volumes: new Map([['vol-1', nfs(o.targets ?? ['s1'])]]),
    attachments: new Map([[att.id, att]]),
    securityGroups: new Map([o.guard, CLIENT_GROUP].map((g) => [g.id, g])),
    networkAcls: new Map((o.acls ?? []).map((a) => [a.id, a])),
  };
  const compiler = createIncrementalCompiler(topology, intent);
  const sim = createStatefulSim(topology, intent);
  sim.install(compiler.tables(), compiler.groups());
  return sim;
}

function udp(o: { srcMac: number; dstMac: number; srcIp: number; dstIp: number; srcPort: number; dstPort: number }): Buffer {
  return buildUdpFrame({ ...o, ttl: 64, payload: Buffer.from('x') });
}

/** Where a frame arrived, with its addresses there. */
function arrivals(sim: StatefulSim, dpid: number, port: number, frame: Uint8Array): string[] {
  return sim.sendAt(dpid, port, frame).map((d) => {
    const p = parseFrame(d.frame);
    if (isMalformed(p) || !p.ip) return d.to;
    return `${d.to} ${p.ip.src >>> 24 === 10 ? 'in' : 'out'}:${p.ip.src}:${p.udp?.srcPort}>${p.ip.dst}:${p.udp?.dstPort}`;
  });
}

const fromOutside = (dstIp: number, srcPort: number, dstPort: number) => udp({ srcMac: ROUTER_MAC, dstMac: GW_MAC, srcIp: OUTSIDE_IP, dstIp, srcPort, dstPort });
const routed = (from: Endpoint, dstIp: number, srcPort: number, dstPort: number) => udp({ srcMac: from.mac, dstMac: GATEWAY_MAC, srcIp: from.ip, dstIp, srcPort, dstPort });

interface Path {
  /** The endpoint the path reaches (guarded by CLOSED/OPEN, in red-a). */
  to: Endpoint;
  /** The request: where it enters, the frame. */
  request: () => [number, number, Uint8Array];
  /** The request as it arrives. */
  arrives: string;
  /** The reply from `to`. */
  reply: Uint8Array;
  /** The reply as it arrives. */
  replyArrives: string;
  /** What the world differs in. */
  world?: Omit<WorldOptions, 'guard'>;
}

const paths: [string, Path][] = [
  [
    "a load balancer's elastic IP to a backend on the gateway's switch",
    {
      to: b,
      request: () => [L1, GW_PORT, fromOutside(LB_PUBLIC, 4000, 80)],
      arrives: `b out:${OUTSIDE_IP}:4000>${b.ip}:8080`,
      reply: routed(b, OUTSIDE_IP, 8080, 4000),
      replyArrives: `gateway:gw1 out:${LB_PUBLIC}:80>${OUTSIDE_IP}:4000`,
    },
  ],
  [
    "an elastic IP to its endpoint on the gateway's switch",
    {
      to: h,
      request: () => [L1, GW_PORT, fromOutside(EIP_PUBLIC, 4001, 5000)],
      arrives: `h out:${OUTSIDE_IP}:4001>${h.ip}:5000`,
      reply: routed(h, OUTSIDE_IP, 5000, 4001),
      replyArrives: `gateway:gw1 out:${EIP_PUBLIC}:5000>${OUTSIDE_IP}:4001`,
    },
  ],
  [
    "a load balancer's VIP (it has an elastic IP) to a backend on the client's switch",
    {
      to: b,
      request: () => [c.dpid, c.port, routed(c, VIP, 4002, 80)],
      arrives: `b in:${c.ip}:4002>${b.ip}:8080`,
      reply: routed(b, c.ip, 8080, 4002),
      replyArrives: `c in:${VIP}:80>${c.ip}:4002`,
    },
  ],
  [
    "a load balancer's VIP without an elastic IP to a backend on the client's switch",
    {
      to: b,
      world: { lb: innerLb },
      request: () => [c.dpid, c.port, routed(c, INNER_VIP, 4004, 81)],
      arrives: `b in:${c.ip}:4004>${b.ip}:8080`,
      reply: routed(b, c.ip, 8080, 4004),
      replyArrives: `c in:${INNER_VIP}:81>${c.ip}:4004`,
    },
  ],
  [
    'routing between two subnets on one switch',
    {
      to: h,
      request: () => [c.dpid, c.port, routed(c, h.ip, 4003, 5000)],
      arrives: `h in:${c.ip}:4003>${h.ip}:5000`,
      reply: routed(h, c.ip, 5000, 4003),
      replyArrives: `c in:${h.ip}:5000>${c.ip}:4003`,
    },
  ],
  [
    "a volume mount to its target on the client's switch",
    {
      to: s1,
      request: () => [m.dpid, m.port, routed(m, MOUNT, 900, 2049)],
      arrives: `s1 in:${SOURCE}:900>${s1.ip}:2049`,
      reply: routed(s1, SOURCE, 2049, 900),
      replyArrives: `m in:${MOUNT}:2049>${m.ip}:900`,
    },
  ],
  [
    "a volume mount to replicas on the client's switch (a select group)",
    {
      to: s1,
      world: { targets: ['s1', 's2'] },
      request: () => [m.dpid, m.port, routed(m, MOUNT, 900, 2049)],
      arrives: `s1 in:${SOURCE}:900>${s1.ip}:2049`,
      reply: routed(s1, SOURCE, 2049, 900),
      replyArrives: `m in:${MOUNT}:2049>${m.ip}:900`,
    },
  ],
];

/** The replica a mount's connection went to (Maglev picks one of s1, s2): the path names s1, so the test follows the frame. */
function retarget(p: Path, got: string[]): Path {
  if (!p.world?.targets || !got[0]?.startsWith('s2 ')) return p;
  return { ...p, to: s2, arrives: p.arrives.replace(`s1 `, 's2 ').replace(`${s1.ip}:`, `${s2.ip}:`), reply: routed(s2, SOURCE, 2049, 900) };
}

describe('every path to an endpoint passes its ACL and security groups', () => {
  it.each(paths)('%s: a group that does not allow the port drops it', (_name, p) => {
    const sim = world({ ...p.world, guard: CLOSED });
    const [dpid, port, frame] = p.request();
    expect(arrivals(sim, dpid, port, frame)).toEqual([]);
  });

  it.each(paths)('%s: a group that allows it lets it in, and the reply out', (_name, path) => {
    const sim = world({ ...path.world, guard: OPEN });
    const [dpid, port, frame] = path.request();
    const got = arrivals(sim, dpid, port, frame);
    const p = retarget(path, got);
    expect(got).toEqual([p.arrives]);
    expect(arrivals(sim, p.to.dpid, p.to.port, p.reply)).toEqual([p.replyArrives]);
  });

  it.each(paths)("%s: the target subnet's ACL deny wins over the group", (_name, p) => {
    const sim = world({ ...p.world, guard: OPEN, acls: [denyUdpIn('acl-a', 'red-a')] });
    const [dpid, port, frame] = p.request();
    expect(arrivals(sim, dpid, port, frame)).toEqual([]);
  });

  it("a mount's reply passes the client subnet's ACL", () => {
    const sim = world({ guard: OPEN, acls: [denyUdpIn('acl-blue', 'blue-a')] });
    expect(arrivals(sim, m.dpid, m.port, routed(m, MOUNT, 900, 2049))).toEqual([`s1 in:${SOURCE}:900>${s1.ip}:2049`]);
    expect(arrivals(sim, s1.dpid, s1.port, routed(s1, SOURCE, 2049, 900))).toEqual([]);
  });

  it("a mount's unsolicited reply does not pass the client's group", () => {
    const sim = world({ guard: OPEN });
    expect(arrivals(sim, s1.dpid, s1.port, routed(s1, SOURCE, 2049, 901))).toEqual([]);
  });
});
