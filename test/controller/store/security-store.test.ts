/**
 * Security groups and network ACLs in both intent stores: what the service commits reloads the same
 * (SQLite and etcd), refusals come back as rejected writes, and a file written before groups existed
 * (schema 7) gets its tables, and its VPCs their default groups, when it is opened.
 */
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIntentService, type IntentService } from '../../../src/controller/intent/index.js';
import { connectEtcd } from '../../../src/controller/store/etcd/etcd-connection.js';
import { createEtcdIntentStore } from '../../../src/controller/store/etcd/etcd-intent-store.js';
import { SCHEMA_VERSION, openIntentStore, type IntentStore } from '../../../src/controller/store/index.js';
import { etcdUrl, startTestEtcd, type TestEtcd } from '../../support/etcd.js';
import { TOPOLOGY, tempDir } from './fixtures.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  tmp.remove();
});

let etcd: TestEtcd;
beforeAll(async () => {
  etcd = await startTestEtcd();
}, 30_000);
afterAll(async () => {
  await etcd?.stop();
});

/** A VPC with a subnet, a group besides the default, an ACL and an endpoint in both groups. */
async function populate(svc: IntentService): Promise<void> {
  const vpc = await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
  const subnet = await svc.subnets.create(vpc.id, { cidr: '10.0.1.0/24' });
  const web = await svc.securityGroups.create({ name: 'web', vpc: vpc.id, rules: [{ direction: 'ingress', protocol: 'tcp', ports: '80-81', group: 'self' }] });
  await svc.securityGroups.update(web.id, { rules: [{ direction: 'ingress', protocol: 'tcp', ports: '443', cidr: '0.0.0.0/0' }] });
  await svc.networkAcls.create({ subnet: subnet.id, rules: [{ number: 10, action: 'deny', direction: 'ingress', protocol: 'udp', ports: '53', cidr: '10.9.0.0/16' }] });
  await svc.endpoints.create({ kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2, securityGroups: ['sg-1', web.id] });
  await svc.endpoints.create({ kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 3 });
}

async function roundTrip(open: () => IntentStore): Promise<void> {
  const store = open();
  const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store });
  await populate(svc);
  const intent = svc.intent();
  expect([...(intent.securityGroups?.keys() ?? [])]).toEqual(['sg-1', 'sg-2']);
  expect(intent.networkAcls?.get('acl-1')?.rules).toHaveLength(1);
  expect(intent.endpoints.get('ep-1')?.securityGroups).toEqual(['sg-1', 'sg-2']);
  expect(intent.endpoints.get('ep-2')?.securityGroups).toEqual(['sg-1']);
  await expect(svc.networkAcls.create({ subnet: 'subnet-1' })).rejects.toMatchObject({ code: 'OVC_ERR_SECURITY_ACL_EXISTS' });
  await expect(svc.securityGroups.delete('sg-2')).rejects.toMatchObject({ code: 'OVC_ERR_SECURITY_GROUP_IN_USE' });
  svc.close();
  await store.close();

  const reopened = open();
  const again = await createIntentService({}, { store: reopened });
  expect(again.intent()).toEqual(intent);
  // Counters go on from the highest id given out.
  expect((await again.securityGroups.create({ name: 'db', vpc: 'vpc-1' })).id).toBe('sg-3');
  await again.networkAcls.delete('acl-1');
  await again.subnets.create('vpc-1', { cidr: '10.0.2.0/24' });
  expect((await again.networkAcls.create({ subnet: 'subnet-2' })).id).toBe('acl-2');
  again.close();
  await reopened.close();
}

describe('security groups and network ACLs in the intent store', () => {
  it('reload the same from SQLite', async () => {
    await roundTrip(() => openIntentStore(tmp.file));
  });

  it('reload the same from etcd', async () => {
    const conn = connectEtcd(etcdUrl(etcd));
    try {
      await roundTrip(() => createEtcdIntentStore(conn));
    } finally {
      conn.close();
    }
  });

  it('a schema 7 file gets the tables, a default group per VPC, and its endpoints join it', async () => {
    const store = openIntentStore(tmp.file);
    const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store });
    const vpc = await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const subnet = await svc.subnets.create(vpc.id, { cidr: '10.0.1.0/24' });
    const ep = await svc.endpoints.create({ kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2 });
    svc.close();
    await store.close();

    // The same file as version 7 wrote it: no group tables, no endpoint column, no group counter.
    const raw = new Database(tmp.file);
    raw.exec("DROP TABLE security_groups; DROP TABLE network_acls; ALTER TABLE endpoints DROP COLUMN security_groups; DELETE FROM meta WHERE key = 'seq.securityGroup'");
    raw.pragma('user_version = 7');
    raw.close();

    const migrated = openIntentStore(tmp.file);
    expect(migrated.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const again = await createIntentService({}, { store: migrated });
    const [group] = again.securityGroups.list({ vpc: vpc.id }, { limit: 10 }).items;
    expect(group).toMatchObject({ id: 'sg-1', vpcId: vpc.id, isDefault: true });
    expect(again.endpoints.get(ep.id).securityGroups).toEqual([group.id]);
    again.close();
    await migrated.close();

    // What the migration committed is stored: a second open commits nothing more.
    const third = openIntentStore(tmp.file);
    const revision = (await third.load()).revision;
    const svc3 = await createIntentService({}, { store: third });
    expect(svc3.freshness().revision).toBe(revision);
    expect(svc3.intent()).toEqual(again.intent());
    svc3.close();
    await third.close();
  });
});
