/**
 * One endpoint added and installed, with N VPCs of OVN's workload loaded (bench/ovn-workload.lib.ts):
 * the latency from the request to the barrier replies of every switch that had to change. Everything
 * real except the HTTP hop: the intent service writes the SQLite store (WAL, synchronous=FULL) in a
 * transaction, the incremental compiler computes the delta, the controller sends flow-mods and
 * barriers over TCP (native channel) to the leaf-spine's softswitches, which run in worker processes
 * (bench/switch-host.lib.ts), and waits for their replies.
 *
 * The store is seeded with the workload in one transaction and the controller started on it, as after
 * a restart: the first sync pushes every switch's tables (its time is printed too). Baseline in the
 * same run: the same adds at the smallest size with the store in memory (no fsync), to show what
 * durability costs; and the p50 ratio between the sizes (flat = 1.0).
 *
 *   node scripts/run-bench.js endpoint-install -- --vpcs 1000,10000 --adds 300
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createIntentService } from '../src/controller/intent/index.js';
import { formatId, openIntentStore, openIntentStoreInDir, type IdKind, type IntentStore, type StoreWrite } from '../src/controller/store/index.js';
import type { Intent, Topology } from '../src/model/index.js';
import { ovnTopology, ovnWorkload } from './ovn-workload.lib.js';
import { startInstalledController } from './installed-controller.lib.js';
import { runSwitchHostIfChild } from './switch-host.lib.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const ADDS = Number(flag('adds', '300'));
const SIZES = flag('vpcs', '1000,10000').split(',').map(Number);
const WORKERS = Number(flag('workers', '3'));
/** The switch workers' V8 heap limit (MB; 0: node's default): a worker of two leaves at 10,000 VPCs holds ~4 M flows. */
const SWITCH_HEAP_MB = Number(flag('switch-heap-mb', '0'));
/** The in-memory-store baseline runs at the smallest size, or this many VPCs (0: none). */
const BASELINE_VPCS = Number(flag('baseline-vpcs', flag('vpcs', '1000').split(',')[0]));
const logger = pino({ level: 'silent' });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Writes the workload into the store in one transaction, with the store's own ids. */
async function seed(store: IntentStore, intent: Intent): Promise<void> {
  const state = await store.load();
  const lastSeq: Record<IdKind, number> = { ...state.lastSeq };
  const ids = new Map<string, string>();
  const id = (kind: IdKind, old: string) => {
    const fresh = formatId(kind, ++lastSeq[kind]);
    ids.set(old, fresh);
    return fresh;
  };
  const of = (old: string) => ids.get(old) ?? old;
  const writes: StoreWrite[] = [];
  for (const v of intent.vpcs.values()) writes.push({ kind: 'vpc', id: id('vpc', v.id), value: { ...v, id: of(v.id) } });
  for (const s of intent.subnets.values()) writes.push({ kind: 'subnet', id: id('subnet', s.id), value: { ...s, id: of(s.id), vpcId: of(s.vpcId) } });
  for (const e of intent.endpoints.values()) {
    writes.push({ kind: 'endpoint', id: id('endpoint', e.id), value: { ...e, id: of(e.id), vpcId: of(e.vpcId), subnetId: of(e.subnetId) } });
  }
  for (const x of intent.elasticIps?.values() ?? []) {
    const fresh = id('elasticIp', x.id);
    writes.push({ kind: 'elasticIp', id: fresh, value: { ...x, id: fresh, ...(x.endpointId ? { endpointId: of(x.endpointId) } : {}) } });
  }
  for (const lb of intent.loadBalancers?.values() ?? []) {
    const fresh = id('loadBalancer', lb.id);
    writes.push({ kind: 'loadBalancer', id: fresh, value: { ...lb, id: fresh, vpcId: of(lb.vpcId) } });
  }
  const r = await store.commit({ basedOn: state.revision, writes, lastSeq });
  if (!r.ok) throw new Error('the store moved while it was seeded');
}

/** The OVN topology with every leaf's endpoint ports declared (the switches themselves carry none). */
function withPorts(t: Topology, upTo: number): Topology {
  return {
    ...t,
    switches: t.switches.map((s) =>
      s.name.startsWith('leaf') ? { ...s, ports: [...s.ports, ...Array.from({ length: upTo - 99 }, (_, i) => ({ number: 100 + i }))] } : s,
    ),
  };
}

/**
 * One add split where it spent its time: until `create` resolves (validation, the SQLite commit, and
 * the runtime's listener: incremental compile, flow-mods encoded and queued), then until every changed
 * switch's barrier reply (the write, the switch's apply, the replies).
 */
interface Phases {
  totalMs: number;
  createMs: number;
  barrierMs: number;
}

interface Result {
  /** The slowest adds, split by phase: where the tail goes. */
  slowest: Phases[];
  p50: number;
  p99: number;
  max: number;
  flows: number[];
  firstSyncMs: number;
  firstSyncCpuSec: { controller: number; switches: number };
  firstSyncReconciles: number;
  controllerRssMb: number;
  switchRssMb: number;
}

async function run(vpcs: number, durable: boolean): Promise<Result> {
  const base = ovnTopology(2, 4);
  const work = ovnWorkload(base, vpcs);
  const addPortBase = Math.max(...work.nextPort.values()) + 1;
  const topology = withPorts(base, addPortBase + 4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overcast-bench-'));
  const store = durable ? openIntentStoreInDir(dir) : openIntentStore(':memory:');
  await seed(store, work.intent);
  const intent = await createIntentService({ seedTopology: topology }, { store, logger });
  const installed = await startInstalledController(intent, topology, { workers: WORKERS, logger, ...(SWITCH_HEAP_MB > 0 ? { switchHeapMb: SWITCH_HEAP_MB } : {}) });
  const { runtime, hosts, firstSyncMs, firstSyncCpuSec, firstSyncReconciles } = installed;

  // One endpoint at a time into a VPC in turn (subnet 0), on a leaf in turn, then deleted again.
  const vpcIds = [...intent.intent().vpcs.keys()];
  const subnetOf = new Map([...intent.intent().subnets.values()].filter((s) => s.name.endsWith('-s0')).map((s) => [s.vpcId, s.id]));
  const leaves = work.leaves;
  const samples: number[] = [];
  const phases: Phases[] = [];
  for (let i = 0; i < ADDS; i++) {
    const vpc = vpcIds[(i * 7919) % vpcIds.length];
    const t = performance.now();
    const ep = await intent.endpoints.create({ kind: 'function', vpc, subnet: subnetOf.get(vpc) ?? '', dpid: leaves[i % leaves.length], port: addPortBase + (i % 4) });
    const created = performance.now();
    await runtime.settled();
    const done = performance.now();
    samples.push(done - t);
    phases.push({ totalMs: done - t, createMs: created - t, barrierMs: done - created });
    await intent.endpoints.delete(ep.id);
    await runtime.settled();
  }
  const flows = installed.installedFlows();
  const controllerRssMb = process.memoryUsage().rss / 2 ** 20;
  const switchRssMb = hosts.rssMb();
  await installed.stop();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  samples.sort((a, b) => a - b);
  phases.sort((a, b) => b.totalMs - a.totalMs);
  return {
    slowest: phases.slice(0, 3), p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples[samples.length - 1], flows, firstSyncMs, firstSyncCpuSec, firstSyncReconciles, controllerRssMb, switchRssMb };
}

async function main(): Promise<void> {
  console.log(
    `add one endpoint, request -> barrier replies from every changed switch (OVN workload, leaf-spine 2x4 + gateway: 6 softswitches in ${WORKERS} worker processes over TCP, ${ADDS} adds per size; load average ${os.loadavg()[0].toFixed(1)})`,
  );
  // Each row as soon as it is measured: the largest size takes many minutes.
  // The first sync's CPU seconds (controller / switch workers) beside its wall time: on a shared
  // machine the wall time mostly says how busy the other tenants were.
  console.log(`store   VPCs     p50 ms   p99 ms   max ms   first sync   CPU ctl / sw   syncs   controller RSS   switches RSS   flows per switch   load`);
  const line = (store: string, n: number, r: Result) =>
    console.log(
      `${store.padEnd(7)} ${String(n).padStart(6)}  ${r.p50.toFixed(2).padStart(7)}  ${r.p99.toFixed(2).padStart(7)}  ${r.max.toFixed(2).padStart(7)}  ${(r.firstSyncMs / 1000).toFixed(1).padStart(9)} s  ${r.firstSyncCpuSec.controller.toFixed(0).padStart(5)} / ${r.firstSyncCpuSec.switches.toFixed(0).padStart(3)} s  ${String(r.firstSyncReconciles).padStart(5)}  ${r.controllerRssMb.toFixed(0).padStart(12)} MB  ${r.switchRssMb.toFixed(0).padStart(10)} MB   ${r.flows.join(', ')}   ${os.loadavg()[0].toFixed(1)}`,
    );
  const memory = BASELINE_VPCS > 0 ? await run(BASELINE_VPCS, false) : undefined;
  if (memory) line('memory', BASELINE_VPCS, memory);
  const rows: [number, Result][] = [];
  for (const n of SIZES) {
    const r = await run(n, true);
    rows.push([n, r]);
    line('sqlite', n, r);
    console.log(`  slowest adds, create + barriers ms: ${r.slowest.map((p) => `${p.createMs.toFixed(1)} + ${p.barrierMs.toFixed(1)}`).join(', ')}`);
  }
  const [n0, r0] = rows[0];
  if (memory && BASELINE_VPCS === n0) console.log(`fsync'd durability at ${n0} VPCs: p50 x${(r0.p50 / memory.p50).toFixed(2)}`);
  if (rows.length > 1) {
    const [n1, r1] = rows[rows.length - 1];
    console.log(`cost per endpoint ${n0} -> ${n1} VPCs: p50 x${(r1.p50 / r0.p50).toFixed(2)}, p99 x${(r1.p99 / r0.p99).toFixed(2)} (target: p50 under 1.3)`);
  }
  const [nLast, rLast] = rows[rows.length - 1];
  console.log(`target: p99 < 5 ms with ${nLast} VPCs -> ${rLast.p99 < 5 ? 'met' : 'not met'}`);
}

if (!runSwitchHostIfChild()) await main();
