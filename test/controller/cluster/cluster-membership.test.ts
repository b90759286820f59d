import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinCluster, type Cluster } from '../../../src/controller/cluster/cluster-membership.js';
import { connectEtcd, type EtcdConnection } from '../../../src/controller/store/etcd/etcd-connection.js';
import { clusterSynced } from '../../../src/lab/lab-cluster.js';
import { etcdUrl, startTestEtcd, type TestEtcd } from '../../support/etcd.js';
import { notYet, waitFor } from '../../support/wait-for.js';

const logger = pino({ level: 'silent' });
const DPIDS = [1, 2, 3, 4];
let etcd: TestEtcd;
const conns: EtcdConnection[] = [];

beforeAll(async () => {
  etcd = await startTestEtcd();
}, 30_000);
afterAll(async () => {
  for (const c of conns) c.close();
  await etcd?.stop();
});

function member(url: string, id: string, changed: number[]): Cluster {
  const conn = connectEtcd(url);
  conns.push(conn);
  return joinCluster({ self: { id, restUrl: `http://${id}`, pid: 1, startedAtMs: 0 }, leaseTtlS: 1 }, { ns: conn.ns, logger, dpids: () => DPIDS, roleChanged: (d) => changed.push(d) });
}

const mastersOf = (c: Cluster) => DPIDS.map((d) => c.masters().get(d)?.member);

describe('cluster membership on etcd', () => {
  it('shares the switches out, hands a joiner its share, and fails a dead member\'s switches over', async () => {
    const url = etcdUrl(etcd);
    const changedA: number[] = [];
    const a = member(url, 'a', changedA);
    await a.ready();
    await waitFor('a to master every switch', () => (mastersOf(a).every((m) => m === 'a') ? true : notYet(mastersOf(a))));
    expect(DPIDS.map((d) => a.roleOf(d).role)).toEqual(['master', 'master', 'master', 'master']);
    const firstGeneration = a.roleOf(2).generationId;

    const b = member(url, 'b', []);
    await b.ready();
    await waitFor('the switches shared out a, b, a, b', () => {
      const seen = [mastersOf(a), mastersOf(b)];
      return seen.every((m) => m.join() === 'a,b,a,b') ? true : notYet(seen);
    });
    expect(a.leader()).toBe('a');
    expect(b.members().map((m) => m.id)).toEqual(['a', 'b']);
    expect(b.roleOf(2)).toEqual({ role: 'master', generationId: expect.any(Number) });
    expect(b.roleOf(2).generationId).toBeGreaterThan(firstGeneration);
    expect(a.roleOf(2).role).toBe('slave');
    expect(changedA).toContain(2);

    // a leaves (its lease revoked, as when it dies and the lease expires): b takes everything.
    await a.close();
    await waitFor('b to master every switch', () => (mastersOf(b).every((m) => m === 'b') ? true : notYet(mastersOf(b))), { timeoutMs: 5000 });
    expect(b.leader()).toBe('b');
    await b.close();
  }, 30_000);
});

describe('clusterSynced', () => {
  it('counts a switch connected to every controller and synced at its master', () => {
    const row = (dpid: number, role: 'master' | 'slave', installed: number) => ({ dpid, connected: true, desiredFlows: 5, installedFlows: installed, role });
    expect(clusterSynced([[row(1, 'master', 5), row(2, 'slave', 0)], [row(1, 'slave', 0), row(2, 'master', 4)]])).toEqual([1]);
    expect(clusterSynced([[{ dpid: 1, connected: true, desiredFlows: 3, installedFlows: 3 }]])).toEqual([1]);
    expect(clusterSynced([[row(1, 'master', 5)], [{ ...row(1, 'slave', 0), connected: false }]])).toEqual([]);
  });
});
