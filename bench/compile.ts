/**
 * The VPC compiler's cost on OVN's workload (bench/ovn-workload.lib.ts: per VPC 2 subnets x 10
 * endpoints, an elastic IP, a load balancer of 4 backends), on leaf-spine with a gateway.
 *
 *   node scripts/run-bench.js compile -- --sizes 1000,10000 [--runs 3] [--adds 1000] [--fabrics 2x4,4x16]
 *
 * Per size: the full compile (createIncrementalCompiler: every owner, from scratch) in wall and CPU
 * time (median of runs; the first run is cold), the heap it retains and the process RSS after it, the
 * time to read every switch's table out (`tables()`), flows per switch, and the incremental cost of
 * one endpoint added (and deleted again) in a random VPC, p50/p99. Then the scaling: CPU per endpoint
 * of the full compile and p50 of an add, largest size against the smallest (flat = 1.0).
 * The baseline in the same run is OVN 23.03 on this workload, measured on this kind of machine
 * (ovn-northd: 5.1 s CPU to recompute 1,000 VPCs, 18.9 s cold, 1.07 GB RSS, 2.6 s per added port).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createIncrementalCompiler, type IncrementalCompiler } from '../src/compiler/index.js';
import type { Endpoint, Topology } from '../src/model/index.js';
import { prng } from '../test/support/prng.js';
import { ENDPOINT_PORT_BASE, ovnTopology, ovnWorkload } from './ovn-workload.lib.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const SIZES = flag('sizes', '1000,10000').split(',').map(Number);
const ADDS = Number(flag('adds', '1000'));
const RUNS = Number(flag('runs', '3'));
const FABRICS = flag('fabrics', '2x4').split(',').map((f) => f.split('x').map(Number) as [number, number]);
/** OVN 23.03 on the same workload at 1,000 VPCs (docs/vpc.md). */
const OVN = { recomputeCpuS: 5.1, coldCpuS: 18.9, rssGb: 1.07, perPortS: 2.6 };

const gc = (globalThis as { gc?: () => void }).gc;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const mb = (bytes: number) => bytes / 2 ** 20;
const heapMb = () => {
  gc?.();
  return mb(process.memoryUsage().heapUsed);
};
const range = (xs: number[]) => `${Math.min(...xs)}..${Math.max(...xs)}`;

interface Row {
  label: string;
  n: number;
  endpoints: number;
  wallMs: number;
  cpuMs: number;
  heapMb: number;
  rssMb: number;
  tablesMs: number;
  flows: number;
  perSwitch: string;
  addP50Us: number;
  addP99Us: number;
  flowsPerAdd: number;
}

function bench(label: string, topology: Topology, n: number): Row {
  const work = ovnWorkload(topology, n);
  const walls: number[] = [];
  const cpus: number[] = [];
  const reads: number[] = [];
  let compiler: IncrementalCompiler | undefined;
  let heap = 0;
  let rss = 0;
  for (let r = 0; r < RUNS; r++) {
    compiler = undefined;
    const before = heapMb();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    compiler = createIncrementalCompiler(topology, work.intent);
    const c1 = process.cpuUsage(c0);
    walls.push(performance.now() - t0);
    cpus.push((c1.user + c1.system) / 1000);
    rss = Math.max(rss, mb(process.memoryUsage().rss));
    heap = heapMb() - before;
    const t1 = performance.now();
    compiler.tables();
    reads.push(performance.now() - t1);
  }
  const c = compiler as IncrementalCompiler;
  const stats = c.stats();
  const flowsOf = (prefix: string) => topology.switches.filter((s) => s.name.startsWith(prefix)).map((s) => stats.flowsPerSwitch.get(s.dpid) ?? 0);
  const gwDpid = topology.switches.find((s) => s.name === 'leaf1')?.dpid ?? 0;
  const perSwitch = `gateway leaf ${stats.flowsPerSwitch.get(gwDpid) ?? 0}, leaves ${range(flowsOf('leaf'))}, spines ${range(flowsOf('spine'))}`;

  // Incremental: one endpoint added to a random VPC on a random leaf, then deleted again.
  const random = prng(7);
  const addUs: number[] = [];
  let flowsAdded = 0;
  for (let i = 0; i < ADDS; i++) {
    const v = 1 + Math.floor(random() * n);
    const dpid = work.leaves[Math.floor(random() * work.leaves.length)];
    const port = (work.nextPort.get(dpid) ?? ENDPOINT_PORT_BASE) + 1;
    const endpoint: Endpoint = { id: `extra-${i}`, kind: 'function', vpcId: `vpc-${v}`, subnetId: `vpc-${v}-s0`, dpid, port, mac: 0x02ff00000000 + i, ip: 0x0a000000 + 200, labels: {} };
    const t0 = performance.now();
    const delta = c.apply({ kind: 'endpoint', op: 'add', endpoint });
    addUs.push((performance.now() - t0) * 1000);
    for (const d of delta.values()) flowsAdded += d.add.length;
    c.apply({ kind: 'endpoint', op: 'delete', id: endpoint.id });
  }
  return {
    label,
    n,
    endpoints: work.endpointCount,
    wallMs: median(walls),
    cpuMs: median(cpus),
    heapMb: heap,
    rssMb: rss,
    tablesMs: median(reads),
    flows: stats.flows,
    perSwitch,
    addP50Us: pct(addUs, 50),
    addP99Us: pct(addUs, 99),
    flowsPerAdd: flowsAdded / ADDS,
  };
}

console.log(`node ${process.version}; OVN workload (2 subnets x 10 endpoints, 1 elastic IP, 1 load balancer of 4 backends per VPC); median of ${RUNS} runs; ${ADDS} adds per size; load ${loadavg()[0].toFixed(1)}`);
console.log(`baseline: OVN 23.03 (ovn-northd) at 1,000 VPCs: recompute ${OVN.recomputeCpuS} s CPU, cold ${OVN.coldCpuS} s CPU, ${OVN.rssGb} GB RSS, ${OVN.perPortS} s per added port`);
for (const [spines, leaves] of FABRICS) {
  const topology = ovnTopology(spines, leaves);
  const rows = SIZES.map((n) => bench(`${spines}x${leaves}`, topology, n));
  for (const r of rows) {
    console.log(
      [
        `leaf-spine ${r.label} + gateway, ${r.n} VPCs (${r.endpoints} endpoints):`,
        `full compile ${r.wallMs.toFixed(0)} ms wall / ${r.cpuMs.toFixed(0)} ms CPU (${((r.cpuMs * 1000) / r.endpoints).toFixed(1)} us CPU per endpoint),`,
        `heap ${r.heapMb.toFixed(0)} MB, RSS ${r.rssMb.toFixed(0)} MB, tables() ${r.tablesMs.toFixed(0)} ms,`,
        `${r.flows} flows (${r.perSwitch});`,
        `add one endpoint p50 ${r.addP50Us.toFixed(0)} us p99 ${r.addP99Us.toFixed(0)} us (${r.flowsPerAdd.toFixed(1)} flows)`,
      ].join(' '),
    );
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (rows.length > 1) {
    const perEp = (r: Row) => r.cpuMs / r.endpoints;
    console.log(
      `scaling ${first.n} -> ${last.n} VPCs: CPU per endpoint x${(perEp(last) / perEp(first)).toFixed(2)}, add p50 x${(last.addP50Us / first.addP50Us).toFixed(2)} (target: under 1.3)`,
    );
  }
  const at1k = rows.find((r) => r.n === 1000);
  if (at1k) {
    console.log(
      `vs OVN at 1,000 VPCs: full compile CPU x${((OVN.recomputeCpuS * 1000) / at1k.cpuMs).toFixed(1)} less than its recompute, x${((OVN.coldCpuS * 1000) / at1k.cpuMs).toFixed(1)} than its cold compile; ` +
        `add x${((OVN.perPortS * 1e6) / at1k.addP50Us).toFixed(0)} faster; RSS ${((at1k.rssMb / 1024 / OVN.rssGb) * 100).toFixed(0)}% of its`,
    );
  }
  const at10k = rows.find((r) => r.n === 10_000);
  if (at10k) console.log(`target at 10,000 VPCs: under 5 s CPU and 1 GB -> ${at10k.cpuMs < 5000 && at10k.rssMb < 1024 ? 'met' : 'not met'} (${(at10k.cpuMs / 1000).toFixed(2)} s, ${at10k.rssMb.toFixed(0)} MB RSS)`);
}
