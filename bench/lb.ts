/**
 * The load-balancer suite (`node scripts/run-bench.js lb`): Maglev select groups.
 *
 * - build: Maglev table build time for N backends (M = 65537), equal and weighted, and the rebuild
 *   without one dead backend (reweightMaglev);
 * - select: per-packet cost of choosing a bucket from a packet key (flowHash + lookup), against a plain
 *   modulo over the buckets and the weighted rendezvous hashing the executor used before, in the same
 *   run; and the whole executor per frame with a select group vs a plain output flow;
 * - disruption: the fraction of connections that change backend when one of N leaves or joins
 *   (Maglev's paper: close to 1/N), over the table and over random connections, with the share that
 *   moved without their backend leaving ("extra");
 * - split: the observed share per revision for 90/10 and 50/50 over 10,000 and 1,000,000 connections.
 *
 * Run: node scripts/run-bench.js lb [-- --quick] [-- --json FILE]
 * --quick: fewer repetitions and connections (a smoke run). Paths are relative to process.cwd().
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { createExecResult, createPipelineExecutor, flowHash, selectBucket, type PipelineEnv } from '../src/flow/execute.js';
import {
  MAGLEV_DEFAULT_SIZE,
  buildMaglev,
  selectTableFor,
  maglevCounts,
  maglevDisruption,
  maglevLookup,
  nextPrime,
  reweightMaglev,
  type MaglevTable,
} from '../src/flow/maglev.js';
import { K, createPacketKey, group, output, setField, type Bucket, type GroupEntry, type PacketKey } from '../src/flow/index.js';
import { ETH_TYPE_IPV4, IP_PROTO_TCP, buildTcpFrame } from '../src/net/index.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const jsonAt = argv.indexOf('--json');
const jsonFile = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;
const report: Record<string, unknown> = { node: process.version, loadavg: loadavg(), quick };

/** Child mode (`--executor-variant inline|indirect|select`): time one executor variant, print ns per frame. */
function executorVariant(variant: string): number {
  const buckets = Array.from({ length: 100 }, (_, i) => endpoint(i));
  const groups = new Map<number, GroupEntry>([
    [1, { groupId: 1, type: 'select', buckets }],
    [2, { groupId: 2, type: 'indirect', buckets: [endpoint(5)] }],
  ]);
  selectTableFor(buckets);
  const actions = variant === 'select' ? [group(1)] : variant === 'indirect' ? [group(2)] : endpoint(5).actions;
  const flow = { table: 0, priority: 1, match: {}, actions, cookie: 0 };
  const env: PipelineEnv = { lookup: () => ({ flow }), group: (id) => groups.get(id), ports: [], tableMiss: 'drop', tableCount: 8 };
  const frames = connections(1024, 7).map((k) =>
    buildTcpFrame({ srcMac: 0x020000000001, dstMac: 0x02000000ffff, srcIp: k[K.IP_SRC], dstIp: k[K.IP_DST], srcPort: k[K.L4_SRC], dstPort: 443 }),
  );
  const FRAMES = quick ? 50_000 : 300_000;
  const ex = createPipelineExecutor(env);
  const res = createExecResult();
  const run = () => {
    // mutable: the softswitch owns each received datagram and rewrites it in place.
    for (let i = 0; i < FRAMES; i++) sink += ex.run(frames[i & 1023], 60, res, { mutable: true }).outCount;
  };
  run();
  run();
  const ts: number[] = [];
  for (let r = 0; r < 7; r++) ts.push(timeMs(run, 1));
  return (Math.min(...ts) * 1e6) / FRAMES;
}

// ---- inputs -----------------------------------------------------------------------------------------

/** xorshift32, seeded: the same connections on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** `count` TCP connections to one VIP: random client address and port. */
function connections(count: number, seed: number): PacketKey[] {
  const next = rng(seed);
  const keys: PacketKey[] = [];
  for (let i = 0; i < count; i++) {
    const k = createPacketKey();
    k[K.ETH_TYPE] = ETH_TYPE_IPV4;
    k[K.IP_SRC] = next();
    k[K.IP_DST] = 0x0a0000fe;
    k[K.IP_PROTO] = IP_PROTO_TCP;
    k[K.L4_SRC] = 1024 + (next() % 64512);
    k[K.L4_DST] = 443;
    keys.push(k);
  }
  return keys;
}
function connectionHashes(count: number, seed: number): Uint32Array {
  const next = rng(seed);
  const k = createPacketKey();
  k[K.ETH_TYPE] = ETH_TYPE_IPV4;
  k[K.IP_DST] = 0x0a0000fe;
  k[K.IP_PROTO] = IP_PROTO_TCP;
  k[K.L4_DST] = 443;
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    k[K.IP_SRC] = next();
    k[K.L4_SRC] = 1024 + (next() % 64512);
    out[i] = flowHash(k);
  }
  return out;
}

/** A function endpoint as a bucket: DNAT to its address and MAC, out of its port. */
const endpoint = (i: number, weight?: number): Bucket => ({
  ...(weight === undefined ? {} : { weight }),
  actions: [setField('ethDst', 0x020000010000 + i), setField('ipv4Dst', 0x0a100000 + i), output(1 + (i % 48))],
});
const names = (n: number) => Array.from({ length: n }, (_, i) => `fn-rev1-${i}`);

// ---- baselines (same run) ---------------------------------------------------------------------------

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  h = Math.imul(h, 0x1b873593);
  return h >>> 0;
}
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
const bucketIds = new WeakMap<Bucket, number>();
function bucketId(b: Bucket): number {
  let id = bucketIds.get(b);
  if (id === undefined) {
    const s = JSON.stringify(b.actions);
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    id = h >>> 0;
    bucketIds.set(b, id);
  }
  return id;
}
/** The executor's select before Maglev: weighted rendezvous hashing, O(buckets) per packet. */
function rendezvousSelect(buckets: readonly Bucket[], hash: number): number {
  let best = -1;
  let bestScore = -1;
  for (let i = 0; i < buckets.length; i++) {
    const w = buckets[i].weight ?? 1;
    if (w <= 0) continue;
    const u = (fmix(mix(hash, bucketId(buckets[i]))) + 0.5) / 0x100000000;
    const score = w / -Math.log(u);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}
/** The naive choice: hash modulo the bucket count (not consistent, not weighted). */
const moduloSelect = (buckets: readonly Bucket[], hash: number): number => (buckets.length === 0 ? -1 : hash % buckets.length);

// ---- helpers ----------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
/**
 * Median CPU time of `reps` runs (after `warmUp` unmeasured ones, so the JIT has settled), in ms. CPU time (process.cpuUsage), not wall time: the machine is
 * shared, and a descheduled run would otherwise count other people's work.
 */
function timeMs(f: () => void, reps: number, warmUp = 0): number {
  for (let r = 0; r < warmUp; r++) f();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.cpuUsage();
    f();
    const d = process.cpuUsage(t0);
    ts.push((d.user + d.system) / 1000);
  }
  return median(ts);
}
const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)}%`;
const pad = (s: string | number, n: number) => String(s).padStart(n);
let sink = 0;

const variantAt = argv.indexOf('--executor-variant');
if (variantAt >= 0) {
  console.log(executorVariant(argv[variantAt + 1]));
  process.exit(0);
}

// ---- 1. build ---------------------------------------------------------------------------------------

console.log(`node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (2 shared cores: figures are ratios, not promises)`);
console.log(`\n# Maglev table build, M = ${MAGLEV_DEFAULT_SIZE}, ms of CPU (median of runs after 3 warm-up builds)`);
console.log(`${pad('backends', 9)} ${pad('equal ms', 9)} ${pad('90/10 revs ms', 14)} ${pad('1 skewed ms', 12)} ${pad('rebuild -1 ms', 14)}`);
const buildRows: unknown[] = [];
for (const n of [10, 100, 1000]) {
  const ns = names(n);
  const reps = quick ? 3 : n >= 1000 ? 9 : 15;
  const equal = timeMs(() => buildMaglev(ns), reps, 3);
  // Two revisions: 90% of traffic over the first 80% of endpoints, 10% over the rest (per-endpoint weights).
  const stableN = Math.max(1, Math.round(n * 0.8));
  const canaryN = n - stableN;
  const revW = ns.map((_, i) => (i < stableN ? Math.round((90 * canaryN) / stableN) || 9 : 10));
  const revs = timeMs(() => buildMaglev(ns, revW), reps, 3);
  const skewW = ns.map((_, i) => (i === 0 ? 65535 : 1));
  const skew = timeMs(() => buildMaglev(ns, skewW), reps, 3);
  const t = buildMaglev(ns);
  const dead = ns.map((_, i) => (i === 3 ? 0 : 1));
  const rebuild = timeMs(() => reweightMaglev(t, dead), reps, 3);
  console.log(`${pad(n, 9)} ${pad(equal.toFixed(2), 9)} ${pad(revs.toFixed(2), 14)} ${pad(skew.toFixed(2), 12)} ${pad(rebuild.toFixed(2), 14)}`);
  buildRows.push({ backends: n, equalMs: equal, revisionsMs: revs, skewedMs: skew, rebuildWithoutOneMs: rebuild });
}
report.build = buildRows;

// ---- 2. per-packet select ---------------------------------------------------------------------------

const PACKETS = quick ? 200_000 : 1_000_000;
const keys = connections(4096, 7); // a working set that stays in cache: this measures the choice, not memory
console.log(`\n# Per-packet select: flowHash(key) + choice, ns of CPU per packet (${PACKETS.toLocaleString('en')} packets, median of 5)`);
console.log(`${pad('buckets', 8)} ${pad('modulo', 8)} ${pad('maglev', 8)} ${pad('rendezvous', 11)} ${pad('maglev/mod', 11)} ${pad('rdv/maglev', 11)}`);
const selectRows: unknown[] = [];
// One loop per method (not a shared loop taking a callback): each gets its own specialised code.
function perPacketModulo(buckets: Bucket[], count: number): number {
  const run = () => {
    let s = 0;
    for (let i = 0; i < count; i++) s += moduloSelect(buckets, flowHash(keys[i & 4095]));
    sink += s;
  };
  run();
  return (timeMs(run, 5) * 1e6) / count;
}
function perPacketMaglev(buckets: Bucket[], count: number): number {
  const run = () => {
    let s = 0;
    for (let i = 0; i < count; i++) s += selectBucket(buckets, flowHash(keys[i & 4095]));
    sink += s;
  };
  run();
  return (timeMs(run, 5) * 1e6) / count;
}
function perPacketRendezvous(buckets: Bucket[], count: number): number {
  const run = () => {
    let s = 0;
    for (let i = 0; i < count; i++) s += rendezvousSelect(buckets, flowHash(keys[i & 4095]));
    sink += s;
  };
  run();
  return (timeMs(run, 3) * 1e6) / count;
}
for (const n of [2, 10, 100, 1000]) {
  const buckets = Array.from({ length: n }, (_, i) => endpoint(i));
  selectTableFor(buckets); // built and cached as the group table does on the group-mod
  const mod = perPacketModulo(buckets, PACKETS);
  const mag = perPacketMaglev(buckets, PACKETS);
  // Rendezvous is O(buckets) per packet: fewer packets for big pools.
  const rdv = perPacketRendezvous(buckets, Math.round(PACKETS / Math.max(1, n / 10)));
  console.log(`${pad(n, 8)} ${pad(mod.toFixed(1), 8)} ${pad(mag.toFixed(1), 8)} ${pad(rdv.toFixed(1), 11)} ${pad((mag / mod).toFixed(2) + 'x', 11)} ${pad((rdv / mag).toFixed(1) + 'x', 11)}`);
  selectRows.push({ buckets: n, moduloNs: mod, maglevNs: mag, rendezvousNs: rdv });
}
report.select = selectRows;

// The whole executor: parse, one flow, the group, DNAT rewrites, output. Against the same rewrites
// inline in the flow (no group), and through an indirect group (a group's own cost: the bucket runs on
// a clone of the packet), so select minus indirect is what choosing by Maglev adds. Each variant runs
// in its own process: they share the executor's code, and whichever ran first would find it
// specialised for itself (measured: up to 2x between orders in one process).
{
  const run = (variant: string) => {
    const r = spawnSync(process.execPath, [process.argv[1], '--executor-variant', variant, ...(quick ? ['--quick'] : [])], { encoding: 'utf8', cwd: process.cwd() });
    const ns = Number(r.stdout.trim().split('\n').pop());
    if (r.status !== 0 || !Number.isFinite(ns)) throw new Error(`executor variant ${variant} failed: ${r.stderr}`);
    return ns;
  };
  // Twice each, interleaved, keeping the lower: the machine is shared and noise only ever adds.
  const best = { inline: Infinity, indirect: Infinity, select: Infinity };
  for (let round = 0; round < 2; round++) for (const v of ['inline', 'indirect', 'select'] as const) best[v] = Math.min(best[v], run(v));
  const { inline: plain, indirect, select: sel } = best;
  console.log(`\n# Executor per frame, ns of CPU (fresh process per variant, best of 2 x 7 runs): parse, one flow, DNAT rewrites (ethDst, ipv4Dst), output`);
  console.log(`inline ${plain.toFixed(0)}, indirect group ${indirect.toFixed(0)} (${(indirect / plain).toFixed(2)}x), 100-bucket select group ${sel.toFixed(0)} (${(sel / plain).toFixed(2)}x; select - indirect = ${(sel - indirect).toFixed(0)} ns)`);
  report.executor = { inlineNs: plain, indirectGroupNs: indirect, selectGroupNs: sel };
}

// ---- 3. disruption ----------------------------------------------------------------------------------

const DISRUPT_CONNS = quick ? 100_000 : 1_000_000;
const disruptHashes = connectionHashes(DISRUPT_CONNS, 11);
console.log(`\n# Disruption when one backend of N leaves / joins (table of M slots; mean over 5 choices of the backend)`);
console.log(`  table: fraction of slots whose backend changes; conns: of ${DISRUPT_CONNS.toLocaleString('en')} random connections;`);
console.log(`  rdv conns: the old rendezvous hashing over 2M/N connections (exactly consistent, O(N) per packet)`);
console.log(`  extra: connections that moved although their backend stayed and not onto the newcomer (0 for an ideal consistent hash)`);
console.log(`${pad('N', 5)} ${pad('M', 7)} ${pad('event', 6)} ${pad('ideal', 8)} ${pad('table', 8)} ${pad('conns', 8)} ${pad('extra', 8)} ${pad('rdv conns', 10)} ${pad('modulo', 8)}`);
const disruptRows: unknown[] = [];
/** Moved connections, and those among them that moved for no reason of their own (not off `gone`, not onto `added`). */
function movedFraction(a: MaglevTable, b: MaglevTable, gone: string | undefined, added: string | undefined): { conns: number; extra: number } {
  const map = a.names.map((nm) => b.names.indexOf(nm));
  let moved = 0;
  let extra = 0;
  for (let i = 0; i < disruptHashes.length; i++) {
    const h = disruptHashes[i];
    const was = maglevLookup(a, h);
    const now = maglevLookup(b, h);
    if (map[was] !== now) {
      moved++;
      if (a.names[was] !== gone && b.names[now] !== added) extra++;
    }
  }
  return { conns: moved / disruptHashes.length, extra: extra / disruptHashes.length };
}
function rendezvousMoved(before: Bucket[], after: Bucket[]): number {
  // O(buckets) per choice: 2M / N connections (200k at N = 10, 2k at N = 1000; said in the docs).
  const count = Math.min(disruptHashes.length, Math.round(2_000_000 / before.length));
  let moved = 0;
  for (let i = 0; i < count; i++) {
    const h = disruptHashes[i];
    if (before[rendezvousSelect(before, h)] !== after[rendezvousSelect(after, h)]) moved++;
  }
  return moved / count;
}
const BIG_M = nextPrime(650_000);
for (const [n, size] of [
  [10, MAGLEV_DEFAULT_SIZE],
  [100, MAGLEV_DEFAULT_SIZE],
  [1000, MAGLEV_DEFAULT_SIZE],
  [1000, BIG_M],
] as const) {
  const ns = names(n);
  const all = buildMaglev(ns, undefined, size);
  const bk = ns.map((_, i) => endpoint(i));
  for (const event of ['leave', 'join'] as const) {
    const trials = [0, 1, 2, 3, 4].map((t) => Math.floor(((t + 0.5) * n) / 5));
    let table = 0;
    let conns = 0;
    let extra = 0;
    let rdv = 0;
    for (const victim of trials) {
      const newcomer = `fn-rev1-new-${victim}`;
      const other = event === 'leave' ? buildMaglev(ns.filter((_, i) => i !== victim), undefined, size) : buildMaglev([...ns, newcomer], undefined, size);
      table += maglevDisruption(all, other);
      const m = movedFraction(all, other, event === 'leave' ? ns[victim] : undefined, event === 'join' ? newcomer : undefined);
      conns += m.conns;
      extra += m.extra;
      const bOther = event === 'leave' ? bk.filter((_, i) => i !== victim) : [...bk, endpoint(100_000 + victim)];
      rdv += rendezvousMoved(bk, bOther);
    }
    const k = trials.length;
    const ideal = event === 'leave' ? 1 / n : 1 / (n + 1);
    // Modulo: a connection keeps its bucket only if hash mod N = hash mod N±1 (about 1/N of them).
    const modulo = 1 - 1 / (event === 'leave' ? n - 1 : n + 1);
    console.log(
      `${pad(n, 5)} ${pad(size, 7)} ${pad(event, 6)} ${pad(pct(ideal), 8)} ${pad(pct(table / k), 8)} ${pad(pct(conns / k), 8)} ${pad(pct(extra / k), 8)} ${pad(pct(rdv / k), 10)} ${pad(pct(modulo, 1), 8)}`,
    );
    disruptRows.push({ backends: n, size, event, ideal, table: table / k, connections: conns / k, extra: extra / k, rendezvous: rdv / k, moduloExpected: modulo });
  }
}
report.disruption = disruptRows;

// ---- 4. split vs weights ----------------------------------------------------------------------------

console.log(`\n# Observed split vs weights (2 revisions; table share, then share of random connections)`);
console.log(`${pad('weights', 14)} ${pad('endpoints', 10)} ${pad('table', 8)} ${pad('10k conns', 10)} ${pad('1M conns', 10)} ${pad('want', 6)}`);
const splitRows: unknown[] = [];
const splitHashes = quick ? connectionHashes(200_000, 23) : connectionHashes(1_000_000, 23);
for (const [wa, wb] of [
  [90, 10],
  [50, 50],
] as const) {
  // One endpoint per revision, then a realistic pool: 9 endpoints of the stable revision, 3 of the canary
  // (per-endpoint weight = revision weight / endpoints of that revision, scaled to integers).
  for (const [na, nb] of [
    [1, 1],
    [9, 3],
  ] as const) {
    const ns = [...Array.from({ length: na }, (_, i) => `stable-${i}`), ...Array.from({ length: nb }, (_, i) => `canary-${i}`)];
    const ws = ns.map((_, i) => (i < na ? wa * nb : wb * na));
    const t = buildMaglev(ns, ws);
    const counts = maglevCounts(t);
    let tableB = 0;
    for (let i = na; i < ns.length; i++) tableB += counts[i];
    const share = (count: number) => {
      let b = 0;
      for (let i = 0; i < count; i++) if (maglevLookup(t, splitHashes[i]) >= na) b++;
      return b / count;
    };
    const want = wb / (wa + wb);
    const s10k = share(10_000);
    const s1m = share(splitHashes.length);
    console.log(
      `${pad(`${wa}/${wb}`, 14)} ${pad(`${na}+${nb}`, 10)} ${pad(pct(tableB / t.size), 8)} ${pad(pct(s10k), 10)} ${pad(pct(s1m), 10)} ${pad(pct(want, 0), 6)}`,
    );
    splitRows.push({ weights: [wa, wb], endpoints: [na, nb], canaryTableShare: tableB / t.size, canaryShare10k: s10k, canaryShare1M: s1m, connections1M: splitHashes.length, want });
  }
}
report.split = splitRows;

if (jsonFile !== undefined) {
  const out = path.resolve(process.cwd(), jsonFile);
  writeFileSync(out, JSON.stringify(report, null, 2));
  console.log(`\nwrote ${out}`);
}
if (sink === 42) console.log(''); // keep the measured loops from being optimised away
