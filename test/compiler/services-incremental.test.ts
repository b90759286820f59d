/**
 * incremental == full recompute with elastic IPs, load balancers, volumes and attachments in the change
 * mix (conflicts on purpose: shared public IPs, shared endpoints, shared VIPs, volumes sharing targets,
 * one endpoint attached to several volumes granting the same ports, volumes' qos as meters), groups and
 * meters included; deltas replayed controller-style (flows, group mods and meter mods) give the same tables.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createIncrementalCompiler, fullCompile, type IntentChange, type TablesDelta } from '../../src/compiler/index.js';
import { flowKey, type FlowEntry, type GroupEntry, type MeterEntry } from '../../src/flow/index.js';
import type { Attachment, ElasticIp, Endpoint, Intent, LoadBalancer, Volume } from '../../src/model/index.js';
import { ip, subnet, vpc } from './vpc-fixture.js';
import { fnEndpoint, gatewayTopology, serviceIntent, twoGatewayTopology } from './service-fixture.js';

// One gateway, and two serving the same pool (outbound by the nearest, which links going down change).
const topologies = [
  ['one gateway', { ...gatewayTopology(), hosts: [] }],
  ['two gateways', { ...twoGatewayTopology(), hosts: [] }],
] as const;

function canonical(tables: ReadonlyMap<number, readonly FlowEntry[]>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [dpid, flows] of tables) {
    out.set(dpid, flows.map((f) => `${flowKey(f)} => ${f.cookie} ${JSON.stringify([f.actions, f.writeMetadata ?? null, f.gotoTable ?? null, f.meterId ?? null])}`).sort());
  }
  return out;
}

function canonicalGroups(groups: ReadonlyMap<number, readonly (GroupEntry | MeterEntry)[]>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [dpid, gs] of groups) if (gs.length > 0) out.set(dpid, gs.map((g) => JSON.stringify(g)).sort());
  return out;
}

function applyToIntent(intent: Intent, c: IntentChange): Intent {
  const endpoints = new Map(intent.endpoints);
  const elasticIps = new Map(intent.elasticIps);
  const loadBalancers = new Map(intent.loadBalancers);
  const volumes = new Map(intent.volumes);
  const attachments = new Map(intent.attachments);
  if (c.kind === 'endpoint') {
    if (c.op === 'delete') endpoints.delete(c.id);
    else endpoints.set(c.endpoint.id, c.endpoint);
  }
  if (c.kind === 'elasticIp') {
    if (c.op === 'delete') elasticIps.delete(c.id);
    else elasticIps.set(c.elasticIp.id, c.elasticIp);
  }
  if (c.kind === 'loadBalancer') {
    if (c.op === 'delete') loadBalancers.delete(c.id);
    else loadBalancers.set(c.loadBalancer.id, c.loadBalancer);
  }
  if (c.kind === 'volume') {
    if (c.op === 'delete') volumes.delete(c.id);
    else volumes.set(c.volume.id, c.volume);
  }
  if (c.kind === 'attachment') {
    if (c.op === 'delete') attachments.delete(c.id);
    else attachments.set(c.attachment.id, c.attachment);
  }
  return { ...intent, endpoints, elasticIps, loadBalancers, volumes, attachments };
}

const epIds = ['e0', 'e1', 'e2', 'e3', 'e4'];
const arbEndpoint: fc.Arbitrary<Endpoint> = fc
  .record({
    i: fc.integer({ min: 0, max: 4 }),
    dpid: fc.constantFrom(101, 102, 103, 104),
    port: fc.constantFrom(7, 8, 9),
    rev: fc.constantFrom('v1', 'v2'),
    fn: fc.constantFrom('resize', 'other'),
    blue: fc.integer({ min: 0, max: 2 }).map((x) => x === 0),
  })
  .map(({ i, dpid, port, rev, fn, blue }) => {
    const e = fnEndpoint(epIds[i], dpid, port, i + 1, { function: fn, revision: rev });
    // Blue overlaps red's CIDR: its endpoints mount red's volumes through mount addresses.
    return blue ? { ...e, vpcId: 'blue', subnetId: 'blue-a' } : e;
  });
const arbEip: fc.Arbitrary<ElasticIp> = fc
  .record({ id: fc.constantFrom('x1', 'x2', 'x3'), host: fc.constantFrom(5, 6, 40), ep: fc.option(fc.constantFrom(...epIds, 'nobody'), { freq: 4 }) })
  .map(({ id, host, ep }) => (ep === null ? { id, publicIp: ip(203, 0, 113, host) } : { id, publicIp: ip(203, 0, 113, host), endpointId: ep }));
const arbLb: fc.Arbitrary<LoadBalancer> = fc
  .record({ id: fc.constantFrom('l1', 'l2'), vip: fc.constantFrom(200, 201), w: fc.constantFrom<Record<string, number>[]>({}, { v1: 90, v2: 10 }, { v2: 1 }), sick: fc.subarray(epIds, { maxLength: 2 }), eip: fc.option(fc.constantFrom('x1', 'x2', 'x3'), { freq: 2 }) })
  .map(({ id, vip, w, sick, eip }): LoadBalancer => {
    const lb: LoadBalancer = { id, vpcId: 'red', vip: ip(10, 0, 0, vip), protocol: 'udp', port: 80, backendPort: 80, function: 'resize', weights: w, unhealthy: sick };
    return eip === null ? lb : { ...lb, elasticIpId: eip };
  });
const arbVolume: fc.Arbitrary<Volume> = fc
  .record({
    id: fc.constantFrom('v1', 'v2', 'v3'),
    targets: fc.subarray(epIds, { minLength: 1, maxLength: 3 }),
    ports: fc.constantFrom([2049, 111], [3260], [2049]),
    protocol: fc.constantFrom<Volume['protocol']>('nfs', 'gluster'),
    unhealthy: fc.subarray(epIds, { maxLength: 2 }),
    qos: fc.option(fc.constantFrom({ pps: 100 }, { pps: 250 }, { mbps: 10 }, { mbps: 5, pps: 100 }), { freq: 2 }),
  })
  .map(
    ({ id, targets, ports, protocol, unhealthy, qos }): Volume => ({
      id,
      name: id,
      protocol,
      targets,
      ports,
      ...(unhealthy.length > 0 ? { unhealthy } : {}),
      ...(qos ? { qos } : {}),
    }),
  );
const attIds = ['a1', 'a2', 'a3', 'a4'];
const arbAttachment: fc.Arbitrary<Attachment> = fc
  .record({
    i: fc.integer({ min: 0, max: 3 }),
    volumeId: fc.constantFrom('v1', 'v2', 'v3', 'v9'),
    endpointId: fc.constantFrom(...epIds),
    // Mount addresses: none (stored before schema 10), one (single-address), one per brick (any targets: stale ones included).
    mounts: fc.constantFrom<(string | undefined)[] | null>(null, [undefined], ['e0', 'e1'], ['e2', 'e3', 'e4']),
  })
  .map(({ i, volumeId, endpointId, mounts }): Attachment => {
    const a: Attachment = { id: attIds[i], volumeId, endpointId, mode: 'rw' };
    if (mounts === null) return a;
    return {
      ...a,
      mounts: mounts.map((target, k) => ({ ip: ip(10, 0, 0, 100 + 8 * i + k), ...(target === undefined ? {} : { target }) })),
      source: { subnetId: 'red-a', ip: ip(10, 0, 0, 150 + i) },
    };
  });
const arbChange: fc.Arbitrary<IntentChange> = fc.oneof(
  { weight: 4, arbitrary: arbEndpoint.map((endpoint): IntentChange => ({ kind: 'endpoint', op: 'update', endpoint })) },
  { weight: 1, arbitrary: fc.constantFrom(...epIds).map((id): IntentChange => ({ kind: 'endpoint', op: 'delete', id })) },
  { weight: 3, arbitrary: arbEip.map((elasticIp): IntentChange => ({ kind: 'elasticIp', op: 'update', elasticIp })) },
  { weight: 1, arbitrary: fc.constantFrom('x1', 'x2', 'x3').map((id): IntentChange => ({ kind: 'elasticIp', op: 'delete', id })) },
  { weight: 3, arbitrary: arbLb.map((loadBalancer): IntentChange => ({ kind: 'loadBalancer', op: 'update', loadBalancer })) },
  { weight: 1, arbitrary: fc.constantFrom('l1', 'l2').map((id): IntentChange => ({ kind: 'loadBalancer', op: 'delete', id })) },
  { weight: 2, arbitrary: arbVolume.map((volume): IntentChange => ({ kind: 'volume', op: 'update', volume })) },
  { weight: 1, arbitrary: fc.constantFrom('v1', 'v2', 'v3').map((id): IntentChange => ({ kind: 'volume', op: 'delete', id })) },
  { weight: 3, arbitrary: arbAttachment.map((attachment): IntentChange => ({ kind: 'attachment', op: 'update', attachment })) },
  { weight: 1, arbitrary: fc.constantFrom(...attIds).map((id): IntentChange => ({ kind: 'attachment', op: 'delete', id })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ leaf: fc.constantFrom('leaf1', 'leaf3'), port: fc.constantFrom(5, 6), up: fc.boolean() })
      .map(({ leaf, port, up }): IntentChange => ({ kind: 'link', op: up ? 'up' : 'down', link: { switch: leaf, port } })),
  },
);

describe.each(topologies)('incremental == full recompute with elastic IPs, load balancers and volumes (%s)', (_name, topology) => {
  it('after every change; flow deltas, group mods and meter mods replay onto the installed tables', () => {
    fc.assert(
      fc.property(fc.array(arbChange, { minLength: 1, maxLength: 20 }), (changes) => {
        const base = serviceIntent([]);
        let intent: Intent = { ...base, vpcs: new Map([...base.vpcs, ['blue', vpc('blue', 2)]]), subnets: new Map([...base.subnets, ['blue-a', subnet('blue-a', 'blue', 0)]]) };
        const compiler = createIncrementalCompiler(topology, intent);
        const installed = new Map([...compiler.tables()].map(([d, fs]) => [d, new Map(fs.map((f) => [flowKey(f), f]))]));
        // The VNI block's label groups are there from the start.
        const installedGroups = new Map([...compiler.groups()].map(([d, gs]) => [d, new Map(gs.map((g): [number, GroupEntry] => [g.groupId, g]))]));
        const installedMeters = new Map<number, Map<number, MeterEntry>>();
        const replay = (delta: TablesDelta) => {
          for (const [dpid, d] of delta) {
            const t = installed.get(dpid) ?? new Map<string, FlowEntry>();
            installed.set(dpid, t);
            const g = installedGroups.get(dpid) ?? new Map<number, GroupEntry>();
            installedGroups.set(dpid, g);
            for (const m of d.groupMods ?? []) {
              if (m.command === 'add') expect(g.has(m.group.groupId)).toBe(false);
              else expect(g.has(m.group.groupId)).toBe(true);
              if (m.command === 'delete') g.delete(m.group.groupId);
              else g.set(m.group.groupId, m.group);
            }
            const meters = installedMeters.get(dpid) ?? new Map<number, MeterEntry>();
            installedMeters.set(dpid, meters);
            for (const m of d.meterMods ?? []) {
              expect(meters.has(m.meter.meterId)).toBe(m.command !== 'add');
              if (m.command === 'delete') meters.delete(m.meter.meterId);
              else meters.set(m.meter.meterId, m.meter);
            }
            // A flow never names a meter the switch does not have once the delta is applied.
            for (const f of d.add) if (f.meterId !== undefined) expect(meters.has(f.meterId)).toBe(true);
            for (const f of d.add) t.set(flowKey(f), f);
            for (const f of d.remove) t.delete(flowKey(f));
          }
        };
        for (const change of changes) {
          replay(compiler.apply(change));
          intent = applyToIntent(intent, change);
          const full = createIncrementalCompiler(compiler.topology(), intent);
          expect(canonical(compiler.tables())).toEqual(canonical(fullCompile(compiler.topology(), intent)));
          expect(canonicalGroups(compiler.groups())).toEqual(canonicalGroups(full.groups()));
          expect(canonical(new Map([...installed].map(([d, t]) => [d, [...t.values()]])))).toEqual(canonical(compiler.tables()));
          expect(canonicalGroups(new Map([...installedGroups].map(([d, g]) => [d, [...g.values()]])))).toEqual(canonicalGroups(compiler.groups()));
          expect(canonicalGroups(compiler.meters())).toEqual(canonicalGroups(full.meters()));
          expect(canonicalGroups(new Map([...installedMeters].map(([d, m]) => [d, [...m.values()]])))).toEqual(canonicalGroups(compiler.meters()));
          for (const [dpid, flows] of compiler.tables()) {
            const ids = new Set((compiler.meters().get(dpid) ?? []).map((m) => m.meterId));
            for (const f of flows) if (f.meterId !== undefined) expect(ids.has(f.meterId)).toBe(true);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('load balancer pools follow their endpoints', () => {
  it("an endpoint moving to another VPC leaves the pool of its old VPC's load balancer", () => {
    const backends = [fnEndpoint('e1', 101, 7, 1, { function: 'resize' }), fnEndpoint('e2', 101, 8, 2, { function: 'resize' })];
    const lb: LoadBalancer = { id: 'l1', vpcId: 'red', vip: ip(10, 0, 0, 200), protocol: 'udp', port: 80, backendPort: 80, function: 'resize', weights: {}, unhealthy: [] };
    const base = serviceIntent(backends);
    const intent: Intent = {
      ...base,
      vpcs: new Map([...base.vpcs, ['blue', vpc('blue', 2)]]),
      subnets: new Map([...base.subnets, ['blue-a', subnet('blue-a', 'blue', 0)]]),
      loadBalancers: new Map([[lb.id, lb]]),
    };
    const topology = { ...gatewayTopology(), hosts: [] };
    const compiler = createIncrementalCompiler(topology, intent);
    // e2 stays on the same switch, so red's presence does not change: only the pool edge tells the LB.
    compiler.apply({ kind: 'endpoint', op: 'update', endpoint: { ...backends[0], vpcId: 'blue', subnetId: 'blue-a' } });
    const full = createIncrementalCompiler(topology, compiler.intent());
    expect(canonical(compiler.tables())).toEqual(canonical(full.tables()));
    expect(canonicalGroups(compiler.groups())).toEqual(canonicalGroups(full.groups()));
  });
});
