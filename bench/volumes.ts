/**
 * Volumes at the scale storage arrays are sized for: 1k, 16k and 64k volumes, each with one
 * attachment with its mount and source addresses (as the intent service makes it), on leaf-spine
 * (2 spines, 4 leaves as softswitches in worker processes over TCP, native channel). 63 storage
 * targets in a storage VPC serve them; 4,096 function endpoints mount them, half in the storage VPC
 * and half in a clients VPC across VPCs (volume i: target i mod 63, endpoint i mod 4096, so every
 * attachment is its own endpoint/target pair).
 *
 * Per size: one attachment made and installed (request -> barrier replies of every switch that
 * changed; the intent service writes the SQLite store, WAL, synchronous=FULL), p50/p99 over the
 * samples, and the detach likewise; a full recompile of everything (and of the same intent without
 * volumes, the in-run baseline: the difference is the volumes' share); the compiler's heap per
 * attachment (heap with volumes minus without, over the count).
 *
 *   node scripts/run-bench.js volumes -- --volumes 1000,16000,64000 --attaches 200
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createIncrementalCompiler } from '../src/compiler/index.js';
import { createIntentService } from '../src/controller/intent/index.js';
import { MountAllocator } from '../src/controller/intent/mount-addresses.js';
import { IntentIndex } from '../src/controller/store/intent-index.js';
import { formatId, openIntentStoreInDir, type IdKind, type IntentStore, type StoreWrite } from '../src/controller/store/index.js';
import { generateLeafSpine, type Attachment, type Endpoint, type Intent, type Subnet, type Topology, type Volume, type Vpc } from '../src/model/index.js';
import { logWorkerGcIfAsked, recordChangePhases } from './change-phases.lib.js';
import { startInstalledController } from './installed-controller.lib.js';
import { runSwitchHostIfChild } from './switch-host.lib.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const SIZES = flag('volumes', '1000,16000,64000').split(',').map(Number);
const ATTACHES = Number(flag('attaches', '300'));
const WORKERS = Number(flag('workers', '3'));
/** With `--phases N`: the N slowest attaches and detaches, phase by phase (change-phases.lib.ts). */
const PHASES = Number(flag('phases', '0'));
const ENDPOINTS = 4096;
const TARGETS = 63;
/** Endpoints with no attachment, which the timed attaches use (each attach is new flows). */
const SPARE = 64;
const PORT_BASE = 100;
const logger = pino({ level: 'silent' });
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function topology(): Topology {
  const t = generateLeafSpine(2, 4, 0, 'leaf-spine 2x4');
  const perLeaf = Math.ceil((ENDPOINTS + TARGETS + SPARE) / 4) + 1;
  return {
    ...t,
    switches: t.switches.map((s) => (s.name.startsWith('leaf') ? { ...s, ports: [...s.ports, ...Array.from({ length: perLeaf }, (_, i) => ({ number: PORT_BASE + i }))] } : s)),
  };
}

const storageIp = (n: number) => ((10 << 24) | n) >>> 0;
const clientIp = (n: number) => (((172 << 24) | (16 << 16)) + n) >>> 0;

/**
 * Two VPCs: `storage` (10.0.0.0/8, subnet 10.0.0.0/14) with the targets and half of the function
 * endpoints, and `clients` (172.16.0.0/12, subnet 172.16.0.0/14) with the other half, which mount
 * across VPCs. `volumes` volumes with one attachment each, made as the intent service makes them:
 * mount addresses in the endpoint's subnet and a source address in the storage subnet, allocated by
 * the service's own allocator. One transaction.
 */
async function seed(store: IntentStore, volumes: number): Promise<{ spare: string[] }> {
  const state = await store.load();
  const lastSeq: Record<IdKind, number> = { ...state.lastSeq };
  const nextId = (kind: IdKind) => formatId(kind, ++lastSeq[kind]);
  const vpcs = new Map<string, Vpc>();
  const subnets = new Map<string, Subnet>();
  const endpoints = new Map<string, Endpoint>();
  const volumeMap = new Map<string, Volume>();
  const storage = { vpc: nextId('vpc'), subnet: nextId('subnet') };
  const clients = { vpc: nextId('vpc'), subnet: nextId('subnet') };
  vpcs.set(storage.vpc, { id: storage.vpc, name: 'storage', vni: 1, cidr: { network: storageIp(0), prefixLength: 8 } });
  vpcs.set(clients.vpc, { id: clients.vpc, name: 'clients', vni: 2, cidr: { network: clientIp(0), prefixLength: 12 } });
  subnets.set(storage.subnet, { id: storage.subnet, vpcId: storage.vpc, name: 's0', cidr: { network: storageIp(0), prefixLength: 14 }, gateway: storageIp(1) });
  subnets.set(clients.subnet, { id: clients.subnet, vpcId: clients.vpc, name: 'c0', cidr: { network: clientIp(0), prefixLength: 14 }, gateway: clientIp(1) });
  let n = 0;
  const place = (kind: 'function' | 'storage', where: { vpc: string; subnet: string }) => {
    const id = nextId('endpoint');
    const i = n++;
    const ip = where === storage ? storageIp(10 + i) : clientIp(10 + i);
    endpoints.set(id, { id, kind, vpcId: where.vpc, subnetId: where.subnet, dpid: 101 + (i % 4), port: PORT_BASE + Math.floor(i / 4), mac: 0x060000000000 + i + 1, ip, labels: {} });
    return id;
  };
  const targets = Array.from({ length: TARGETS }, () => place('storage', storage));
  const functions = Array.from({ length: ENDPOINTS }, (_, i) => place('function', i % 2 === 0 ? storage : clients));
  const spare = Array.from({ length: SPARE }, (_, i) => place('function', i % 2 === 0 ? storage : clients));
  for (let i = 0; i < volumes; i++) {
    const v = nextId('volume');
    volumeMap.set(v, { id: v, name: `v${i}`, protocol: 'iscsi', targets: [targets[i % TARGETS]], ports: [3260] });
  }
  const index = new IntentIndex({ vpcs, subnets, endpoints, volumes: volumeMap });
  const attachments: Attachment[] = [];
  for (const [i, v] of [...volumeMap.values()].entries()) {
    const e = endpoints.get(functions[i % ENDPOINTS]);
    if (!e) throw new Error('unreachable');
    // One allocator per attachment, each attachment indexed before the next: the service's order.
    const alloc = new MountAllocator(index);
    const a: Attachment = { id: nextId('attachment'), volumeId: v.id, endpointId: e.id, mode: 'rw', mounts: alloc.mounts(v, e), source: alloc.source(v) };
    index.putAttachment(a);
    attachments.push(a);
  }
  const writes: StoreWrite[] = [
    ...[...vpcs.values()].map((value): StoreWrite => ({ kind: 'vpc', id: value.id, value })),
    ...[...subnets.values()].map((value): StoreWrite => ({ kind: 'subnet', id: value.id, value })),
    ...[...endpoints.values()].map((value): StoreWrite => ({ kind: 'endpoint', id: value.id, value })),
    ...[...volumeMap.values()].map((value): StoreWrite => ({ kind: 'volume', id: value.id, value })),
    ...attachments.map((value): StoreWrite => ({ kind: 'attachment', id: value.id, value })),
  ];
  const r = await store.commit({ basedOn: state.revision, writes, lastSeq });
  if (!r.ok) throw new Error('the store moved while it was seeded');
  return { spare };
}

interface Result {
  attachP50: number;
  attachP99: number;
  detachP50: number;
  detachP99: number;
  fullMs: number;
  baselineMs: number;
  heapPerAttachmentB: number;
  firstSyncMs: number;
  flows: number[];
}

/** Median time of a full compile over `runs` runs. */
function timeCompile(t: Topology, intent: Intent, runs = 3): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    createIncrementalCompiler(t, intent);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/** Heap the compiler holds for an intent (after gc). */
function compilerHeap(t: Topology, intent: Intent): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const c = createIncrementalCompiler(t, intent);
  gc();
  const held = process.memoryUsage().heapUsed - before;
  if (c.stats().owners < 0) throw new Error('unreachable');
  return held;
}

async function run(volumes: number): Promise<Result> {
  const t = topology();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overcast-bench-volumes-'));
  const store = openIntentStoreInDir(dir);
  const { spare } = await seed(store, volumes);
  const phases = PHASES > 0 ? recordChangePhases(store, (await store.load()).revision, path.join(dir, 'intent.sqlite')) : undefined;
  const intent = await createIntentService({ seedTopology: t }, { store, logger });
  const recorder = phases?.attach(intent);

  const all = intent.intent();
  const bare: Intent = { ...all, volumes: new Map(), attachments: new Map() };
  const fullMs = timeCompile(t, all);
  const baselineMs = timeCompile(t, bare);
  const heapPerAttachmentB = (compilerHeap(t, all) - compilerHeap(t, bare)) / volumes;

  const installed = await startInstalledController(intent, t, { workers: WORKERS, logger });
  const { runtime, firstSyncMs } = installed;
  recorder?.watchSwitches(installed.controller);

  const volumeIds = [...all.volumes?.keys() ?? []];
  const attach: number[] = [];
  const detach: number[] = [];
  for (let i = 0; i < ATTACHES; i++) {
    const volume = volumeIds[(i * 7919) % volumeIds.length];
    let t1 = performance.now();
    recorder?.begin();
    const a = await intent.volumes.attach(volume, { endpoint: spare[i % SPARE] });
    await runtime.settled();
    attach.push(performance.now() - t1);
    recorder?.end();
    t1 = performance.now();
    recorder?.begin();
    await intent.volumes.detach(volume, a.id);
    await runtime.settled();
    detach.push(performance.now() - t1);
    recorder?.end();
  }
  const flows = installed.installedFlows();
  if (recorder) {
    console.log(`${volumes} volumes: ${recorder.report(PHASES).join('\n')}`);
    recorder.stop();
  }
  await installed.stop();
  intent.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  attach.sort((a, b) => a - b);
  detach.sort((a, b) => a - b);
  return {
    attachP50: percentile(attach, 50),
    attachP99: percentile(attach, 99),
    detachP50: percentile(detach, 50),
    detachP99: percentile(detach, 99),
    fullMs,
    baselineMs,
    heapPerAttachmentB,
    firstSyncMs,
    flows,
  };
}

async function main(): Promise<void> {
  console.log(
    `volumes: attach one endpoint to a volume, request -> barrier replies (leaf-spine 2x4 as softswitches in ${WORKERS} worker processes over TCP; ${TARGETS} targets in a storage VPC, ${ENDPOINTS} endpoints half in it and half in a clients VPC, one mounted attachment per volume; ${ATTACHES} attaches per size; load average ${os.loadavg()[0].toFixed(1)})`,
  );
  const rows: [number, Result][] = [];
  for (const n of SIZES) rows.push([n, await run(n)]);
  console.log('volumes  attach p50  attach p99  detach p50  detach p99   full compile  without volumes  volumes\' share  heap/attachment  first sync   flows per switch');
  for (const [n, r] of rows) {
    console.log(
      `${String(n).padStart(7)}  ${r.attachP50.toFixed(2).padStart(7)} ms  ${r.attachP99.toFixed(2).padStart(7)} ms  ${r.detachP50.toFixed(2).padStart(7)} ms  ${r.detachP99.toFixed(2).padStart(7)} ms  ${r.fullMs.toFixed(0).padStart(9)} ms  ${r.baselineMs.toFixed(0).padStart(12)} ms  ${(r.fullMs - r.baselineMs).toFixed(0).padStart(11)} ms  ${r.heapPerAttachmentB.toFixed(0).padStart(12)} B  ${(r.firstSyncMs / 1000).toFixed(1).padStart(7)} s   ${r.flows.join(', ')}`,
    );
  }
  const [n0, r0] = rows[0];
  const [n1, r1] = rows[rows.length - 1];
  if (rows.length > 1) console.log(`attach p50 ${n1}/${n0} volumes: x${(r1.attachP50 / r0.attachP50).toFixed(2)} (target: under 1.5)`);
  console.log(`target: attach p99 < 5 ms at ${n1} volumes -> ${r1.attachP99 < 5 ? 'met' : 'not met'} (${r1.attachP99.toFixed(2)} ms)`);
  console.log(`target: full recompile of ${n1} attachments < 1 s -> ${r1.fullMs < 1000 ? 'met' : 'not met'} (${r1.fullMs.toFixed(0)} ms, of which volumes ${(r1.fullMs - r1.baselineMs).toFixed(0)} ms)`);
}

logWorkerGcIfAsked();
if (!runSwitchHostIfChild()) await main();
