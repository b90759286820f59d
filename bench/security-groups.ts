/**
 * Security groups at cloud scale: 10,000 endpoints in 1,000 groups of 10 rules each, a quarter of the
 * rules naming another group (so a group's members are clause-2 flows of the rules naming it), in one
 * VPC on the OVN leaf-spine (2 spines x 4 leaves + gateway). Measured:
 *   - a full compile from scratch: time, flows per switch, heap retained;
 *   - one membership change request (an endpoint moved to another group over the intent service, the
 *     SQLite store with fsync, the incremental compiler, flow-mods and barriers over TCP to the
 *     softswitches in worker processes) -> every changed switch's barrier reply: p50/p99; and apart,
 *     its two parts: the store's commit (validation, the SQLite transaction and its fsync) and the
 *     install after it (compile, push, the softswitches applying the flow-mods, barrier replies).
 * Baseline in the same run: the same workload with no group rules (only each VPC's default group),
 * so the ratio shows what the rules cost.
 *
 *   node scripts/run-bench.js security-groups -- --endpoints 10000 --groups 1000 --changes 200
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createIntentService } from '../src/controller/intent/index.js';
import { openIntentStoreInDir, type IntentStore, type StoreWrite } from '../src/controller/store/index.js';
import { createIncrementalCompiler } from '../src/compiler/index.js';
import type { Endpoint, Intent, SecurityGroup, SecurityRule, Topology } from '../src/model/index.js';
import { ovnTopology } from './ovn-workload.lib.js';
import { logWorkerGcIfAsked, recordChangePhases } from './change-phases.lib.js';
import { startInstalledController } from './installed-controller.lib.js';
import { runSwitchHostIfChild } from './switch-host.lib.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const ENDPOINTS = Number(flag('endpoints', '10000'));
const GROUPS = Number(flag('groups', '1000'));
const RULES = Number(flag('rules', '10'));
const CHANGES = Number(flag('changes', '200'));
const WORKERS = Number(flag('workers', '3'));
/** With `--phases N`: the N slowest changes of each run, phase by phase (change-phases.lib.ts). */
const PHASES = Number(flag('phases', '0'));
const PORT_BASE = 100;
const logger = pino({ level: 'silent' });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The workload with the store's own ids: vpc-1, subnet-1, sg-1 (default), sg-2.., ep-1... */
function workload(topology: Topology, withRules: boolean): { intent: Intent; leaves: number[] } {
  const random = prng(7);
  const leaves = topology.switches.filter((s) => s.name.startsWith('leaf')).map((s) => s.dpid);
  const groups: SecurityGroup[] = [{ id: 'sg-1', vpcId: 'vpc-1', name: 'default', isDefault: true, rules: [{ direction: 'ingress', protocol: 'any', group: 'sg-1' }, { direction: 'egress', protocol: 'any', cidr: { network: 0, prefixLength: 0 } }] }];
  for (let g = 0; g < GROUPS; g++) {
    const rules: SecurityRule[] = [];
    for (let r = 0; withRules && r < RULES; r++) {
      const from = 1000 + Math.floor(random() * 60000);
      const ports = { from, to: random() < 0.5 ? from : from + Math.floor(random() * 100) };
      const protocol = random() < 0.8 ? 'tcp' : 'udp';
      rules.push(
        random() < 0.25
          ? { direction: 'ingress', protocol, ports, group: `sg-${2 + Math.floor(random() * GROUPS)}` }
          : { direction: random() < 0.7 ? 'ingress' : 'egress', protocol, ports, cidr: { network: (0x0a000000 | (Math.floor(random() * 256) << 8)) >>> 0, prefixLength: 24 } },
      );
    }
    groups.push({ id: `sg-${g + 2}`, vpcId: 'vpc-1', name: `g${g}`, isDefault: false, rules });
  }
  const endpoints: Endpoint[] = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    endpoints.push({
      id: `ep-${i + 1}`,
      kind: 'container',
      vpcId: 'vpc-1',
      subnetId: 'subnet-1',
      dpid: leaves[i % leaves.length],
      port: PORT_BASE + Math.floor(i / leaves.length),
      mac: 0x060000000000 + i + 1,
      ip: (0x0a000000 + 2 + i) >>> 0,
      labels: {},
      securityGroups: [`sg-${2 + (i % GROUPS)}`],
    });
  }
  return {
    intent: {
      vpcs: new Map([['vpc-1', { id: 'vpc-1', name: 'big', vni: 1, cidr: { network: 0x0a000000, prefixLength: 8 } }]]),
      subnets: new Map([['subnet-1', { id: 'subnet-1', vpcId: 'vpc-1', name: 'all', cidr: { network: 0x0a000000, prefixLength: 16 }, gateway: 0x0a000001 }]]),
      endpoints: new Map(endpoints.map((e) => [e.id, e])),
      securityGroups: new Map(groups.map((g) => [g.id, g])),
    },
    leaves,
  };
}

/** Writes the workload as one transaction, with the ids it already has (the store's own). */
async function seed(store: IntentStore, intent: Intent): Promise<void> {
  const writes: StoreWrite[] = [
    ...[...intent.vpcs.values()].map((value): StoreWrite => ({ kind: 'vpc', id: value.id, value })),
    ...[...intent.subnets.values()].map((value): StoreWrite => ({ kind: 'subnet', id: value.id, value })),
    ...[...(intent.securityGroups?.values() ?? [])].map((value): StoreWrite => ({ kind: 'securityGroup', id: value.id, value })),
    ...[...intent.endpoints.values()].map((value): StoreWrite => ({ kind: 'endpoint', id: value.id, value })),
  ];
  const lastSeq = { vpc: intent.vpcs.size, subnet: intent.subnets.size, securityGroup: intent.securityGroups?.size ?? 0, endpoint: intent.endpoints.size };
  const r = await store.commit({ basedOn: (await store.load()).revision, writes, lastSeq });
  if (!r.ok) throw new Error('the store moved while it was seeded');
}

function withPorts(t: Topology, upTo: number): Topology {
  return {
    ...t,
    switches: t.switches.map((s) => (s.name.startsWith('leaf') ? { ...s, ports: [...s.ports, ...Array.from({ length: upTo - PORT_BASE + 1 }, (_, i) => ({ number: PORT_BASE + i }))] } : s)),
  };
}

interface Result {
  compileMs: number;
  heapMb: number;
  flows: number[];
  p50: number;
  p99: number;
  /** The store's commit (up to the store's watchers) and the rest (up to the barrier replies). */
  commit: { p50: number; p99: number };
  install: { p50: number; p99: number };
  firstSyncMs: number;
}

async function run(withRules: boolean): Promise<Result> {
  const base = ovnTopology(2, 4);
  const leafCount = base.switches.filter((s) => s.name.startsWith('leaf')).length;
  const topology = withPorts(base, PORT_BASE + Math.ceil(ENDPOINTS / leafCount));
  const { intent: work } = workload(topology, withRules);
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const compiler = createIncrementalCompiler(topology, work);
  const compileMs = performance.now() - t0;
  globalThis.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  const flows = [...compiler.stats().flowsPerSwitch.values()];
  void compiler;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overcast-bench-sg-'));
  const store = openIntentStoreInDir(dir);
  await seed(store, work);
  // Watchers hear a commit in the order they registered: this one, before the intent service's,
  // marks the end of the store's part of a change.
  let committedAt = 0;
  const unwatch = store.watch((await store.load()).revision, {
    batch: () => {
      committedAt = performance.now();
    },
    reset: () => undefined,
    error: () => undefined,
  });
  const phases = PHASES > 0 ? recordChangePhases(store, (await store.load()).revision, path.join(dir, 'intent.sqlite')) : undefined;
  const intent = await createIntentService({ seedTopology: topology }, { store, logger });
  const recorder = phases?.attach(intent);
  const installed = await startInstalledController(intent, topology, { workers: WORKERS, logger, syncTimeoutMs: 900_000 });
  const { runtime, firstSyncMs } = installed;
  recorder?.watchSwitches(installed.controller);

  // One membership change at a time: an endpoint moves to another group (then the next one).
  const samples: number[] = [];
  const commits: number[] = [];
  const installs: number[] = [];
  const random = prng(11);
  for (let i = 0; i < CHANGES; i++) {
    const ep = `ep-${1 + Math.floor(random() * ENDPOINTS)}`;
    const group = `sg-${2 + Math.floor(random() * GROUPS)}`;
    const t = performance.now();
    recorder?.begin();
    await intent.endpoints.update(ep, { securityGroups: [group] });
    await runtime.settled();
    const done = performance.now();
    recorder?.end();
    samples.push(done - t);
    commits.push(committedAt - t);
    installs.push(done - committedAt);
  }
  unwatch();
  if (recorder) {
    console.log(`${withRules ? `${RULES} rules per group` : 'no rules'}: ${recorder.report(PHASES).join('\n')}`);
    recorder.stop();
  }
  await installed.stop();
  intent.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const p50p99 = (xs: number[]) => {
    xs.sort((a, b) => a - b);
    return { p50: percentile(xs, 50), p99: percentile(xs, 99) };
  };
  return { compileMs, heapMb, flows, ...p50p99(samples), commit: p50p99(commits), install: p50p99(installs), firstSyncMs };
}

async function main(): Promise<void> {
  console.log(
    `security groups: ${ENDPOINTS} endpoints in ${GROUPS} groups of ${RULES} rules (a quarter naming another group), one VPC, leaf-spine 2x4 + gateway, ${WORKERS} switch worker processes, ${CHANGES} membership changes; load average ${os.loadavg()[0].toFixed(1)}`,
  );
  const baseline = await run(false);
  const full = await run(true);
  console.log(`rules      compile ms   heap MB   first sync   change p50 ms   p99 ms   commit p50/p99   install p50/p99   flows per switch`);
  const pair = (x: { p50: number; p99: number }) => `${x.p50.toFixed(2)} / ${x.p99.toFixed(2)}`.padStart(16);
  const line = (name: string, r: Result) =>
    console.log(
      `${name.padEnd(9)} ${r.compileMs.toFixed(0).padStart(10)}  ${r.heapMb.toFixed(0).padStart(8)}  ${(r.firstSyncMs / 1000).toFixed(1).padStart(9)} s  ${r.p50.toFixed(2).padStart(13)}  ${r.p99.toFixed(2).padStart(7)}  ${pair(r.commit)}  ${pair(r.install)}   ${r.flows.join(', ')}`,
    );
  line('none', baseline);
  line(`${RULES}/group`, full);
  console.log(`rules' cost: compile x${(full.compileMs / baseline.compileMs).toFixed(2)}, change p99 x${(full.p99 / baseline.p99).toFixed(2)}`);
  console.log(`target: membership change p99 < 5 ms -> ${full.p99 < 5 ? 'met' : 'not met'} (after the store's commit: p99 ${full.install.p99.toFixed(2)} ms -> ${full.install.p99 < 5 ? 'met' : 'not met'})`);
}

logWorkerGcIfAsked();
if (!runSwitchHostIfChild()) await main();
