import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIntentService } from '../../../src/controller/intent/index.js';
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
    const a = svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const b = svc.vpcs.create({ name: 'b', cidr: '10.0.0.0/16' });
    const gone = svc.vpcs.create({ name: 'gone', cidr: '172.16.0.0/12' });
    const sa = svc.subnets.create(a.id, { cidr: '10.0.1.0/24' });
    const sb = svc.subnets.create(b.id, { name: 'b1', cidr: '10.0.1.0/24', gateway: '10.0.1.254' });
    svc.subnets.create(gone.id, { cidr: '172.16.0.0/24' });
    const e1 = svc.endpoints.create({ kind: 'function', vpc: a.id, subnet: sa.id, dpid: 1, port: 2, labels: { function: 'resize', revision: 'v2' } });
    svc.endpoints.create({ kind: 'storage', vpc: b.id, subnet: sb.id, dpid: 2, port: 2, mac: '02:00:00:00:aa:01', ip: '10.0.1.7' });
    const e3 = svc.endpoints.create({ kind: 'container', vpc: a.id, subnet: sa.id, dpid: 1, port: 3 });
    svc.endpoints.update(e1.id, { dpid: 2, port: 5, labels: { function: 'resize' } });
    svc.endpoints.delete(e3.id);
    svc.vpcs.update(b.id, { name: 'bee' });
    svc.vpcs.delete(gone.id);
    svc.topology.addSwitch({ name: 's3', dpid: 3, ports: [{ number: 1, name: 'up' }, { number: 2 }] });
    svc.topology.addLink({ switch: 's3', port: 1 }, { switch: 's1', port: 7 }, false);
    svc.topology.setLinkUp('s1:8~s2:8', false);
    const intent = svc.intent();
    const topology = svc.topology.get();
    store.close();

    const reopened = openIntentStore(tmp.file);
    // The store owns the topology now: a different seed is ignored.
    const again = createIntentService({ seedTopology: parseTopology('name: other\nswitches: []') }, { store: reopened });
    expect(again.intent()).toEqual(intent);
    expect([...again.intent().vpcs.keys()]).toEqual([...intent.vpcs.keys()]);
    expect([...again.intent().endpoints.keys()]).toEqual([...intent.endpoints.keys()]);
    expect(again.topology.get()).toEqual(topology);
    // Ids continue after the highest ever given out, even a deleted one.
    expect(again.vpcs.create({ name: 'c', cidr: '10.0.0.0/8' }).id).toBe('vpc-4');
    expect(again.endpoints.create({ kind: 'host', vpc: a.id, subnet: sa.id, dpid: 1, port: 4 })).toMatchObject({ id: 'ep-4', ip: parseIpv4('10.0.1.3') });
    reopened.close();
  });

  it('keeps who marked each unhealthy backend across a reopen; marks in a version 3 file become REST marks', () => {
    const store = openIntentStore(tmp.file);
    const svc = createIntentService({ seedTopology: TOPOLOGY }, { store });
    const vpc = svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const lb = svc.loadBalancers.create({ vpc: vpc.id, vip: '10.0.0.200', protocol: 'udp', port: 80, function: 'resize' });
    svc.loadBalancers.setBackendHealth(lb.id, 'ep-1', false, 'probe');
    svc.loadBalancers.setBackendHealth(lb.id, 'ep-2', false, 'rest');
    expect(svc.loadBalancers.get(lb.id)).toMatchObject({ unhealthy: ['ep-1', 'ep-2'], unhealthyByProbe: ['ep-1'] });
    const before = svc.loadBalancers.get(lb.id);
    store.close();

    const reopened = openIntentStore(tmp.file);
    expect(createIntentService({}, { store: reopened }).loadBalancers.get(lb.id)).toEqual(before);
    reopened.close();

    // The same file as version 3 wrote it: no record of who marked what.
    const db = new Database(tmp.file);
    db.exec('ALTER TABLE load_balancers DROP COLUMN unhealthy_by_probe');
    db.pragma('user_version = 3');
    db.close();
    const migrated = openIntentStore(tmp.file);
    const after = createIntentService({}, { store: migrated }).loadBalancers.get(lb.id);
    expect(after.unhealthy).toEqual(['ep-1', 'ep-2']);
    expect(after.unhealthyByProbe).toBeUndefined();
    migrated.close();
    const check = new Database(tmp.file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });

  it('a version 4 file keeps its VPCs and VNIs; from version 5 on the store holds VNIs to 1..16,777,215', () => {
    const store = openIntentStore(tmp.file);
    const svc = createIntentService({ seedTopology: TOPOLOGY }, { store });
    const a = svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const b = svc.vpcs.create({ name: 'b', cidr: '10.0.0.0/16', vni: 4094 });
    svc.subnets.create(a.id, { cidr: '10.0.1.0/24' });
    const before = svc.intent();
    store.close();
    // The same file as version 4 wrote it: no range triggers.
    const db = new Database(tmp.file);
    db.exec('DROP TRIGGER vpcs_vni_range_insert; DROP TRIGGER vpcs_vni_range_update');
    db.pragma('user_version = 4');
    db.close();

    const migrated = openIntentStore(tmp.file);
    const again = createIntentService({}, { store: migrated });
    expect(again.intent()).toEqual(before);
    expect([again.vpcs.get(a.id).vni, again.vpcs.get(b.id).vni]).toEqual([1, 4094]);
    expect(again.vpcs.create({ name: 'top', cidr: '10.0.0.0/16', vni: 16_777_215 }).vni).toBe(16_777_215);
    expect(again.vpcs.create({ name: 'next', cidr: '10.0.0.0/16' }).vni).toBe(2);
    migrated.close();

    const raw = new Database(tmp.file);
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const insert = (vni: number) => () => raw.prepare("INSERT INTO vpcs (id, seq, name, network, prefix_length, vni) VALUES ('x', 99, 'x', 0, 8, ?)").run(vni);
    expect(insert(16_777_216)).toThrow(/vni BETWEEN 1 AND 16777215/);
    expect(() => raw.prepare('UPDATE vpcs SET vni = 0 WHERE id = ?').run(a.id)).toThrow(/CHECK constraint failed/);
    raw.close();
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
