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
  it('reloads exactly the state it held: intent in id order, topology, and id counters', async () => {
    const store = openIntentStore(tmp.file);
    const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store });
    const a = await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const b = await svc.vpcs.create({ name: 'b', cidr: '10.0.0.0/16' });
    const gone = await svc.vpcs.create({ name: 'gone', cidr: '172.16.0.0/12' });
    const sa = await svc.subnets.create(a.id, { cidr: '10.0.1.0/24' });
    const sb = await svc.subnets.create(b.id, { name: 'b1', cidr: '10.0.1.0/24', gateway: '10.0.1.254' });
    await svc.subnets.create(gone.id, { cidr: '172.16.0.0/24' });
    const e1 = await svc.endpoints.create({ kind: 'function', vpc: a.id, subnet: sa.id, dpid: 1, port: 2, labels: { function: 'resize', revision: 'v2' } });
    await svc.endpoints.create({ kind: 'storage', vpc: b.id, subnet: sb.id, dpid: 2, port: 2, mac: '02:00:00:00:aa:01', ip: '10.0.1.7' });
    const e3 = await svc.endpoints.create({ kind: 'container', vpc: a.id, subnet: sa.id, dpid: 1, port: 3 });
    await svc.endpoints.update(e1.id, { dpid: 2, port: 5, labels: { function: 'resize' } });
    await svc.endpoints.delete(e3.id);
    await svc.vpcs.update(b.id, { name: 'bee' });
    await svc.vpcs.delete(gone.id);
    await svc.topology.addSwitch({ name: 's3', dpid: 3, ports: [{ number: 1, name: 'up' }, { number: 2 }] });
    await svc.topology.addLink({ switch: 's3', port: 1 }, { switch: 's1', port: 7 }, false);
    await svc.topology.setLinkUp('s1:8~s2:8', false);
    const intent = svc.intent();
    const topology = svc.topology.get();
    store.close();

    const reopened = openIntentStore(tmp.file);
    // The store owns the topology now: a different seed is ignored.
    const again = await createIntentService({ seedTopology: parseTopology('name: other\nswitches: []') }, { store: reopened });
    expect(again.intent()).toEqual(intent);
    expect([...again.intent().vpcs.keys()]).toEqual([...intent.vpcs.keys()]);
    expect([...again.intent().endpoints.keys()]).toEqual([...intent.endpoints.keys()]);
    expect(again.topology.get()).toEqual(topology);
    // Ids continue after the highest ever given out, even a deleted one.
    expect((await again.vpcs.create({ name: 'c', cidr: '10.0.0.0/8' })).id).toBe('vpc-4');
    expect(await again.endpoints.create({ kind: 'host', vpc: a.id, subnet: sa.id, dpid: 1, port: 4 })).toMatchObject({ id: 'ep-4', ip: parseIpv4('10.0.1.3') });
    reopened.close();
  });

  it('keeps who marked each unhealthy backend across a reopen; marks in a version 3 file become REST marks', async () => {
    const store = openIntentStore(tmp.file);
    const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store });
    const vpc = await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const lb = await svc.loadBalancers.create({ vpc: vpc.id, vip: '10.0.0.200', protocol: 'udp', port: 80, function: 'resize' });
    await svc.loadBalancers.setBackendHealth(lb.id, 'ep-1', false, 'probe');
    await svc.loadBalancers.setBackendHealth(lb.id, 'ep-2', false, 'rest');
    expect(svc.loadBalancers.get(lb.id)).toMatchObject({ unhealthy: ['ep-1', 'ep-2'], unhealthyByProbe: ['ep-1'] });
    const before = svc.loadBalancers.get(lb.id);
    store.close();

    const reopened = openIntentStore(tmp.file);
    expect((await createIntentService({}, { store: reopened })).loadBalancers.get(lb.id)).toEqual(before);
    reopened.close();

    // The same file as version 3 wrote it: no record of who marked what.
    const db = new Database(tmp.file);
    db.exec('ALTER TABLE load_balancers DROP COLUMN unhealthy_by_probe');
    db.pragma('user_version = 3');
    db.close();
    const migrated = openIntentStore(tmp.file);
    const after = (await createIntentService({}, { store: migrated })).loadBalancers.get(lb.id);
    expect(after.unhealthy).toEqual(['ep-1', 'ep-2']);
    expect(after.unhealthyByProbe).toBeUndefined();
    migrated.close();
    const check = new Database(tmp.file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });

  it('a version 4 file keeps its VPCs and VNIs; from version 6 on the store holds VNIs to 1..16,777,215', async () => {
    const store = openIntentStore(tmp.file);
    const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store });
    const a = await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const b = await svc.vpcs.create({ name: 'b', cidr: '10.0.0.0/16', vni: 4094 });
    await svc.subnets.create(a.id, { cidr: '10.0.1.0/24' });
    const before = svc.intent();
    await store.close();
    // The same file as version 4 wrote it: no range triggers.
    const db = new Database(tmp.file);
    db.exec('DROP TRIGGER vpcs_vni_range_insert; DROP TRIGGER vpcs_vni_range_update');
    db.pragma('user_version = 4');
    db.close();

    const migrated = openIntentStore(tmp.file);
    const again = await createIntentService({}, { store: migrated });
    expect(again.intent()).toEqual(before);
    expect([again.vpcs.get(a.id).vni, again.vpcs.get(b.id).vni]).toEqual([1, 4094]);
    expect((await again.vpcs.create({ name: 'top', cidr: '10.0.0.0/16', vni: 16_777_215 })).vni).toBe(16_777_215);
    expect((await again.vpcs.create({ name: 'next', cidr: '10.0.0.0/16' })).vni).toBe(2);
    await migrated.close();

    const raw = new Database(tmp.file);
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const insert = (vni: number) => () => raw.prepare("INSERT INTO vpcs (id, seq, name, network, prefix_length, vni) VALUES ('x', 99, 'x', 0, 8, ?)").run(vni);
    expect(insert(16_777_216)).toThrow(/vni BETWEEN 1 AND 16777215/);
    expect(() => raw.prepare('UPDATE vpcs SET vni = 0 WHERE id = ?').run(a.id)).toThrow(/CHECK constraint failed/);
    raw.close();
  });

  it('opens a data directory, creating it, with WAL journaling', async () => {
    const store = openIntentStoreInDir(`${tmp.dir}/nested/data`);
    await createIntentService({ seedTopology: TOPOLOGY }, { store });
    store.close();
    const db = new Database(`${tmp.dir}/nested/data/${INTENT_STORE_FILE}`, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('refuses a file written by a newer schema', async () => {
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

  it('commits a transaction only against the revision it was validated on', async () => {
    const store = openIntentStore(tmp.file);
    const vpc = (id: string, vni: number) => ({ kind: 'vpc' as const, id, value: { id, name: id, cidr: { network: 0x0a000000, prefixLength: 8 }, vni } });
    expect(await store.commit({ basedOn: 0, writes: [vpc('vpc-1', 1)], lastSeq: { vpc: 1 } })).toEqual({ ok: true, revision: 1 });
    // A second writer that validated against revision 0 loses: nothing of it is written.
    expect(await store.commit({ basedOn: 0, writes: [vpc('vpc-2', 2)], lastSeq: { vpc: 2 } })).toEqual({ ok: false, revision: 1 });
    const state = await store.load();
    expect([...state.intent.vpcs.keys()]).toEqual(['vpc-1']);
    expect(state).toMatchObject({ revision: 1, lastSeq: { vpc: 1 } });
    await store.close();
  });

  it('rolls a transaction back whole when a write fails', async () => {
    const store = openIntentStore(tmp.file);
    const vpc = { kind: 'vpc' as const, id: 'vpc-1', value: { id: 'vpc-1', name: 'half', cidr: { network: 0x0a000000, prefixLength: 8 }, vni: 1 } };
    // The subnet names a VPC that does not exist (foreign keys are on): the VPC before it goes too.
    const dangling = { kind: 'subnet' as const, id: 'subnet-1', value: { id: 'subnet-1', vpcId: 'vpc-9', name: 'x', cidr: { network: 0x0a000000, prefixLength: 24 }, gateway: 0x0a000001 } };
    await expect(store.commit({ basedOn: 0, writes: [vpc, dangling], lastSeq: { vpc: 1, subnet: 1 } })).rejects.toThrow();
    const state = await store.load();
    expect(state.intent.vpcs.size).toBe(0);
    expect(state.intent.subnets.size).toBe(0);
    expect(state).toMatchObject({ revision: 0, lastSeq: { vpc: 0, subnet: 0 } });
    await store.close();
  });
});
