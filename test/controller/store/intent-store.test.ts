import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIntentService } from '../../../src/controller/intent-service.js';
import { INTENT_STORE_FILE, SCHEMA_VERSION, openIntentStore, openIntentStoreInDir } from '../../../src/controller/store/index.js';
import { isOvercastError } from '../../../src/errors/index.js';
import { parseTopology } from '../../../src/model/index.js';
import { parseIpv4 } from '../../../src/net/index.js';
import { TOPOLOGY, tempDir } from './fixtures.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  tmp.remove();
});

describe('intent store', () => {
  it('reloads exactly the state it held: intent in id order, topology, and id counters', () => {
    const store = openIntentStore(tmp.file);
    const svc = createIntentService({ seedTopology: TOPOLOGY }, { store });
    const a = svc.createVpc({ name: 'a', cidr: '10.0.0.0/16' });
    const b = svc.createVpc({ name: 'b', cidr: '10.0.0.0/16' });
    const gone = svc.createVpc({ name: 'gone', cidr: '172.16.0.0/12' });
    const sa = svc.createSubnet(a.id, { cidr: '10.0.1.0/24' });
    const sb = svc.createSubnet(b.id, { name: 'b1', cidr: '10.0.1.0/24', gateway: '10.0.1.254' });
    svc.createSubnet(gone.id, { cidr: '172.16.0.0/24' });
    const e1 = svc.createEndpoint({ kind: 'function', vpc: a.id, subnet: sa.id, dpid: 1, port: 2, labels: { function: 'resize', revision: 'v2' } });
    svc.createEndpoint({ kind: 'storage', vpc: b.id, subnet: sb.id, dpid: 2, port: 2, mac: '02:00:00:00:aa:01', ip: '10.0.1.7' });
    const e3 = svc.createEndpoint({ kind: 'container', vpc: a.id, subnet: sa.id, dpid: 1, port: 3 });
    svc.updateEndpoint(e1.id, { dpid: 2, port: 5, labels: { function: 'resize' } });
    svc.deleteEndpoint(e3.id);
    svc.updateVpc(b.id, { name: 'bee' });
    svc.deleteVpc(gone.id);
    svc.addSwitch({ name: 's3', dpid: 3, ports: [{ number: 1, name: 'up' }, { number: 2 }] });
    svc.addLink({ switch: 's3', port: 1 }, { switch: 's1', port: 7 }, false);
    svc.setLinkUp('s1:8~s2:8', false);
    const intent = svc.intent();
    const topology = svc.topology();
    store.close();

    const reopened = openIntentStore(tmp.file);
    // The store owns the topology now: a different seed is ignored.
    const again = createIntentService({ seedTopology: parseTopology('name: other\nswitches: []') }, { store: reopened });
    expect(again.intent()).toEqual(intent);
    expect([...again.intent().vpcs.keys()]).toEqual([...intent.vpcs.keys()]);
    expect([...again.intent().endpoints.keys()]).toEqual([...intent.endpoints.keys()]);
    expect(again.topology()).toEqual(topology);
    // Ids continue after the highest ever given out, even a deleted one.
    expect(again.createVpc({ name: 'c', cidr: '10.0.0.0/8' }).id).toBe('vpc-4');
    expect(again.createEndpoint({ kind: 'host', vpc: a.id, subnet: sa.id, dpid: 1, port: 4 })).toMatchObject({ id: 'ep-4', ip: parseIpv4('10.0.1.3') });
    reopened.close();
  });

  it('keeps who marked each unhealthy backend across a reopen; marks in a version 3 file become REST marks', () => {
    const store = openIntentStore(tmp.file);
    const svc = createIntentService({ seedTopology: TOPOLOGY }, { store });
    const vpc = svc.createVpc({ name: 'a', cidr: '10.0.0.0/16' });
    const lb = svc.createLoadBalancer({ vpc: vpc.id, vip: '10.0.0.200', protocol: 'udp', port: 80, function: 'resize' });
    svc.setBackendHealth(lb.id, 'ep-1', false, 'probe');
    svc.setBackendHealth(lb.id, 'ep-2', false, 'rest');
    expect(svc.getLoadBalancer(lb.id)).toMatchObject({ unhealthy: ['ep-1', 'ep-2'], unhealthyByProbe: ['ep-1'] });
    const before = svc.getLoadBalancer(lb.id);
    store.close();

    const reopened = openIntentStore(tmp.file);
    expect(createIntentService({}, { store: reopened }).getLoadBalancer(lb.id)).toEqual(before);
    reopened.close();

    // The same file as version 3 wrote it: no record of who marked what.
    const db = new Database(tmp.file);
    db.exec('ALTER TABLE load_balancers DROP COLUMN unhealthy_by_probe');
    db.pragma('user_version = 3');
    db.close();
    const migrated = openIntentStore(tmp.file);
    const after = createIntentService({}, { store: migrated }).getLoadBalancer(lb.id);
    expect(after.unhealthy).toEqual(['ep-1', 'ep-2']);
    expect(after.unhealthyByProbe).toBeUndefined();
    migrated.close();
    const check = new Database(tmp.file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });

  it('opens a data directory, creating it, with WAL journaling', () => {
    const store = openIntentStoreInDir(`${tmp.dir}/nested/data`);
    createIntentService({ seedTopology: TOPOLOGY }, { store });
    store.close();
    const db = new Database(`${tmp.dir}/nested/data/${INTENT_STORE_FILE}`, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('refuses a file written by a newer schema', () => {
    openIntentStore(tmp.file).close();
    const db = new Database(tmp.file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    let code: string | undefined;
    try {
      openIntentStore(tmp.file);
    } catch (e) {
      if (isOvercastError(e)) code = e.code;
    }
    expect(code).toBe('OVC_ERR_STORE_SCHEMA_VERSION');
  });

  it('rolls a transaction back whole when it throws', () => {
    const store = openIntentStore(tmp.file);
    expect(() =>
      store.transaction((w) => {
        w.putVpc({ id: w.nextId('vpc'), name: 'half', cidr: { network: 0x0a000000, prefixLength: 8 }, vni: 1 });
        throw new Error('crash between writes');
      }),
    ).toThrow('crash between writes');
    const state = store.load();
    expect(state.intent.vpcs.size).toBe(0);
    expect(state.lastSeq.vpc).toBe(0);
    store.close();
  });

  it('refuses rows that would dangle (foreign keys are on)', () => {
    const store = openIntentStore(':memory:');
    expect(() => store.transaction((w) => w.putSubnet({ id: 'subnet-1', vpcId: 'vpc-9', name: 'x', cidr: { network: 0x0a000000, prefixLength: 24 }, gateway: 0x0a000001 }))).toThrow();
    expect(store.load().intent.subnets.size).toBe(0);
    store.close();
  });
});
