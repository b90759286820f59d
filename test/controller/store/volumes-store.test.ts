/**
 * Volumes and attachments in the SQLite store (schema version 8): written through the intent service,
 * reloaded whole with their id counters, and a version 7 file gains their tables keeping its intent.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIntentService } from '../../../src/controller/intent/index.js';
import { SCHEMA_VERSION, openIntentStore } from '../../../src/controller/store/index.js';
import { TOPOLOGY, tempDir } from './fixtures.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  tmp.remove();
});

describe('intent store: volumes', () => {
  it('reloads volumes and attachments in id order with their counters; a deleted endpoint is detached', async () => {
    const store = openIntentStore(tmp.file);
    const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store });
    const vpc = await svc.vpcs.create({ name: 'storage', cidr: '10.0.0.0/16' });
    const subnet = await svc.subnets.create(vpc.id, { cidr: '10.0.1.0/24' });
    const target = await svc.endpoints.create({ kind: 'storage', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2 });
    const fn = await svc.endpoints.create({ kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 3 });
    const gone = await svc.endpoints.create({ kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 2, port: 3 });
    const home = await svc.volumes.create({ name: 'home', protocol: 'nfs', targets: [target.id], qos: { mbps: 10 } });
    const scratch = await svc.volumes.create({ name: 'scratch', protocol: 'iscsi', targets: [target.id] });
    await svc.volumes.attach(home.id, { endpoint: fn.id, mode: 'ro' });
    await svc.volumes.attach(home.id, { endpoint: gone.id });
    await svc.volumes.delete(scratch.id);
    await svc.volumes.setTargetHealth(home.id, target.id, false);
    await svc.endpoints.delete(gone.id);
    await expect(svc.endpoints.delete(target.id)).rejects.toMatchObject({ code: 'OVC_ERR_VOLUME_TARGET_IN_USE' });
    const intent = svc.intent();
    expect([...(intent.attachments?.values() ?? [])]).toEqual([
      { id: 'att-1', volumeId: home.id, endpointId: fn.id, mode: 'ro', mounts: [{ ip: 0x0a000105 }], source: { subnetId: subnet.id, ip: 0x0a000106 } },
    ]);
    svc.close();
    await store.close();

    const reopened = openIntentStore(tmp.file);
    const loaded = await reopened.load();
    expect(loaded.intent.volumes).toEqual(intent.volumes);
    expect(loaded.intent.attachments).toEqual(intent.attachments);
    expect(loaded.lastSeq).toMatchObject({ volume: 2, attachment: 2 });
    const again = await createIntentService({}, { store: reopened });
    expect(again.intent()).toEqual(intent);
    // Ids continue after the highest ever given out, even a deleted one.
    expect((await again.volumes.create({ name: 'next', protocol: 'nfs', targets: [target.id] })).id).toBe('vol-3');
    const host = await again.endpoints.create({ kind: 'host', vpc: vpc.id, subnet: subnet.id, dpid: 2, port: 4 });
    expect((await again.volumes.attach(home.id, { endpoint: host.id })).id).toBe('att-3');
    again.close();
    await reopened.close();
  });

  it('a version 7 file keeps its intent and gains the volume tables', async () => {
    const store = openIntentStore(tmp.file);
    const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store });
    await svc.vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
    const before = svc.intent();
    svc.close();
    await store.close();
    // The same file as version 7 wrote it: no volume tables.
    const db = new Database(tmp.file);
    db.exec('DROP TABLE volume_attachments; DROP TABLE volumes');
    db.pragma('user_version = 7');
    db.close();

    const migrated = openIntentStore(tmp.file);
    const again = await createIntentService({}, { store: migrated });
    expect(again.intent()).toEqual(before);
    expect(migrated.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const tables = migrated.database.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'volume%' ORDER BY name").all();
    expect(tables.map((t) => t.name)).toEqual(['volume_attachments', 'volumes']);
    again.close();
    await migrated.close();
  });

  it('a version 9 file gains the mount and health columns; its attachments keep no mount address', async () => {
    const store = openIntentStore(tmp.file);
    const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store });
    const vpc = await svc.vpcs.create({ name: 'storage', cidr: '10.0.0.0/16' });
    const subnet = await svc.subnets.create(vpc.id, { cidr: '10.0.1.0/24' });
    const target = await svc.endpoints.create({ kind: 'storage', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2 });
    const fn = await svc.endpoints.create({ kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 3 });
    const home = await svc.volumes.create({ name: 'home', protocol: 'nfs', targets: [target.id] });
    await svc.volumes.attach(home.id, { endpoint: fn.id });
    svc.close();
    await store.close();
    // The same file as version 9 wrote it: no mount, source or unhealthy columns.
    const db = new Database(tmp.file);
    db.exec('ALTER TABLE volume_attachments DROP COLUMN mounts; ALTER TABLE volume_attachments DROP COLUMN source; ALTER TABLE volumes DROP COLUMN unhealthy');
    db.pragma('user_version = 9');
    db.close();

    const migrated = openIntentStore(tmp.file);
    const again = await createIntentService({}, { store: migrated });
    expect(migrated.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect([...(again.intent().attachments?.values() ?? [])]).toEqual([{ id: 'att-1', volumeId: home.id, endpointId: fn.id, mode: 'rw' }]);
    // New attachments get their addresses; the old one's never were allocated, so none collides.
    const other = await again.endpoints.create({ kind: 'host', vpc: vpc.id, subnet: subnet.id, dpid: 2, port: 4 });
    expect((await again.volumes.attach(home.id, { endpoint: other.id })).mounts).toEqual([{ ip: 0x0a000105 }]);
    again.close();
    await migrated.close();
  });
});
