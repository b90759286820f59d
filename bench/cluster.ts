/**
 * A controller cluster on etcd (docs/cluster.md), two figures:
 *
 * 1. Writes: VPC creates through the intent service, one after another (latency p50/p99, and the
 *    rate that gives), on the etcd store (a private one-member etcd on loopback, started here) and on
 *    SQLite (WAL, synchronous=FULL) in the same run; then two services on one etcd writing at once
 *    (each write a Txn that a write of the other may make retry).
 * 2. Failover: a lab of three controllers (real processes) and a leaf-spine fabric; a random
 *    controller is killed with SIGKILL, and the time runs until every switch it mastered has a new
 *    master whose reconcile got its barrier replies (the switch's lastSync at the new master). The
 *    lease TTL is part of it: the lease expires between 2/3 TTL and TTL after the kill.
 *
 *   node scripts/run-bench.js cluster -- [--writes 300] [--kills 20] [--lease-ttl-s 2] [--skip-failover]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createIntentService, type IntentService } from '../src/controller/intent/index.js';
import { connectEtcd } from '../src/controller/store/etcd/etcd-connection.js';
import { createEtcdIntentStore } from '../src/controller/store/etcd/etcd-intent-store.js';
import { openIntentStoreInDir, type IntentStore } from '../src/controller/store/index.js';
import { startEtcd } from '../src/lab/etcd-process.js';
import { startLab } from '../src/lab/index.js';
import { parseTopology } from '../src/model/index.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const WRITES = Number(flag('writes', '300'));
const KILLS = Number(flag('kills', '20'));
const LEASE_TTL_S = Number(flag('lease-ttl-s', '2'));
const logger = pino({ level: 'silent' });
// run-bench.js runs benchmarks from the repository root.
const topologyFile = path.resolve('topologies', 'leaf-spine.yaml');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const fmt = (ms: number) => ms.toFixed(2);

async function sequential(label: string, svc: IntentService, n: number, tag: string): Promise<{ p50: number; p99: number; perSec: number }> {
  const lat: number[] = [];
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await svc.vpcs.create({ name: `${tag}-${i}`, cidr: `10.${(i >> 8) & 255}.${i & 255}.0/24` });
    lat.push(performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  lat.sort((a, b) => a - b);
  const r = { p50: percentile(lat, 50), p99: percentile(lat, 99), perSec: n / seconds };
  console.log(`${label.padEnd(34)} p50 ${fmt(r.p50)} ms  p99 ${fmt(r.p99)} ms  ${r.perSec.toFixed(0)} writes/s`);
  return r;
}

async function writes(): Promise<void> {
  const topology = parseTopology(fs.readFileSync(topologyFile, 'utf8'), topologyFile);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overcast-bench-cluster-'));
  const etcd = await startEtcd({ dir: path.join(dir, 'etcd') });
  const opened: { store: IntentStore; svc: IntentService; close?: () => void }[] = [];
  const open = async (store: IntentStore, close?: () => void) => {
    const svc = await createIntentService({ seedTopology: topology }, { store, logger });
    opened.push({ store, svc, close });
    return svc;
  };
  try {
    console.log(`writes: ${WRITES} VPC creates, one at a time`);
    const sqlite = await open(openIntentStoreInDir(path.join(dir, 'sqlite')));
    const base = await sequential('SQLite (baseline, fsync each)', sqlite, WRITES, 's');
    const conn = connectEtcd(`${etcd.url}/seq`);
    const onEtcd = await open(createEtcdIntentStore(conn), () => conn.close());
    const e = await sequential('etcd, one controller', onEtcd, WRITES, 'e');
    console.log(`etcd / SQLite: p50 ${(e.p50 / base.p50).toFixed(2)}x, writes/s ${(e.perSec / base.perSec).toFixed(2)}x`);
    const a = connectEtcd(`${etcd.url}/two`);
    const b = connectEtcd(`${etcd.url}/two`);
    const one = await open(createEtcdIntentStore(a), () => a.close());
    const two = await open(createEtcdIntentStore(b), () => b.close());
    const started = performance.now();
    const [ra, rb] = await Promise.all([sequential('etcd, controller A of two at once', one, WRITES / 2, 'a'), sequential('etcd, controller B of two at once', two, WRITES / 2, 'b')]);
    const together = WRITES / ((performance.now() - started) / 1000);
    console.log(`etcd, two controllers together: ${together.toFixed(0)} writes/s (p99 ${fmt(Math.max(ra.p99, rb.p99))} ms)`);
  } finally {
    for (const o of opened) {
      o.svc.close();
      await o.store.close();
      o.close?.();
    }
    await etcd.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Row {
  dpid: number;
  role?: string;
  lastSync?: { timeMs: number; ok: boolean };
}

async function failover(): Promise<void> {
  console.log(`\nfailover: ${KILLS} kills in a lab of 3 controllers (leaf-spine), lease TTL ${LEASE_TTL_S} s`);
  const lab = await startLab({ topologyFile, controllers: 3, leaseTtlS: LEASE_TTL_S, logLevel: 'warn', readyTimeoutMs: 120_000, startTimeoutMs: 120_000 });
  const auth = { authorization: `Bearer ${lab.token}` };
  const json = async <T>(url: string): Promise<T> => (await (await fetch(url, { headers: auth })).json()) as T;
  const times: number[] = [];
  try {
    for (let k = 0; k < KILLS; k++) {
      const cluster = await json<{ masters: { dpid: number; master: string | null }[] }>(`${lab.apiUrl}/v1/cluster`);
      // A victim that masters something (after a restart it may not yet).
      const owned = new Map<string, number[]>();
      for (const m of cluster.masters) if (m.master) owned.set(m.master, [...(owned.get(m.master) ?? []), m.dpid]);
      const candidates = lab.controllers.filter((c) => (owned.get(c.name)?.length ?? 0) > 0);
      const victim = candidates[Math.floor(Math.random() * candidates.length)] ?? lab.controllers[0];
      const dpids = owned.get(victim.name) ?? [];
      const killedAt = Date.now();
      await lab.killController(victim.name);
      const survivors = lab.controllers.filter((c) => c.name !== victim.name);
      for (;;) {
        const views = await Promise.all(survivors.map(async (c) => (await json<{ switches: Row[] }>(`${c.apiUrl}/v1/switches`)).switches));
        const done = dpids.map((d) => views.flatMap((v) => v.filter((r) => r.dpid === d && r.role === 'master' && r.lastSync?.ok && r.lastSync.timeMs >= killedAt)).map((r) => r.lastSync?.timeMs ?? 0)[0]);
        if (done.every((t) => t !== undefined)) {
          times.push(Math.max(...(done as number[])) - killedAt);
          break;
        }
        if (Date.now() - killedAt > 30_000) throw new Error(`no new master for ${dpids.join(',')} within 30 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await lab.startController(victim.name);
      // Wait until the restarted member is back in the cluster before the next kill.
      for (;;) {
        const c = await json<{ members: { id: string; healthy: boolean }[]; masters: { master: string | null }[] }>(`${survivors[0].apiUrl}/v1/cluster`);
        if (c.members.length === 3 && c.members.every((m) => m.healthy) && c.masters.every((m) => m.master)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      process.stdout.write(`  kill ${k + 1}: ${times[times.length - 1]} ms\n`);
    }
  } finally {
    await lab.stop();
  }
  const sorted = [...times].sort((a, b) => a - b);
  const ttlMs = LEASE_TTL_S * 1000;
  console.log(`failover (kill -> new master's barrier replies): p50 ${percentile(sorted, 50)} ms  p99 ${percentile(sorted, 99)} ms  (n=${sorted.length})`);
  console.log(`after the lease expired (at most TTL after the kill): p50 <= ${Math.max(0, percentile(sorted, 50) - (2 * ttlMs) / 3).toFixed(0)} ms  p99 <= ${Math.max(0, percentile(sorted, 99) - (2 * ttlMs) / 3).toFixed(0)} ms`);
}

await writes();
if (!args.includes('--skip-failover')) await failover();
