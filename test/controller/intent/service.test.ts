/**
 * The commit protocol, across every kind of change: what the listeners hear, replayed on the state
 * before, gives the state in memory, and the store reloads the same state.
 */
import { describe, expect, it } from 'vitest';
import { createIntentService, type CommittedChange } from '../../../src/controller/intent/index.js';
import { formatId, openIntentStore, type StoreWrite } from '../../../src/controller/store/index.js';
import { parseTopology, type Intent, type Topology } from '../../../src/model/index.js';
import { tempDir } from '../store/fixtures.js';

const TOPOLOGY = parseTopology(`
name: g
switches:
  - { name: s1, dpid: 1, ports: [1, 2, 3, 4, 9] }
  - { name: s2, dpid: 2, ports: [1, 2, 3] }
links:
  - [s1:4, s2:1]
gateways:
  - { name: gw1, attach: s1:9, mac: "0a:00:00:00:00:fe", ip: 198.51.100.1/24, routerMac: "02:00:00:00:01:10", publicPool: 203.0.113.0/29 }
`);

interface State {
  intent: Intent;
  topology: Topology;
}

const FIELD = {
  vpc: 'vpcs',
  subnet: 'subnets',
  endpoint: 'endpoints',
  elasticIp: 'elasticIps',
  loadBalancer: 'loadBalancers',
  volume: 'volumes',
  attachment: 'attachments',
  securityGroup: 'securityGroups',
  networkAcl: 'networkAcls',
} as const;

function replay(state: State, c: CommittedChange): State {
  if (c.kind === 'topology') {
    expect(c.before).toBe(state.topology);
    return { ...state, topology: c.topology };
  }
  const map = new Map<string, { id: string }>(state.intent[FIELD[c.kind]] ?? []);
  if (c.op === 'add') expect(map.has(c.after.id)).toBe(false);
  else expect(map.get(c.before.id)).toEqual(c.before);
  if (c.op === 'delete') map.delete(c.before.id);
  else map.set(c.after.id, c.after);
  return { ...state, intent: { ...state.intent, [FIELD[c.kind]]: map } };
}

describe('intent service commit', () => {
  it('stores, applies and reports each change alike, for every kind', async () => {
    const tmp = tempDir();
    try {
      const store = openIntentStore(tmp.file);
      const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store });
      let replayed: State = { intent: svc.intent(), topology: svc.topology.get() };
      svc.onChange((changes) => {
        for (const c of changes) replayed = replay(replayed, c);
      });

      const vpc = await svc.vpcs.create({ name: 'v', cidr: '10.0.0.0/16' });
      const other = await svc.vpcs.create({ name: 'w', cidr: '10.1.0.0/16' });
      await svc.vpcs.update(vpc.id, { name: 'vv' });
      const subnet = await svc.subnets.create(vpc.id, { cidr: '10.0.1.0/24' });
      await svc.subnets.create(other.id, { cidr: '10.1.1.0/24' });
      const e1 = await svc.endpoints.create({ kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 1, labels: { function: 'f', revision: 'v1' } });
      const e2 = await svc.endpoints.create({ kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2, labels: { function: 'f', revision: 'v1' } });
      await svc.endpoints.update(e2.id, { dpid: 2, port: 2 });
      const eip = await svc.elasticIps.allocate({ endpoint: e1.id });
      const spare = await svc.elasticIps.allocate({});
      await svc.elasticIps.update(spare.id, { endpoint: e2.id });
      await svc.elasticIps.update(spare.id, { endpoint: null });
      const lbEip = await svc.elasticIps.allocate({});
      const lb = await svc.loadBalancers.create({ vpc: vpc.id, vip: '10.0.0.200', protocol: 'udp', port: 80, function: 'f', elasticIp: lbEip.id });
      await svc.loadBalancers.update(lb.id, { weights: { v1: 3 } });
      await svc.loadBalancers.setBackendHealth(lb.id, e2.id, false, 'probe');
      await svc.endpoints.delete(e1.id); // disassociates eip in the same transaction
      await svc.elasticIps.release(spare.id);
      await svc.vpcs.delete(other.id); // deletes its subnet in the same transaction
      await svc.topology.addSwitch({ name: 's3', dpid: 3, ports: [{ number: 1 }] });
      await svc.topology.addLink({ switch: 's3', port: 1 }, { switch: 's2', port: 3 }, true);
      await svc.topology.setLinkUp('s1:4~s2:1', false);

      expect(svc.elasticIps.get(eip.id).endpointId).toBeUndefined();
      expect(replayed.intent).toEqual(svc.intent());
      expect(replayed.topology).toBe(svc.topology.get());
      const reloaded = await createIntentService({}, { store });
      expect(reloaded.intent()).toEqual(svc.intent());
      expect(reloaded.topology.get()).toEqual(svc.topology.get());
      store.close();
    } finally {
      tmp.remove();
    }
  });

  it('opens a store from before security groups with 200,000 endpoints: every one joins its default group', async () => {
    const store = openIntentStore(':memory:');
    const state = await store.load();
    const n = 200_000;
    const writes: StoreWrite[] = [
      { kind: 'vpc', id: 'vpc-1', value: { id: 'vpc-1', name: 'big', cidr: { network: 0x0a000000, prefixLength: 8 }, vni: 1 } },
      { kind: 'subnet', id: 'subnet-1', value: { id: 'subnet-1', vpcId: 'vpc-1', name: 'all', cidr: { network: 0x0a000000, prefixLength: 8 }, gateway: 0x0a000001 } },
    ];
    for (let i = 1; i <= n; i++) {
      const id = formatId('endpoint', i);
      writes.push({ kind: 'endpoint', id, value: { id, kind: 'function', vpcId: 'vpc-1', subnetId: 'subnet-1', dpid: 1, port: 100 + i, mac: 0x060000000000 + i, ip: 0x0a000001 + i, labels: {} } });
    }
    const committed = await store.commit({ basedOn: state.revision, writes, lastSeq: { vpc: 1, subnet: 1, endpoint: n } });
    expect(committed.ok).toBe(true);
    const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store });
    const [group] = [...svc.intent().securityGroups?.values() ?? []];
    expect(group?.isDefault).toBe(true);
    const endpoints = [...svc.intent().endpoints.values()];
    expect(endpoints.length).toBe(n);
    expect(endpoints.every((e) => e.securityGroups?.[0] === group?.id)).toBe(true);
    await svc.close();
  }, 120_000); // 200,000 endpoints: a migration past what a spread call's arguments hold; slow on a loaded machine
});

