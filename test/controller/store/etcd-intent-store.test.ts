import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntentService, type IntentService } from '../../../src/controller/intent/index.js';
import { connectEtcd, type EtcdConnection } from '../../../src/controller/store/etcd/etcd-connection.js';
import { createEtcdIntentStore } from '../../../src/controller/store/etcd/etcd-intent-store.js';
import { createEtcdIdempotencyStore, createEtcdTokenStore, createEtcdWebhookStore } from '../../../src/controller/store/etcd/etcd-side-stores.js';
import type { IntentStore, StoreBatch } from '../../../src/controller/store/index.js';
import { isOvercastError } from '../../../src/errors/index.js';
import { etcdUrl, startTestEtcd, type TestEtcd } from '../../support/etcd.js';
import { notYet, waitFor } from '../../support/wait-for.js';
import { TOPOLOGY } from './fixtures.js';

let etcd: TestEtcd;
const opened: { conn: EtcdConnection; store: IntentStore; svc?: IntentService }[] = [];

beforeAll(async () => {
  etcd = await startTestEtcd();
}, 30_000);

afterAll(async () => {
  for (const o of opened) {
    o.svc?.close();
    await o.store.close();
    o.conn.close();
  }
  await etcd?.stop();
});

/** `n` controllers' stores on one prefix (a fresh one per call). */
function stores(n: number): { conn: EtcdConnection; store: IntentStore }[] {
  const url = etcdUrl(etcd);
  return Array.from({ length: n }, () => {
    const conn = connectEtcd(url);
    const o = { conn, store: createEtcdIntentStore(conn) };
    opened.push(o);
    return o;
  });
}

async function services(n: number): Promise<IntentService[]> {
  const out: IntentService[] = [];
  for (const o of stores(n)) {
    const svc = await createIntentService({ seedTopology: TOPOLOGY }, { store: o.store });
    opened.find((x) => x.store === o.store)!.svc = svc;
    out.push(svc);
  }
  return out;
}

const vpc = (id: string, name: string) => ({ kind: 'vpc' as const, id, value: { id, name, cidr: { network: 0x0a000000, prefixLength: 16 }, vni: 1 } });

describe('etcd intent store', () => {
  it('commits whole, loads what it committed, and refuses a commit based on an old revision', async () => {
    const [{ store }] = stores(1);
    const empty = await store.load();
    expect(empty.revision).toBe(0);
    expect(empty.topology).toBeUndefined();
    const first = await store.commit({ basedOn: 0, writes: [{ kind: 'topology', value: TOPOLOGY }, vpc('vpc-1', 'a')], lastSeq: { vpc: 1 } });
    expect(first.ok).toBe(true);
    const stale = await store.commit({ basedOn: 0, writes: [vpc('vpc-2', 'b')], lastSeq: { vpc: 2 } });
    expect(stale).toEqual({ ok: false, revision: first.revision });
    const loaded = await store.load();
    expect(loaded.revision).toBe(first.revision);
    expect(loaded.topology).toEqual(TOPOLOGY);
    expect([...loaded.intent.vpcs.keys()]).toEqual(['vpc-1']);
    expect(loaded.lastSeq.vpc).toBe(1);
    expect(await store.head!()).toBe(first.revision);
  });

  it('lists objects in id order, not key text order', async () => {
    const [{ store }] = stores(1);
    let rev = 0;
    for (const n of [2, 10, 1]) {
      const r = await store.commit({ basedOn: rev, writes: [vpc(`vpc-${n}`, `v${n}`)], lastSeq: { vpc: 10 } });
      rev = r.revision;
    }
    expect([...(await store.load()).intent.vpcs.keys()]).toEqual(['vpc-1', 'vpc-2', 'vpc-10']);
  });

  it('delivers every transaction to every watcher once, whole, in commit order', async () => {
    const [a, b] = stores(2);
    const seen: StoreBatch[] = [];
    const off = b.store.watch(0, { batch: (x) => seen.push(x) });
    const revisions: number[] = [];
    let rev = 0;
    for (let i = 1; i <= 5; i++) {
      const r = await a.store.commit({ basedOn: rev, writes: [vpc(`vpc-${i}`, `v${i}`), vpc(`vpc-${i + 100}`, 'pair')], lastSeq: { vpc: i + 100 } });
      rev = r.revision;
      revisions.push(r.revision);
    }
    await waitFor('five batches at the second watcher', () => (seen.length >= 5 ? true : notYet(seen.length)), { timeoutMs: 5000 });
    off();
    expect(seen.map((x) => x.revision)).toEqual(revisions);
    expect(seen.every((x) => x.writes.length === 2)).toBe(true);
    expect(seen[4].lastSeq).toEqual({ vpc: 105 });
  });

  it('of two controllers creating at once, both commit: the loser validates again, nothing is lost', async () => {
    const [one, two] = await services(2);
    const made = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? one : two).vpcs.create({ name: `v${i}`, cidr: `10.${i}.0.0/16` })));
    expect(new Set(made.map((v) => v.id)).size).toBe(12);
    expect(new Set(made.map((v) => v.vni)).size).toBe(12);
    const head = Math.max(one.freshness().revision, two.freshness().revision);
    await Promise.all([one.applied(head), two.applied(head)]);
    expect([...one.intent().vpcs.keys()].sort()).toEqual(made.map((v) => v.id).sort());
    expect(two.intent()).toEqual(one.intent());
  });

  it('two controllers writing without pause take turns: neither is refused', async () => {
    const [one, two] = await services(2);
    const burst = (svc: IntentService, tag: string) => (async () => {
      for (let i = 0; i < 25; i++) await svc.vpcs.create({ name: `${tag}${i}`, cidr: `10.${tag === 'a' ? 1 : 2}.${i}.0/24` });
    })();
    await Promise.all([burst(one, 'a'), burst(two, 'b')]);
    await two.applied(one.freshness().revision);
    await one.applied(two.freshness().revision);
    expect(one.intent().vpcs.size).toBe(50);
  }, 30_000);

  it('a second controller reads the first one\'s write once its watch has applied the revision', async () => {
    const [one, two] = await services(2);
    const v = await one.vpcs.create({ name: 'shared', cidr: '10.9.0.0/16' });
    await two.applied(one.freshness().revision);
    expect(two.vpcs.get(v.id)).toEqual(v);
    expect(two.freshness().revision).toBe(one.freshness().revision);
  });

  it('stores volumes and attachments: another controller applies them and a load reads them in id order', async () => {
    const [one, two] = await services(2);
    const v = await one.vpcs.create({ name: 'storage', cidr: '10.7.0.0/16' });
    const s = await one.subnets.create(v.id, { cidr: '10.7.1.0/24' });
    const target = await one.endpoints.create({ kind: 'storage', vpc: v.id, subnet: s.id, dpid: 1, port: 2 });
    const fn = await one.endpoints.create({ kind: 'function', vpc: v.id, subnet: s.id, dpid: 1, port: 3 });
    const vols = [];
    for (let i = 0; i < 11; i++) vols.push(await one.volumes.create({ name: `v${i}`, protocol: 'nfs', targets: [target.id], qos: { pps: 100 } }));
    const a = await one.volumes.attach(vols[10].id, { endpoint: fn.id, mode: 'ro' });
    await two.applied(one.freshness().revision);
    expect(two.volumes.getAttachment(vols[10].id, a.id)).toEqual(a);
    expect(two.intent()).toEqual(one.intent());
    await expect(two.volumes.delete(vols[10].id)).rejects.toMatchObject({ code: 'OVC_ERR_VOLUME_IN_USE' });
    await two.volumes.detach(vols[10].id, a.id);
    await one.applied(two.freshness().revision);
    expect(one.intent().attachments?.size).toBe(0);
    const store = opened.find((o) => o.svc === one)!.store;
    const loaded = await store.load();
    expect([...(loaded.intent.volumes?.keys() ?? [])]).toEqual(vols.map((x) => x.id));
    expect(loaded.intent.volumes?.get(vols[0].id)).toEqual(vols[0]);
    expect(loaded.lastSeq).toMatchObject({ volume: 11, attachment: 1 });
  });

  it('refuses a change that conflicts with one another controller committed first', async () => {
    const [one, two] = await services(2);
    const v = await one.vpcs.create({ name: 'x', cidr: '10.1.0.0/16' });
    await two.applied(one.freshness().revision);
    const [a, b] = await Promise.allSettled([one.subnets.create(v.id, { cidr: '10.1.1.0/24' }), two.subnets.create(v.id, { cidr: '10.1.1.0/25' })]);
    const outcomes = [a, b].map((r) => (r.status === 'fulfilled' ? 'ok' : isOvercastError(r.reason) ? r.reason.code : String(r.reason)));
    expect(outcomes.sort()).toEqual(['OVC_ERR_SUBNET_OVERLAP', 'ok'].sort());
  });
});

describe('etcd webhook, token and idempotency stores', () => {
  it('shares webhook subscriptions between controllers and tells each of changes', async () => {
    const [a, b] = stores(2);
    const wa = createEtcdWebhookStore(a.conn);
    const wb = createEtcdWebhookStore(b.conn);
    let heard = 0;
    const off = wb.watch(() => heard++);
    await waitFor('the watch to start', async () => {
      await wa.insert({ id: `probe-${heard}`, url: 'http://127.0.0.1:1/', types: [], createdAtMs: 0 });
      return heard > 0 ? true : notYet(heard);
    });
    for (const w of await wa.list()) await wa.remove(w.id);
    await wa.insert({ id: 'w1', url: 'http://127.0.0.1:1/', types: ['switch.*'], secret: 's', createdAtMs: 5 });
    expect(await wb.list()).toEqual([{ id: 'w1', url: 'http://127.0.0.1:1/', types: ['switch.*'], secret: 's', createdAtMs: 5 }]);
    expect(await wb.remove('w1')).toBe(true);
    expect(await wb.remove('w1')).toBe(false);
    off();
  });

  it('inserts a token once, revokes it keeping the first revocation time', async () => {
    const [a, b] = stores(2);
    const ta = createEtcdTokenStore(a.conn);
    const tb = createEtcdTokenStore(b.conn);
    const t = { id: 'tok-1', name: 'n', scope: 'admin' as const, hash: 'h', createdAtMs: 1 };
    expect(await ta.insert(t)).toBe(true);
    expect(await tb.insert(t)).toBe(false);
    expect(await tb.get('tok-1')).toEqual(t);
    expect((await ta.revoke('tok-1', 10))?.revokedAtMs).toBe(10);
    expect((await tb.revoke('tok-1', 20))?.revokedAtMs).toBe(10);
    expect(await ta.revoke('tok-none', 1)).toBeUndefined();
    expect((await tb.list()).map((x) => x.id)).toEqual(['tok-1']);
  });

  it('reserves an idempotency key for one request across controllers', async () => {
    const [a, b] = stores(2);
    const ia = createEtcdIdempotencyStore(a.conn);
    const ib = createEtcdIdempotencyStore(b.conn);
    const both = await Promise.all([ia.reserve('tok', 'k', 'f', 1000), ib.reserve('tok', 'k', 'f', 1000)]);
    expect(both.map((r) => r.kind).sort()).toEqual(['in-flight', 'reserved']);
    expect((await ib.reserve('tok', 'k', 'other', 1000)).kind).toBe('mismatch');
    await ia.complete('tok', 'k', { status: 201, body: '{}' });
    expect(await ib.reserve('tok', 'k', 'f', 2000)).toEqual({ kind: 'replay', answer: { status: 201, body: '{}' } });
    await ib.release('tok', 'k');
    expect((await ia.reserve('tok', 'k', 'new', 3000)).kind).toBe('reserved');
  });
});
