/**
 * Security groups and network ACLs as forwarding behaviour: frames through the compiled tables on
 * the softswitch's flow tables with connection tracking (security-fixture.ts), on one switch and
 * across the leaf-spine fabric, with the intent changed under open connections.
 */
import { describe, expect, it } from 'vitest';
import { createIncrementalCompiler, traceIntent, type IncrementalCompiler } from '../../src/compiler/index.js';
import { compileEndpointSecurity, endpointZone } from '../../src/compiler/compile-security.js';
import { CT_STATE, TABLE } from '../../src/flow/index.js';
import type { Endpoint, Intent, NetworkAcl, SecurityGroup, SecurityRule } from '../../src/model/index.js';
import { createStatefulSim, handshake, SYN, tcp, udp, type StatefulSim } from './security-fixture.js';
import { endpoint, ip, subnet, vpc, vpcTopology } from './vpc-fixture.js';

const ANYWHERE = { network: 0, prefixLength: 0 };

function group(id: string, rules: SecurityRule[], isDefault = false): SecurityGroup {
  return { id, vpcId: 'red', name: id, rules, isDefault };
}

/** red: web (w1 on leaf1, w2 on leaf2) and db (d1 on leaf1, d2 on leaf3) in two subnets, c1 a client. */
function world(groups: SecurityGroup[], members: Record<string, string[]>, acls: NetworkAcl[] = []) {
  const topology = vpcTopology();
  const eps = [
    endpoint('w1', 'red', 'red-a', 101, 7, 0x0200000a0001, ip(10, 0, 0, 10)),
    endpoint('w2', 'red', 'red-a', 102, 7, 0x0200000a0002, ip(10, 0, 0, 11)),
    endpoint('d1', 'red', 'red-b', 101, 8, 0x0200000a0003, ip(10, 0, 1, 10)),
    endpoint('d2', 'red', 'red-b', 103, 7, 0x0200000a0004, ip(10, 0, 1, 11)),
    endpoint('c1', 'red', 'red-a', 101, 9, 0x0200000a0005, ip(10, 0, 0, 12)),
  ].map((e): Endpoint => (members[e.id] ? { ...e, securityGroups: members[e.id] } : e));
  const intent: Intent = {
    vpcs: new Map([['red', vpc('red', 1)]]),
    subnets: new Map([subnet('red-a', 'red', 0), subnet('red-b', 'red', 1)].map((s) => [s.id, s])),
    endpoints: new Map(eps.map((e) => [e.id, e])),
    securityGroups: new Map(groups.map((g) => [g.id, g])),
    networkAcls: new Map(acls.map((a) => [a.id, a])),
  };
  const compiler = createIncrementalCompiler(topology, intent);
  const sim = createStatefulSim(topology, intent);
  sim.install(compiler.tables());
  const ep = (id: string) => intent.endpoints.get(id) as Endpoint;
  const trace = (from: Endpoint, frame: Uint8Array) =>
    traceIntent(compiler.tables(), compiler.topology(), { dpid: from.dpid, inPort: from.port, packet: frame }, { describeCookie: (c) => compiler.describeCookie(c), intent: compiler.intent() });
  return { compiler, sim, ep, trace, apply: (c: Parameters<IncrementalCompiler['apply']>[0]) => applyAndInstall(compiler, sim, c) };
}

function applyAndInstall(compiler: IncrementalCompiler, sim: StatefulSim, change: Parameters<IncrementalCompiler['apply']>[0]): void {
  compiler.apply(change);
  sim.install(compiler.tables());
}

const DEFAULT = group('sg-1', [
  { direction: 'ingress', protocol: 'any', group: 'sg-1' },
  { direction: 'egress', protocol: 'any', cidr: ANYWHERE },
], true);
const WEB = group('sg-2', [
  { direction: 'ingress', protocol: 'tcp', ports: { from: 80, to: 80 }, group: 'sg-4' },
  { direction: 'egress', protocol: 'any', cidr: ANYWHERE },
]);
const DB = group('sg-3', [
  { direction: 'ingress', protocol: 'tcp', ports: { from: 5432, to: 5432 }, group: 'sg-2' },
  { direction: 'egress', protocol: 'any', cidr: ANYWHERE },
]);
/** Clients: egress only. */
const CLIENTS = group('sg-4', [{ direction: 'egress', protocol: 'any', cidr: ANYWHERE }]);

describe('security groups', () => {
  it('the default group: members reach each other both ways, on one switch and across the fabric', () => {
    const { sim, ep } = world([DEFAULT], {});
    expect(sim.send(ep('w1'), udp(ep('w1'), ep('c1'), 5000, 53))).toEqual(['c1']);
    expect(sim.send(ep('c1'), udp(ep('c1'), ep('w1'), 53, 5000))).toEqual(['w1']);
    expect(sim.send(ep('w1'), udp(ep('w1'), ep('d2'), 5001, 53))).toEqual(['d2']);
    expect(sim.send(ep('d2'), udp(ep('d2'), ep('w1'), 7, 7))).toEqual(['w1']);
  });

  it('a handshake a group rule allows succeeds and its replies pass; a port no rule allows is dropped', () => {
    const { sim, ep } = world([DEFAULT, WEB, DB, CLIENTS], { w1: ['sg-2'], w2: ['sg-2'], d1: ['sg-3'], d2: ['sg-3'], c1: ['sg-4'] });
    // c1 -> w2:80 across the fabric, c1 -> w1:80 on one switch.
    expect(handshake(sim, ep('c1'), ep('w2'), 40000, 80).got).toEqual([['w2'], ['c1'], ['w2'], ['w2'], ['c1']]);
    expect(handshake(sim, ep('c1'), ep('w1'), 40001, 80).got).toEqual([['w1'], ['c1'], ['w1'], ['w1'], ['c1']]);
    // web -> db:5432 (a rule naming the web group), both places.
    expect(handshake(sim, ep('w1'), ep('d2'), 40002, 5432).got).toEqual([['d2'], ['w1'], ['d2'], ['d2'], ['w1']]);
    expect(handshake(sim, ep('w2'), ep('d1'), 40003, 5432).got).toEqual([['d1'], ['w2'], ['d1'], ['d1'], ['w2']]);
    // Not allowed: c1 -> w1:22, c1 -> d1:5432 (clients are not web), d1 -> w1:80 (db is not a client).
    expect(handshake(sim, ep('c1'), ep('w1'), 40004, 22).got[0]).toEqual([]);
    expect(handshake(sim, ep('c1'), ep('d1'), 40005, 5432).got[0]).toEqual([]);
    expect(handshake(sim, ep('d1'), ep('w1'), 40006, 80).got[0]).toEqual([]);
    // A "reply" from a web server's port 80 to a client that opened nothing is not one: web's egress
    // lets it out, the client's group (egress only) does not let it in.
    expect(sim.send(ep('w1'), udp(ep('w1'), ep('c1'), 80, 40007))).toEqual([]);
    expect(sim.send(ep('w2'), udp(ep('w2'), ep('d1'), 53, 53))).toEqual([]);
  });

  it('UDP request and response through an egress-only group', () => {
    const { sim, ep } = world([DEFAULT, CLIENTS, group('sg-5', [{ direction: 'ingress', protocol: 'udp', ports: { from: 53, to: 53 }, cidr: { network: ip(10, 0, 0, 0), prefixLength: 16 } }])], { c1: ['sg-4'], d2: ['sg-5'] });
    expect(sim.send(ep('c1'), udp(ep('c1'), ep('d2'), 33000, 53))).toEqual(['d2']);
    expect(sim.send(ep('d2'), udp(ep('d2'), ep('c1'), 53, 33000))).toEqual(['c1']);
    // The client's group lets nothing in but replies; the server's group lets nothing out but replies.
    expect(sim.send(ep('d2'), udp(ep('d2'), ep('c1'), 53, 33001))).toEqual([]);
  });

  it('an established connection is cut when its rule goes, and when its client leaves the named group', () => {
    const { sim, ep, apply } = world([DEFAULT, WEB, DB, CLIENTS], { w1: ['sg-2'], w2: ['sg-2'], d1: ['sg-3'], d2: ['sg-3'], c1: ['sg-4'] });
    const c = handshake(sim, ep('c1'), ep('w2'), 41000, 80);
    expect(c.got[4]).toEqual(['c1']);
    expect(c.more()).toEqual(['w2']);
    apply({ kind: 'securityGroup', op: 'update', securityGroup: { ...WEB, rules: WEB.rules.slice(1) } });
    expect(c.more()).toEqual([]);
    apply({ kind: 'securityGroup', op: 'update', securityGroup: WEB });
    const d = handshake(sim, ep('w1'), ep('d2'), 41001, 5432);
    expect(d.more()).toEqual(['d2']);
    apply({ kind: 'endpoint', op: 'update', endpoint: { ...ep('w1'), securityGroups: ['sg-1'] } });
    expect(d.more()).toEqual([]);
  });
});

describe('committing connections', () => {
  it('tracks without a commit in the SG tables and commits a new connection in the table after, in the zone', () => {
    const flows = compileEndpointSecurity({ vni: 1, ip: ip(10, 0, 0, 10), port: 7, groups: [WEB], gateway: ip(10, 0, 0, 1) }, 42);
    const cts = flows.flatMap((f) => f.actions.flatMap((a) => (a.type === 'ct' ? [{ table: f.table, commit: a.commit === true, zone: a.zone, recirculates: a.table !== undefined }] : [])));
    expect(cts).toEqual([
      { table: TABLE.SG_EGRESS, commit: false, zone: 7, recirculates: true },
      { table: TABLE.SG_EGRESS_COMMIT, commit: true, zone: 7, recirculates: false },
      { table: TABLE.SG_INGRESS, commit: false, zone: 7, recirculates: true },
      { table: TABLE.SG_INGRESS_COMMIT, commit: true, zone: 7, recirculates: false },
    ]);
    for (const f of flows.filter((x) => x.table === TABLE.SG_EGRESS_COMMIT || x.table === TABLE.SG_INGRESS_COMMIT)) {
      // Only a new connection (not a reply, related or invalid packet) of this endpoint's zone.
      expect(f.match.ctZone).toBe(7);
      expect(f.match.ctState).toEqual({ value: CT_STATE.TRK | CT_STATE.NEW, mask: CT_STATE.TRK | CT_STATE.NEW | CT_STATE.RPL | CT_STATE.REL | CT_STATE.INV });
      expect(f.gotoTable).toBe(f.table + 1);
    }
  });

  it('a denied first packet leaves no entry in the endpoint\'s zone (a port scan fills nothing); an allowed one is committed', () => {
    const { sim, ep } = world([DEFAULT, WEB, CLIENTS, group('sg-6', [{ direction: 'ingress', protocol: 'tcp', ports: { from: 80, to: 80 }, cidr: ANYWHERE }])], { w1: ['sg-2'], w2: ['sg-2'], c1: ['sg-4'], d2: ['sg-6'] });
    const zoneOf = (id: string) => sim.conntrack(ep(id).dpid).zoneCount(endpointZone(ep(id).port));
    // c1 scans w2 (across the fabric) and w1 (on its own switch): web lets in tcp 80 only.
    for (let port = 1; port <= 50; port++) {
      if (port === 80) continue;
      expect(sim.send(ep('c1'), tcp(ep('c1'), ep('w2'), { srcPort: 30000 + port, dstPort: port, flags: SYN }))).toEqual([]);
      expect(sim.send(ep('c1'), tcp(ep('c1'), ep('w1'), { srcPort: 31000 + port, dstPort: port, flags: SYN }))).toEqual([]);
    }
    expect(zoneOf('w2')).toBe(0);
    expect(zoneOf('w1')).toBe(0);
    // d2's group lets nothing out: its SYN is denied at its own switch and leaves no entry there either.
    expect(sim.send(ep('d2'), tcp(ep('d2'), ep('w2'), { srcPort: 32000, dstPort: 80, flags: SYN }))).toEqual([]);
    expect(zoneOf('d2')).toBe(0);
    // An allowed SYN is committed at both ends, in each end's zone.
    const before = zoneOf('c1');
    expect(sim.send(ep('c1'), tcp(ep('c1'), ep('w2'), { srcPort: 33000, dstPort: 80, flags: SYN }))).toEqual(['w2']);
    expect(zoneOf('w2')).toBe(1);
    expect(zoneOf('c1')).toBe(before + 1);
  });
});

/** red-b's ingress ACL in the trace and ACL tests: w2 (10.0.0.11) denied to the database port, the rest allowed. */
const DB_INGRESS: NetworkAcl['rules'] = [
  { number: 10, action: 'deny', direction: 'ingress', protocol: 'tcp', ports: { from: 5432, to: 5432 }, cidr: { network: ip(10, 0, 0, 11), prefixLength: 32 } },
  { number: 20, action: 'allow', direction: 'ingress', protocol: 'any', cidr: ANYWHERE },
];

describe('trace', () => {
  it('names the group rule or ACL entry that allowed or dropped the packet', () => {
    const acl: NetworkAcl = {
      id: 'acl-1',
      subnetId: 'red-b',
      rules: [
        ...DB_INGRESS,
      ],
    };
    const { ep, trace } = world([DEFAULT, WEB, DB, CLIENTS], { w1: ['sg-2'], w2: ['sg-2'], d1: ['sg-3'], d2: ['sg-3'], c1: ['sg-4'] }, [acl]);
    const rules = (t: ReturnType<typeof trace>) => t.hops.flatMap((h) => h.tables.flatMap((s) => (s.rule ? [`${s.table}: ${s.rule}`] : [])));
    const allowed = trace(ep('c1'), tcp(ep('c1'), ep('w2'), { srcPort: 1, dstPort: 80, flags: SYN }));
    expect(allowed.exits.map((x) => x.to)).toEqual([{ kind: 'endpoint', endpoint: 'w2' }]);
    expect(rules(allowed)).toEqual(['SG_EGRESS: security group sg-4 rule 0: allow egress any to 0.0.0.0/0', 'SG_INGRESS: security group sg-2 rule 0: allow ingress tcp 80 from group sg-4']);
    const refused = trace(ep('c1'), tcp(ep('c1'), ep('w1'), { srcPort: 1, dstPort: 22, flags: SYN }));
    expect(refused.drops.map((d) => [d.table, d.rule])).toEqual([['SG_INGRESS', 'security groups sg-2 of w1: no rule allows it']]);
    const denied = trace(ep('w2'), tcp(ep('w2'), ep('d1'), { srcPort: 1, dstPort: 5432, flags: SYN }));
    expect(denied.drops.map((d) => [d.table, d.rule])).toEqual([['ACL_INGRESS', 'network ACL acl-1 rule 10: deny ingress tcp 5432 from 10.0.0.11/32']]);
  });
});

describe('network ACLs', () => {
  it('a deny wins over a group allow; numbers order the rules; no rule matched is denied', () => {
    const acl: NetworkAcl = {
      id: 'acl-1',
      subnetId: 'red-b',
      rules: [
        ...DB_INGRESS,
        { number: 10, action: 'allow', direction: 'egress', protocol: 'tcp', cidr: ANYWHERE },
      ],
    };
    const { sim, ep } = world([DEFAULT, WEB, DB, CLIENTS], { w1: ['sg-2'], w2: ['sg-2'], d1: ['sg-3'], d2: ['sg-3'], c1: ['sg-4'] }, [acl]);
    // w2 (10.0.0.11) is denied by rule 10 although its group is allowed; w1 passes by rule 20.
    expect(handshake(sim, ep('w2'), ep('d1'), 42000, 5432).got[0]).toEqual([]);
    expect(handshake(sim, ep('w1'), ep('d1'), 42001, 5432).got).toEqual([['d1'], ['w1'], ['d1'], ['d1'], ['w1']]);
    // Egress from red-b: tcp only; UDP out of d1 meets the default deny.
    expect(sim.send(ep('d1'), udp(ep('d1'), ep('w1'), 53, 53))).toEqual([]);
  });
});
