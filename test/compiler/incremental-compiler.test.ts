/**
 * The incremental compiler against a full recompute: after every change of random sequences the
 * tables are equal (as sets of flowKey + body), and the returned deltas, applied the way the
 * controller applies them, turn the previous tables into the new ones. Conflicting intent (duplicate
 * VNIs, ports, IPs, MACs, gateway IPs, dangling references) is generated on purpose.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createIncrementalCompiler,
  endpointCookie,
  fullCompile,
  subnetCookie,
  vpcCookie,
  type IntentChange,
  type TablesDelta,
} from '../../src/compiler/index.js';
import { flowKey, sameFlowBody, type FlowEntry } from '../../src/flow/index.js';
import { buildUdpFrame } from '../../src/net/packet/udp.js';
import { type Endpoint, type Intent, type SecurityRule, type Topology } from '../../src/model/index.js';
import { createFrameSim, endpoint, ip, subnet, twoVpcIntent, vpc, vpcTopology } from './vpc-fixture.js';

const topology = vpcTopology();
/** The property test's fabric keeps one underlay host (leaf1:1), so the tables stay small and fast to compare. */
const smallUnderlay: Topology = { ...topology, hosts: topology.hosts.slice(0, 1) };

/** Tables as a canonical, comparable form: per dpid, sorted `flowKey => body` lines. */
function canonical(tables: ReadonlyMap<number, readonly FlowEntry[]>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [dpid, flows] of tables) {
    out.set(dpid, flows.map((f) => `${flowKey(f)} => ${f.cookie} ${JSON.stringify([f.actions, f.writeMetadata ?? null, f.gotoTable ?? null])}`).sort());
  }
  return out;
}

/** The controller's side: installed tables keyed by flowKey; adds replace, removes delete. */
function applyDelta(installed: Map<number, Map<string, FlowEntry>>, delta: TablesDelta): void {
  for (const [dpid, d] of delta) {
    let t = installed.get(dpid);
    if (!t) installed.set(dpid, (t = new Map()));
    for (const f of d.add) t.set(flowKey(f), f);
    for (const f of d.remove) {
      const k = flowKey(f);
      expect(t.has(k), 'a remove names an installed flow').toBe(true);
      t.delete(k);
    }
  }
}

function installedOf(tables: ReadonlyMap<number, readonly FlowEntry[]>): Map<number, Map<string, FlowEntry>> {
  return new Map([...tables].map(([dpid, flows]) => [dpid, new Map(flows.map((f) => [flowKey(f), f]))]));
}

function sameAsInstalled(installed: Map<number, Map<string, FlowEntry>>, tables: ReadonlyMap<number, readonly FlowEntry[]>): void {
  for (const [dpid, flows] of tables) {
    const t = installed.get(dpid) ?? new Map<string, FlowEntry>();
    expect(t.size, `dpid ${dpid}`).toBe(flows.length);
    for (const f of flows) {
      const have = t.get(flowKey(f));
      expect(have && sameFlowBody(have, f), `dpid ${dpid}: ${flowKey(f)}`).toBe(true);
    }
  }
}

function applyToIntent(intent: Intent, c: IntentChange): Intent {
  const vpcs = new Map(intent.vpcs);
  const subnets = new Map(intent.subnets);
  const endpoints = new Map(intent.endpoints);
  if (c.kind === 'vpc') {
    if (c.op === 'delete') vpcs.delete(c.id);
    else vpcs.set(c.vpc.id, c.vpc);
  }
  if (c.kind === 'subnet') {
    if (c.op === 'delete') subnets.delete(c.id);
    else subnets.set(c.subnet.id, c.subnet);
  }
  if (c.kind === 'endpoint') {
    if (c.op === 'delete') endpoints.delete(c.id);
    else endpoints.set(c.endpoint.id, c.endpoint);
  }
  const securityGroups = new Map(intent.securityGroups);
  if (c.kind === 'securityGroup') {
    if (c.op === 'delete') securityGroups.delete(c.id);
    else securityGroups.set(c.securityGroup.id, c.securityGroup);
  }
  const networkAcls = new Map(intent.networkAcls);
  if (c.kind === 'networkAcl') {
    if (c.op === 'delete') networkAcls.delete(c.id);
    else networkAcls.set(c.networkAcl.id, c.networkAcl);
  }
  return { vpcs, subnets, endpoints, securityGroups, networkAcls };
}

// Small pools so that changes collide: 3 VPCs over 2 VNIs, 4 subnets, 8 endpoints over few ports/IPs/MACs.
const vpcIds = ['va', 'vb', 'vc'];
const arbVpcChange: fc.Arbitrary<IntentChange> = fc.oneof(
  fc.record({ id: fc.constantFrom(...vpcIds), vni: fc.constantFrom(1, 2, 0) }).map(({ id, vni }): IntentChange => ({ kind: 'vpc', op: 'add', vpc: vpc(id, vni) })),
  fc.constantFrom(...vpcIds).map((id): IntentChange => ({ kind: 'vpc', op: 'delete', id })),
);
const arbSubnetChange: fc.Arbitrary<IntentChange> = fc.oneof(
  fc
    .record({ id: fc.constantFrom('s0', 's1', 's2', 's3'), stray: fc.option(fc.constantFrom(...vpcIds), { freq: 5 }), third: fc.constantFrom(0, 1) })
    .map(({ id, stray, third }): IntentChange => ({ kind: 'subnet', op: 'update', subnet: subnet(id, stray ?? SUBNET_VPC[id], third) })),
  fc.constantFrom('s0', 's1', 's2', 's3').map((id): IntentChange => ({ kind: 'subnet', op: 'delete', id })),
);
/** The VPC each subnet normally belongs to (the generators sometimes break that on purpose). */
const SUBNET_VPC: Record<string, string> = { s0: 'va', s1: 'va', s2: 'vb', s3: 'vc' };
const arbEndpoint: fc.Arbitrary<Endpoint> = fc
  .record({
    id: fc.constantFrom('e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7'),
    subnetId: fc.constantFrom('s0', 's1', 's2', 's3'),
    strayVpc: fc.option(fc.constantFrom(...vpcIds), { freq: 10 }),
    dpid: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(101, 102, 103, 104) }, { weight: 1, arbitrary: fc.constantFrom(1, 999) }),
    port: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(7, 8, 9, 10) }, { weight: 1, arbitrary: fc.constantFrom(1, 5) }),
    mac: fc.constantFrom(0x020000000a01, 0x020000000a02, 0x020000000a03, 0x020000000a04, 0x020000000a05, 0x020000000a06),
    host: fc.constantFrom(1, 10, 11, 12, 13, 14, 15),
  })
  .map((r) => endpoint(r.id, r.strayVpc ?? SUBNET_VPC[r.subnetId], r.subnetId, r.dpid, r.port, r.mac, ip(10, 0, r.subnetId === 's1' ? 1 : 0, r.host)));
// Security groups: g0 and g2 are va's and vb's default groups; rules from a small pool name groups,
// cidrs (one equal to an endpoint's /32), ports (ranges that split into prefixes) so that clauses meet.
const groupIds = ['g0', 'g1', 'g2', 'g3'];
const GROUP_VPC: Record<string, string> = { g0: 'va', g1: 'va', g2: 'vb', g3: 'vb' };
const arbRule: fc.Arbitrary<SecurityRule> = fc
  .record({
    direction: fc.constantFrom('ingress', 'egress') as fc.Arbitrary<'ingress' | 'egress'>,
    protocol: fc.constantFrom('tcp', 'udp', 'icmp', 'any') as fc.Arbitrary<SecurityRule['protocol']>,
    ports: fc.option(fc.constantFrom({ from: 80, to: 80 }, { from: 8000, to: 8100 }), { freq: 2 }),
    other: fc.constantFrom<Pick<SecurityRule, 'cidr' | 'group'>>({}, { cidr: { network: ip(10, 0, 0, 0), prefixLength: 8 } }, { cidr: { network: ip(10, 0, 0, 10), prefixLength: 32 } }, { group: 'g0' }, { group: 'g1' }, { group: 'g2' }),
  })
  .map(({ direction, protocol, ports, other }) => ({ direction, protocol, ...(ports && (protocol === 'tcp' || protocol === 'udp') ? { ports } : {}), ...other }));
const arbGroupChange: fc.Arbitrary<IntentChange> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({ id: fc.constantFrom(...groupIds), rules: fc.array(arbRule, { maxLength: 4 }) })
      .map(({ id, rules }): IntentChange => ({ kind: 'securityGroup', op: 'add', securityGroup: { id, vpcId: GROUP_VPC[id], name: id, rules, isDefault: id === 'g0' || id === 'g2' } })),
  },
  { weight: 1, arbitrary: fc.constantFrom(...groupIds).map((id): IntentChange => ({ kind: 'securityGroup', op: 'delete', id })) },
);
const arbAclChange: fc.Arbitrary<IntentChange> = fc.oneof(
  fc
    .record({
      id: fc.constantFrom('a0', 'a1'),
      subnetId: fc.constantFrom('s0', 's2'),
      rules: fc.array(
        fc.record({ number: fc.constantFrom(10, 20, 30), action: fc.constantFrom('allow', 'deny') as fc.Arbitrary<'allow' | 'deny'>, rule: arbRule }),
        { maxLength: 3 },
      ),
    })
    .map(({ id, subnetId, rules }): IntentChange => ({
      kind: 'networkAcl',
      op: 'add',
      networkAcl: {
        id,
        subnetId,
        rules: rules.map(({ number, action, rule }, i) => ({ number: number + i, action, direction: rule.direction, protocol: rule.protocol, ...(rule.ports ? { ports: rule.ports } : {}), cidr: rule.cidr ?? { network: 0, prefixLength: 0 } })),
      },
    })),
  fc.constantFrom('a0', 'a1').map((id): IntentChange => ({ kind: 'networkAcl', op: 'delete', id })),
);
const arbEndpointChange: fc.Arbitrary<IntentChange> = fc.oneof(
  { weight: 3, arbitrary: arbEndpoint.map((endpoint): IntentChange => ({ kind: 'endpoint', op: 'add', endpoint })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(arbEndpoint, fc.option(fc.subarray(groupIds, { minLength: 1 }), { freq: 3 }))
      .map(([endpoint, groups]): IntentChange => ({ kind: 'endpoint', op: 'add', endpoint: groups ? { ...endpoint, securityGroups: groups } : endpoint })),
  },
  { weight: 1, arbitrary: fc.constantFrom('e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7').map((id): IntentChange => ({ kind: 'endpoint', op: 'delete', id })) },
);
const arbLinkChange: fc.Arbitrary<IntentChange> = fc
  .record({ leaf: fc.constantFrom('leaf1', 'leaf2', 'leaf3'), port: fc.constantFrom(5, 6), up: fc.boolean() })
  .map(({ leaf, port, up }): IntentChange => ({ kind: 'link', op: up ? 'up' : 'down', link: { switch: leaf, port } }));
const arbChange = fc.oneof(
  { weight: 1, arbitrary: arbVpcChange },
  { weight: 1, arbitrary: arbSubnetChange },
  { weight: 8, arbitrary: arbEndpointChange },
  { weight: 1, arbitrary: arbLinkChange },
  { weight: 3, arbitrary: arbGroupChange },
  { weight: 1, arbitrary: arbAclChange },
);

describe('incremental == full recompute', () => {
  it('after every change of random sequences; deltas replay onto the installed tables', () => {
    fc.assert(
      fc.property(fc.array(arbChange, { minLength: 1, maxLength: 25 }), (changes) => {
        // Start with VPCs and subnets in place (vc claims va's VNI: dark until va goes), endpoints arrive.
        let intent: Intent = {
          vpcs: new Map([vpc('va', 1), vpc('vb', 2), vpc('vc', 1)].map((v) => [v.id, v])),
          subnets: new Map(['s0', 's1', 's2', 's3'].map((id) => [id, subnet(id, SUBNET_VPC[id], id === 's1' ? 1 : 0)])),
          endpoints: new Map(),
        };
        const compiler = createIncrementalCompiler(smallUnderlay, intent);
        let topo: Topology = smallUnderlay;
        const installed = installedOf(compiler.tables());
        for (const change of changes) {
          const delta = compiler.apply(change);
          applyDelta(installed, delta);
          intent = applyToIntent(intent, change);
          topo = compiler.topology();
          const tables = compiler.tables();
          expect(canonical(tables)).toEqual(canonical(fullCompile(topo, intent)));
          sameAsInstalled(installed, tables);
          for (const flows of tables.values()) expect(new Set(flows.map(flowKey)).size).toBe(flows.length);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('what one change touches', () => {
  const cookiesIn = (delta: TablesDelta) => new Set([...delta.values()].flatMap((d) => [...d.add, ...d.remove].map((f) => f.cookie)));

  it('adding an endpoint on a switch where its VPC already is changes only that endpoint\'s flows', () => {
    const compiler = createIncrementalCompiler(topology, twoVpcIntent());
    const delta = compiler.apply({ kind: 'endpoint', op: 'add', endpoint: endpoint('r6', 'red', 'red-a', 101, 11, 0x0200000a0006, ip(10, 0, 0, 20)) });
    expect(cookiesIn(delta)).toEqual(new Set([endpointCookie('r6')]));
    expect([...delta.values()].every((d) => d.remove.length === 0)).toBe(true);
    // ...and deleting it again takes exactly those flows away.
    const back = compiler.apply({ kind: 'endpoint', op: 'delete', id: 'r6' });
    expect(cookiesIn(back)).toEqual(new Set([endpointCookie('r6')]));
    expect(canonical(compiler.tables())).toEqual(canonical(fullCompile(topology, twoVpcIntent())));
  });

  it('moving an endpoint to another port of the same switch touches its own flows only', () => {
    const compiler = createIncrementalCompiler(topology, twoVpcIntent());
    const r3 = twoVpcIntent().endpoints.get('r3') as Endpoint;
    const delta = compiler.apply({ kind: 'endpoint', op: 'update', endpoint: { ...r3, port: 12 } });
    expect(cookiesIn(delta)).toEqual(new Set([endpointCookie('r3')]));
  });

  it('an endpoint that brings its VPC to a new switch touches only that VPC\'s owners', () => {
    const compiler = createIncrementalCompiler(topology, twoVpcIntent());
    compiler.apply({ kind: 'vpc', op: 'add', vpc: vpc('green', 3) });
    compiler.apply({ kind: 'subnet', op: 'add', subnet: subnet('green-a', 'green', 0) });
    compiler.apply({ kind: 'endpoint', op: 'add', endpoint: endpoint('g1', 'green', 'green-a', 101, 11, 0x0200000c0001, ip(10, 0, 0, 10)) });
    const delta = compiler.apply({ kind: 'endpoint', op: 'add', endpoint: endpoint('g2', 'green', 'green-a', 102, 11, 0x0200000c0002, ip(10, 0, 0, 11)) });
    // green was on leaf1 only; now on leaf2 too: g1, the subnet and the VPC gain flows there (and on
    // the spines between), nobody else changes.
    expect(cookiesIn(delta)).toEqual(new Set([endpointCookie('g1'), endpointCookie('g2'), subnetCookie('green-a'), vpcCookie('green')]));
    expect(canonical(compiler.tables())).toEqual(canonical(fullCompile(topology, compiler.intent())));
  });

  it("a subnet's new CIDR reaches its endpoints' flows, and deleting the subnet darkens them", () => {
    const compiler = createIncrementalCompiler(topology, twoVpcIntent());
    const wider = { ...subnet('red-a', 'red', 0), cidr: { network: ip(10, 0, 0, 0), prefixLength: 23 } };
    const delta = compiler.apply({ kind: 'subnet', op: 'update', subnet: wider });
    expect(cookiesIn(delta)).toEqual(new Set([subnetCookie('red-a'), endpointCookie('r1'), endpointCookie('r2'), endpointCookie('r3')]));
    expect(canonical(compiler.tables())).toEqual(canonical(fullCompile(topology, compiler.intent())));
    compiler.apply({ kind: 'subnet', op: 'delete', id: 'red-b' });
    expect(canonical(compiler.tables())).toEqual(canonical(fullCompile(topology, compiler.intent())));
    expect([...compiler.tables().values()].flat().some((f) => f.cookie === endpointCookie('r4'))).toBe(false);
  });

  it('a change that changes nothing returns an empty delta', () => {
    const compiler = createIncrementalCompiler(topology, twoVpcIntent());
    const r1 = twoVpcIntent().endpoints.get('r1') as Endpoint;
    expect(compiler.apply({ kind: 'endpoint', op: 'update', endpoint: { ...r1, labels: { app: 'x' } } }).size).toBe(0);
    expect(compiler.apply({ kind: 'link', op: 'up', link: { switch: 'leaf1', port: 5 } }).size).toBe(0);
  });
});

describe('links going down', () => {
  it('a spine link down reroutes through the other spine; traffic resumes; up again restores the tables', () => {
    const intent = twoVpcIntent();
    const compiler = createIncrementalCompiler(topology, intent);
    const before = canonical(compiler.tables());
    const installed = installedOf(compiler.tables());
    const eps = [...intent.endpoints.values()];
    const pairs = eps.flatMap((a) => eps.filter((b) => b !== a && b.vpcId === a.vpcId && b.subnetId === a.subnetId).map((b) => [a, b] as const));
    const reach = () => {
      const sim = createFrameSim(compiler.topology(), compiler.tables(), intent);
      return pairs.map(([a, b]) => {
        const r = sim.fromEndpoint(a, udpFrame(a, b));
        return [`${a.id}>${b.id}`, r.received.map((x) => x.to), r.path] as const;
      });
    };
    const ok = reach();
    expect(ok.every(([, to], i) => to.length === 1 && to[0] === `endpoint:${pairs[i][1].id}`)).toBe(true);
    expect(ok.some(([, , path]) => path.includes('spine1'))).toBe(true);

    // leaf1's and leaf2's links to spine1 go down.
    applyDelta(installed, compiler.apply({ kind: 'link', op: 'down', link: { switch: 'leaf1', port: 5 } }));
    applyDelta(installed, compiler.apply({ kind: 'link', op: 'down', link: 'leaf2:5~spine1:2' }));
    sameAsInstalled(installed, compiler.tables());
    const rerouted = reach();
    for (const [name, to, path] of rerouted) {
      expect(to, name).toHaveLength(1);
      if (path[0] === 'leaf1' || path[0] === 'leaf2' || path.at(-1) === 'leaf1' || path.at(-1) === 'leaf2') {
        expect(path.includes('spine1'), `${name} via ${path.join(' > ')}`).toBe(false);
      }
    }
    applyDelta(installed, compiler.apply({ kind: 'link', op: 'up', link: { switch: 'leaf1', port: 5 } }));
    applyDelta(installed, compiler.apply({ kind: 'link', op: 'up', link: { switch: 'leaf2', port: 5 } }));
    expect(canonical(compiler.tables())).toEqual(before);
    sameAsInstalled(installed, compiler.tables());
  });

  it('an unknown link is a typed error', () => {
    const compiler = createIncrementalCompiler(topology, twoVpcIntent());
    expect(() => compiler.apply({ kind: 'link', op: 'down', link: 'nope' })).toThrow(expect.objectContaining({ code: 'OVC_ERR_TOPO_UNKNOWN_LINK' }));
  });
});

function udpFrame(a: Endpoint, b: Endpoint): Uint8Array {
  return buildUdpFrame({ srcMac: a.mac, dstMac: b.mac, srcIp: a.ip, dstIp: b.ip, srcPort: 1, dstPort: 2 });
}
