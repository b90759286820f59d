/**
 * The commit protocol, across every kind of change: what the listeners hear, replayed on the state
 * before, gives the state in memory, and the store reloads the same state.
 */
import { describe, expect, it } from 'vitest';
import { createIntentService, type CommittedChange } from '../../../src/controller/intent/index.js';
import { openIntentStore } from '../../../src/controller/store/index.js';
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
});
