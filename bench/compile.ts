/**
 * The VPC compiler's cost (`npx tsx bench/compile.ts`, or `node --expose-gc --import tsx
 * bench/compile.ts` for steadier heap figures): N VPCs (10, 100, 1000) x 2 subnets x 10 endpoints each,
 * endpoints spread over the leaves of a leaf-spine fabric (deterministic pseudo-random placement).
 * Prints, per fabric and N: full compile time (median of runs) and retained heap, then the time of
 * reading every switch's table out of it (`tables()`, what the controller's first push does), flows per switch,
 * and the incremental add-one-endpoint latency (p50/p99 over many adds, each followed by its delete),
 * with the full recompute / incremental ratio measured in the same run.
 *
 * Flags: --sizes 10,100,1000  --adds 1000  --runs 3
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createIncrementalCompiler, type IncrementalCompiler } from '../src/compiler/index.js';
import { generateLeafSpine, type Endpoint, type Intent, type Subnet, type Topology, type Vpc } from '../src/model/index.js';
import { prng as rng } from '../test/support/prng.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const SIZES = flag('sizes', '10,100,1000').split(',').map(Number);
const ADDS = Number(flag('adds', '1000'));
const RUNS = Number(flag('runs', '3'));
/** First endpoint port on a leaf (below it: the generated hosts' ports, none here, and the uplinks). */
const ENDPOINT_PORT_BASE = 100;

const gc = (globalThis as { gc?: () => void }).gc;


interface Workload {
  intent: Intent;
  leaves: number[];
  nextPort: Map<number, number>;
}

function buildIntent(topology: Topology, vpcCount: number): Workload {
  const leaves = topology.switches.filter((s) => s.name.startsWith('leaf')).map((s) => s.dpid);
  const nextPort = new Map(leaves.map((d) => [d, ENDPOINT_PORT_BASE]));
  const random = rng(42);
  const vpcs: Vpc[] = [];
  const subnets: Subnet[] = [];
  const endpoints: Endpoint[] = [];
  let mac = 0x020000000000;
  for (let v = 1; v <= vpcCount; v++) {
    const vpcId = `vpc-${v}`;
    // Every VPC uses the same address plan: overlap is the normal case.
    vpcs.push({ id: vpcId, name: vpcId, vni: v, cidr: { network: 0x0a000000, prefixLength: 16 } });
    for (let s = 0; s < 2; s++) {
      const subnetId = `${vpcId}-s${s}`;
      const network = 0x0a000000 + s * 256;
      subnets.push({ id: subnetId, vpcId, name: subnetId, cidr: { network, prefixLength: 24 }, gateway: network + 1 });
      for (let e = 0; e < 10; e++) {
        const dpid = leaves[Math.floor(random() * leaves.length)];
        const port = nextPort.get(dpid) ?? ENDPOINT_PORT_BASE;
        nextPort.set(dpid, port + 1);
        endpoints.push({ id: `${subnetId}-e${e}`, kind: 'container', vpcId, subnetId, dpid, port, mac: ++mac, ip: network + 10 + e, labels: {} });
      }
    }
  }
  return {
    intent: {
      vpcs: new Map(vpcs.map((x) => [x.id, x])),
      subnets: new Map(subnets.map((x) => [x.id, x])),
      endpoints: new Map(endpoints.map((x) => [x.id, x])),
    },
    leaves,
    nextPort,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const heapMb = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

function bench(label: string, topology: Topology, n: number): void {
  const work = buildIntent(topology, n);
  const times: number[] = [];
  const cpus: number[] = [];
  const reads: number[] = [];
  let compiler: IncrementalCompiler | undefined;
  let heap = 0;
  for (let r = 0; r < RUNS; r++) {
    compiler = undefined;
    const before = heapMb();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    compiler = createIncrementalCompiler(topology, work.intent);
    const c1 = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpus.push((c1.user + c1.system) / 1000);
    heap = heapMb() - before;
    const t1 = performance.now();
    compiler.tables();
    reads.push(performance.now() - t1);
  }
  const c = compiler as IncrementalCompiler;
  const stats = c.stats();
  const spines = topology.switches.filter((s) => s.name.startsWith('spine')).map((s) => stats.flowsPerSwitch.get(s.dpid) ?? 0);
  const leaves = work.leaves.map((d) => stats.flowsPerSwitch.get(d) ?? 0);
  const range = (xs: number[]) => `${Math.min(...xs)}..${Math.max(...xs)} (avg ${Math.round(xs.reduce((a, b) => a + b, 0) / xs.length)})`;

  // Incremental: add one endpoint to a random existing VPC on a random leaf, then delete it again.
  const random = rng(7);
  const addUs: number[] = [];
  const delUs: number[] = [];
  let flowsAdded = 0;
  for (let i = 0; i < ADDS; i++) {
    const v = 1 + Math.floor(random() * n);
    const dpid = work.leaves[Math.floor(random() * work.leaves.length)];
    const port = (work.nextPort.get(dpid) ?? ENDPOINT_PORT_BASE) + 1;
    const subnetId = `vpc-${v}-s0`;
    const endpoint: Endpoint = { id: `extra-${i}`, kind: 'function', vpcId: `vpc-${v}`, subnetId, dpid, port, mac: 0x02ff00000000 + i, ip: 0x0a000000 + 200, labels: {} };
    let t0 = performance.now();
    const delta = c.apply({ kind: 'endpoint', op: 'add', endpoint });
    addUs.push((performance.now() - t0) * 1000);
    for (const d of delta.values()) flowsAdded += d.add.length;
    t0 = performance.now();
    c.apply({ kind: 'endpoint', op: 'delete', id: endpoint.id });
    delUs.push((performance.now() - t0) * 1000);
  }
  const full = median(times);
  console.log(
    [
      `${label} N=${String(n).padStart(4)} VPCs (${work.intent.endpoints.size} endpoints):`,
      `full compile ${full.toFixed(1)} ms wall / ${median(cpus).toFixed(1)} ms CPU (median of ${RUNS}, load ${loadavg()[0].toFixed(1)}), heap ${gc ? `${heap.toFixed(1)} MB` : `~${heap.toFixed(1)} MB (no --expose-gc)`}, tables() ${median(reads).toFixed(1)} ms,`,
      `${stats.flows} flows: leaves ${range(leaves)}, spines ${range(spines)};`,
      `add one endpoint p50 ${pct(addUs, 50).toFixed(0)} us p99 ${pct(addUs, 99).toFixed(0)} us (${(flowsAdded / ADDS).toFixed(1)} flows),`,
      `delete p50 ${pct(delUs, 50).toFixed(0)} us;`,
      `full / incremental add = ${(full / (pct(addUs, 50) / 1000)).toFixed(0)}x`,
    ].join(' '),
  );
}

console.log(`node ${process.version}; ${ADDS} adds per size; heap = retained after compile${gc ? '' : ' (run with --expose-gc for steadier figures)'}`);
const fabrics: [string, Topology][] = [
  ['leaf-spine 2x4 ', generateLeafSpine(2, 4, 0)],
  ['leaf-spine 4x16', generateLeafSpine(4, 16, 0)],
];
for (const [label, topology] of fabrics) for (const n of SIZES) bench(label, topology, n);
