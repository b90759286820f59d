import { describe, expect, it } from 'vitest';
import { createIntentService, type CommittedChange } from '../../../src/controller/intent/index.js';
import { openIntentStore } from '../../../src/controller/store/index.js';
import { isOvercastError } from '../../../src/errors/index.js';
import { TOPOLOGY } from './fixtures.js';

async function setup() {
  const store = openIntentStore(':memory:');
  const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store });
  const batches: CommittedChange[][] = [];
  const unsubscribe = svc.onChange((changes) => batches.push([...changes]));
  return { svc, batches, unsubscribe };
}

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    if (isOvercastError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe('IntentService change records', () => {
  it('reports each committed change once, with whole before/after values', async () => {
    const { svc, batches } = await setup();
    const vpc = await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const renamed = await svc.vpcs.update(vpc.id, { name: 'b' });
    const subnet = await svc.subnets.create(vpc.id, { cidr: '10.0.1.0/24' });
    const ep = await svc.endpoints.create({ kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2, labels: { function: 'f' } });
    const moved = await svc.endpoints.update(ep.id, { port: 3 });
    await svc.endpoints.delete(ep.id);
    const sg = svc.securityGroups.get('sg-1');
    expect(batches).toEqual([
      [
        { kind: 'vpc', op: 'add', after: vpc },
        { kind: 'securityGroup', op: 'add', after: sg },
      ],
      [{ kind: 'vpc', op: 'update', before: vpc, after: renamed }],
      [{ kind: 'subnet', op: 'add', after: subnet }],
      [{ kind: 'endpoint', op: 'add', after: ep }],
      [{ kind: 'endpoint', op: 'update', before: ep, after: moved }],
      [{ kind: 'endpoint', op: 'delete', before: moved }],
    ]);
    expect(moved).toEqual({ ...ep, port: 3 });
  });

  it('reports a VPC delete with its subnets in one batch, subnets first', async () => {
    const { svc, batches } = await setup();
    const vpc = await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const s1 = await svc.subnets.create(vpc.id, { cidr: '10.0.1.0/24' });
    const s2 = await svc.subnets.create(vpc.id, { cidr: '10.0.2.0/24' });
    const sg = svc.securityGroups.get('sg-1');
    batches.length = 0;
    await svc.vpcs.delete(vpc.id);
    expect(batches).toEqual([
      [
        { kind: 'subnet', op: 'delete', before: s1 },
        { kind: 'subnet', op: 'delete', before: s2 },
        { kind: 'securityGroup', op: 'delete', before: sg },
        { kind: 'vpc', op: 'delete', before: vpc },
      ],
    ]);
  });

  it('reports topology changes with the topology before and after', async () => {
    const { svc, batches } = await setup();
    const before = svc.topology.get();
    const after = await svc.topology.setLinkUp('s1:8~s2:8', false);
    expect(batches).toEqual([[{ kind: 'topology', before, topology: after }]]);
    expect(after.links[0].up).toBe(false);
    expect(before.links[0].up).toBe(true);
  });

  it('reports nothing for refusals and no-op updates', async () => {
    const { svc, batches } = await setup();
    const vpc = await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const subnet = await svc.subnets.create(vpc.id, { cidr: '10.0.1.0/24' });
    const ep = await svc.endpoints.create({ kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2 });
    batches.length = 0;
    expect(await codeOf(() => svc.subnets.create(vpc.id, { cidr: '10.0.1.0/25' }))).toBe('OVC_ERR_SUBNET_OVERLAP');
    expect(await codeOf(() => svc.vpcs.delete(vpc.id))).toBe('OVC_ERR_VPC_HAS_ENDPOINTS');
    expect(await codeOf(() => svc.topology.removeSwitch('s1'))).toBe('OVC_ERR_TOPO_SWITCH_HAS_ENDPOINTS');
    expect(await svc.endpoints.update(ep.id, { dpid: 1, port: 2, labels: {} })).toBe(ep);
    expect(await svc.vpcs.update(vpc.id, { name: 'a', cidr: '10.0.0.0/16' })).toBe(vpc);
    expect(await svc.topology.setLinkUp('s1:8~s2:8', true)).toBe(svc.topology.get());
    expect(batches).toEqual([]);
  });

  it('keeps a handed-out intent unchanged by later changes', async () => {
    const { svc } = await setup();
    const vpc = await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const snapshot = svc.intent();
    expect(svc.intent()).toBe(snapshot);
    await svc.vpcs.create({ name: 'b', cidr: '10.0.0.0/16' });
    await svc.vpcs.update(vpc.id, { name: 'c' });
    expect([...snapshot.vpcs.values()]).toEqual([vpc]);
    expect(svc.intent().vpcs.size).toBe(2);
  });

  it('acknowledges a change even when a listener throws; unsubscribed listeners hear nothing', async () => {
    const { svc, batches, unsubscribe } = await setup();
    svc.onChange(() => {
      throw new Error('consumer bug');
    });
    unsubscribe();
    const vpc = await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    expect(svc.vpcs.get(vpc.id)).toBe(vpc);
    expect(batches).toEqual([]);
  });

  it('allocates addresses from the lowest free one over many creates and deletes', async () => {
    const { svc } = await setup();
    const vpc = await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const subnet = await svc.subnets.create(vpc.id, { cidr: '10.0.0.0/29' }); // hosts .1-.6, gateway .1
    const port = [2, 3, 4, 5, 6, 7];
    const eps = await Promise.all(port.slice(0, 5).map((p) => svc.endpoints.create({ kind: 'host', vpc: vpc.id, subnet: subnet.id, dpid: 2, port: p })));
    expect(eps.map((e) => e.ip & 0xff)).toEqual([2, 3, 4, 5, 6]);
    expect(await codeOf(() => svc.endpoints.create({ kind: 'host', vpc: vpc.id, subnet: subnet.id, dpid: 2, port: 7 }))).toBe('OVC_ERR_SUBNET_EXHAUSTED');
    await svc.endpoints.delete(eps[3].id);
    await svc.endpoints.delete(eps[1].id);
    const again = await Promise.all([7, 3].map((p) => svc.endpoints.create({ kind: 'host', vpc: vpc.id, subnet: subnet.id, dpid: 2, port: p })));
    expect(again.map((e) => e.ip & 0xff)).toEqual([3, 5]);
  });
});
