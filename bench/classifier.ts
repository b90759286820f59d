/**
 * The classifier suite (`npm run bench:classifier`): generated ClassBench acl1/fw1/ipc1 at 1k, 10k and
 * 100k rules, each with its 1M-header trace, classified by linear, TSS, priority-sorted TSS, ours
 * (TupleMerge-style) and ours behind the flow cache, in the same run. Prints lookups/s, build time,
 * updates/s and memory, ratios against TSS and linear, and the TupleMerge (online) C++ figure measured
 * on this machine (../shared/classbench/results.csv) for scale.
 *
 * Run: npm run bench:classifier --  [--sets acl1,fw1,ipc1] [--sizes 1k,10k,100k]
 *        [--runs 3] [--budget-ms 3000] [--linear-packets 20000] [--json FILE] [--algos tuplemerge,tuplemerge+cache]
 *        [--cache-entries N] [--tm-harness PATH] [--rounds R]
 * --tm-harness: the C++ TupleMerge harness's `main` (drjdaly/tuplemerge, built by you; see
 * bench/tm-harness.lib.ts), run on each set before each of our classifiers and after the last; each
 * of ours is compared with the mean of the C++ runs just before and after it, so the ratio is taken
 * on this host at these moments.
 * --rounds R: each set's sequence (C++, each of ours, C++) R times over, one child process per row as
 * always; the ratios line gives medians over the rounds, and each ratio against the C++ harness is the
 * median of the rounds' own (each row against the C++ runs beside it): on a shared host two processes
 * of one classifier on one 100k set, a minute apart, can differ by more than 2x (docs/classifier.md).
 * Two calibration loops run in each classifier's process right after its timed passes, so each row
 * says how fast the (shared) machine was while it was measured: "cal" = hash mixing over a typed array
 * in L1 (M mixes per CPU-second: the CPU's share), "mem ns" = one dependent load in a random cycle
 * over 16 MB, about the 100k-rule classifiers' working set (the share of the last-level cache and
 * memory the host's other tenants leave us). Compare them between runs before comparing rates.
 * Without --expose-gc the memory column is the index's own typed-array estimate only.
 *
 * "probes" (tuple-space classifiers): tables hashed / rules compared per lookup, `probeCost` over every
 * 7th header of the trace; deterministic, so it moves only when the tables do.
 *
 * Lookups: each classifier is built `runs` times (median build time); the last build classifies the
 * trace once, reported apart as "cold" (V8 optimizes the generated lookup code only after ~10^5
 * lookups, and its compiler's CPU time counts in this process's), then `runs` more times: their
 * median is "M lookups/s", the steady state. A cached classifier is emptied and made to forget its
 * judgement of the traffic (`forget`) before each of them.
 *
 * Every classifier runs in a child process of its own (fresh JIT), one after the other.
 *
 * Sampling, said in the output: linear-flat classifies an evenly spaced sample of the trace (20k headers
 * by default; 1M x 100k rules would take an hour), the object-walking oracle a tenth of that, once; any classifier whose first run projects past the time
 * budget is also measured on an evenly spaced sample. Rates are per lookup either way.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import {
  CachedClassifier,
  TupleSpaceClassifier,
  createClassifier,
  traceKey,
  TRACE_WORDS,
  type ClassBenchTrace,
  type Classifier,
  type ClassifierRule,
} from '../src/classifier/index.js';
import { createPacketKey } from '../src/flow/index.js';
import { classBenchDir, cpuNs, loadClassBenchRules, loadClassBenchTrace, median, readClassBenchText } from '../src/cli/bench-classifier.js';
import { createProgressLine } from '../src/cli/progress.js';
import { prng } from '../test/support/prng.js';
import { runTupleMergeHarness, type HarnessRun } from './tm-harness.lib.js';
import { lookupAll } from './trace-loop.lib.js';
import { UpdateStream } from './update-stream.lib.js';

const SHARED = classBenchDir() + '/';
const ALGOS = ['linear', 'linear-flat', 'tss', 'pstss', 'tuplemerge', 'tuplemerge+cache'] as const;

interface Args {
  sets: string[];
  sizes: string[];
  runs: number;
  budgetMs: number;
  linearPackets: number;
  json?: string;
  algos: string[];
  /** Most entries of the flow cache (the cached algorithms); the library default when absent. */
  cacheEntries?: number;
  /** Internal: measure one set and algorithm in this process and print the row as JSON ("SET,ALGO"). */
  child?: string;
  /** The C++ TupleMerge harness's `main`, to run in this run beside ours (bench/tm-harness.lib.ts). */
  tmHarness?: string;
  /** Times each set's sequence (C++, each of ours, C++) is repeated; figures are medians over them. */
  rounds: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  // A count that is not one (`--rounds x` is NaN) would make a loop run no times and print nothing.
  const count = (name: string, fallback: number) => {
    const n = Number(get(name) ?? fallback);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: not a positive integer (${get(name)})`);
    return n;
  };
  return {
    sets: (get('sets') ?? 'acl1,fw1,ipc1').split(','),
    sizes: (get('sizes') ?? '1k,10k,100k').split(','),
    runs: count('runs', 3),
    budgetMs: count('budget-ms', 3000),
    linearPackets: count('linear-packets', 20000),
    json: get('json'),
    algos: (get('algos') ?? ALGOS.join(',')).split(','),
    child: get('child'),
    cacheEntries: get('cache-entries') === undefined ? undefined : count('cache-entries', 0),
    tmHarness: get('tm-harness'),
    rounds: count('rounds', 1),
  };
}

interface Row {
  set: string;
  rules: number;
  algo: string;
  packets: number;
  sampled: boolean;
  /** Median of the timed passes, after the cold one. */
  mlps: number;
  /** Every timed pass (in --json output: how far the passes spread). */
  passMlps: number[];
  /** The first pass after the build (JIT warm-up included). */
  coldMlps: number;
  buildMs: number;
  updatesPerSec: number | null;
  updateUs: number | null;
  memKB: number;
  tables: number | null;
  /** Per lookup (every PROBE_SAMPLE_STEP-th header of the trace): tables hashed and rules compared (`probeCost`). */
  probedTables: number | null;
  probedRules: number | null;
  /** Of the lookups of the last timed pass: answered by the cache, and sent past it while it stood aside. */
  cacheHitRate: number | null;
  cacheBypassRate: number | null;
  /** The calibration loops, run in this row's process right after its timed passes (see the top comment). */
  calMixes: number;
  calMemNs: number;
}

/** The C++ TupleMerge harness's figures for a set, measured in this run (--tm-harness). */
interface CxxRow {
  set: string;
  /** Which repetition of the set's sequence (--rounds), from 0. */
  round: number;
  mlps: number;
  runMlps: number[];
  /** Per algorithm of ours: the mean of the C++ runs just before and just after it. */
  beside: Record<string, number>;
  buildMs: number;
  clock: 'cpu' | 'wall';
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Full collections until the heap stops shrinking: one call leaves the garbage of the rule and trace
 * parsing half collected, and at 1k rules that made the build's delta negative.
 */
function settleHeap(): void {
  if (!gc) return;
  let last = Infinity;
  for (let i = 0; i < 8; i++) {
    gc();
    const now = heapBytes();
    if (now >= last) return;
    last = now;
  }
}

function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Every `step`-th header as its own trace, so a sample keeps the trace's mix of rules. */
function sampleTrace(trace: ClassBenchTrace, n: number): ClassBenchTrace {
  if (n >= trace.count) return trace;
  const headers = new Uint32Array(n * TRACE_WORDS);
  const filterIdx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = Math.floor((i * trace.count) / n);
    headers.set(trace.headers.subarray(j * TRACE_WORDS, (j + 1) * TRACE_WORDS), i * TRACE_WORDS);
    filterIdx[i] = trace.filterIdx[j];
  }
  return { count: n, headers, filterIdx };
}

let sink = 0;

/**
 * A fixed CPU-bound loop (the classifier's own kind of work: Math.imul mixing of typed-array words), in
 * M mixes per CPU-second. Printed in each row (measured in that row's process) so runs on a loaded
 * machine can be compared: divide a rate by this figure's ratio to an idle run's.
 */
function calibrate(): number {
  const words = new Uint32Array(4096);
  for (let i = 0; i < words.length; i++) words[i] = Math.imul(i, 0x9e3779b1);
  let h = 0;
  const n = 20_000_000;
  const t0 = cpuNs();
  for (let i = 0; i < n; i++) {
    h = Math.imul(h ^ words[i & 4095], 0x85ebca6b);
    h ^= h >>> 13;
  }
  sink += h;
  return n / ((cpuNs() - t0) / 1e3);
}
/**
 * ns per dependent load in one random cycle through a 16 MB Int32Array (Sattolo's shuffle, so the walk
 * visits every entry): the latency this process sees past its private caches right now. The walk
 * evicts everything else from the caches, so it runs after the timed passes, never before them.
 */
function memoryLatencyNs(): number {
  const n = 1 << 22;
  const next = new Int32Array(n);
  for (let i = 0; i < n; i++) next[i] = i;
  const rand = prng(7);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * i);
    const t = next[i];
    next[i] = next[j];
    next[j] = t;
  }
  const steps = 2_000_000;
  let p = 0;
  const t0 = cpuNs();
  for (let i = 0; i < steps; i++) p = next[p];
  const ns = (cpuNs() - t0) / steps;
  sink += p;
  return ns;
}

function classify(c: Classifier<number>, trace: ClassBenchTrace): number {
  const t0 = cpuNs();
  sink += lookupAll(c, trace);
  return cpuNs() - t0;
}

/** Microseconds per update of an UpdateStream (the TupleMerge harness's updates); the set is whole again after. */
function measureUpdates(c: Classifier<number>, rules: readonly ClassifierRule<number>[], ops: number): number {
  const stream = new UpdateStream(rules);
  const t0 = cpuNs();
  for (let i = 0; i < ops; i++) stream.step(c);
  const us = (cpuNs() - t0) / 1e3 / ops;
  stream.restore(c);
  return us;
}

function benchAlgo(set: string, algo: string, rules: ClassifierRule<number>[], fullTrace: ClassBenchTrace, args: Args): Row {
  // The object-walking oracle is ~50x slower than flat linear search: a tenth of the sample, one run.
  let trace = algo === 'linear' ? sampleTrace(fullTrace, Math.ceil(args.linearPackets / 10)) : algo === 'linear-flat' ? sampleTrace(fullTrace, args.linearPackets) : fullTrace;
  const runs = algo === 'linear' ? 1 : args.runs;
  const builds: number[] = [];
  let c: Classifier<number> | undefined;
  let memKB = 0;
  for (let run = 0; run < runs; run++) {
    c = undefined;
    settleHeap();
    const before = heapBytes();
    const t0 = cpuNs();
    const built = createClassifier<number>(algo, { cacheEntries: args.cacheEntries });
    for (const r of rules) built.insert(r);
    builds.push((cpuNs() - t0) / 1e6);
    settleHeap();
    if (run === 0) memKB = gc ? (heapBytes() - before) / 1024 : estimateBytes(built) / 1024;
    c = built;
  }
  const cls = c as Classifier<number>;
  // The first pass over the trace on a fresh build: V8 optimizes the generated code only after some
  // 10^5 lookups (and its compiler's CPU time counts here), so this is reported apart, as "cold".
  const coldNs = classify(cls, trace);
  const cold = trace.count / (coldNs / 1e9);
  if ((coldNs / 1e6) * runs > args.budgetMs && trace.count > 2000) {
    // A classifier too slow for the budget on the whole trace continues on a sample of it.
    trace = sampleTrace(fullTrace, Math.max(2000, Math.floor((trace.count * args.budgetMs) / ((coldNs / 1e6) * runs))));
  }
  const rates: number[] = [];
  let hits = 0;
  let bypassed = 0;
  for (let run = 0; run < runs; run++) {
    // Every timed pass starts from an empty cache that has judged nothing yet (whether to step aside):
    // a cache must not learn the trace from the pass before.
    if (cls instanceof CachedClassifier) {
      cls.forget();
      hits = cls.stats.hits;
      bypassed = cls.stats.bypassed;
    }
    rates.push(trace.count / (classify(cls, trace) / 1e9));
  }
  const calMixes = calibrate();
  const calMemNs = memoryLatencyNs();
  const inner = cls instanceof CachedClassifier ? cls.inner : cls;
  const probes = inner instanceof TupleSpaceClassifier ? probeCostOf(inner, fullTrace) : null;
  let updateUs: number | null = null;
  if (!(cls instanceof CachedClassifier)) {
    // As many operations as the TupleMerge harness makes (500K inserts and 500K deletes): a few per
    // rule (a few thousand at 1k rules) would time V8's compiler more than the updates.
    const ops = algo.startsWith('linear') ? Math.min(1000, rules.length) : 1_000_000;
    updateUs = measureUpdates(cls, rules, ops);
  }
  return {
    set,
    rules: rules.length,
    algo,
    packets: trace.count,
    sampled: trace.count < fullTrace.count,
    mlps: median(rates) / 1e6,
    passMlps: rates.map((r) => r / 1e6),
    coldMlps: cold / 1e6,
    buildMs: median(builds),
    updatesPerSec: updateUs === null ? null : 1e6 / updateUs,
    updateUs,
    memKB,
    tables: inner instanceof TupleSpaceClassifier ? inner.tableCount : null,
    probedTables: probes?.tables ?? null,
    probedRules: probes?.rules ?? null,
    // Of the last timed pass (from an empty cache), per lookup.
    cacheHitRate: cls instanceof CachedClassifier ? (cls.stats.hits - hits) / trace.count : null,
    cacheBypassRate: cls instanceof CachedClassifier ? (cls.stats.bypassed - bypassed) / trace.count : null,
    calMixes,
    calMemNs,
  };
}

/** probeCost over every PROBE_SAMPLE_STEP-th header: deterministic, a property of the tables, not the host. */
const PROBE_SAMPLE_STEP = 7;

function probeCostOf(c: TupleSpaceClassifier<number>, trace: ClassBenchTrace): { tables: number; rules: number } {
  const key = createPacketKey();
  let tables = 0;
  let rules = 0;
  let n = 0;
  for (let i = 0; i < trace.count; i += PROBE_SAMPLE_STEP, n++) {
    traceKey(trace, i, key);
    const cost = c.probeCost(key);
    tables += cost.tables;
    rules += cost.rules;
  }
  return { tables: tables / n, rules: rules / n };
}

function estimateBytes(c: Classifier<number>): number {
  if (c instanceof CachedClassifier) return c.memoryBytes() + estimateBytes(c.inner);
  if (c instanceof TupleSpaceClassifier) return c.memoryBytes();
  return 0;
}

/** TupleMerge (online) C++ figures measured here, for scale: set -> M lookups/s. */
function tupleMergeFigures(): Map<string, { mlps: number; updateUs: number | null }> {
  const out = new Map<string, { mlps: number; updateUs: number | null }>();
  const path = `${SHARED}results.csv`;
  if (!existsSync(path)) return out;
  for (const line of readClassBenchText(path).split('\n').slice(1)) {
    const cols = line.match(/("[^"]*"|[^,]*)(,|$)/g)?.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '')) ?? [];
    if (cols[0] !== 'tm' || cols[3] !== 'TupleMerge(online)') continue;
    out.set(cols[1], { mlps: Number(cols[5]), updateUs: cols[12] === '' ? null : Number(cols[12]) });
  }
  return out;
}

/** One of our rows, under the suite's column header. */
function formatRow(label: string, row: Row): string {
  return (
    `  ${label.padEnd(18)}${fmt(row.mlps, 3).padStart(12)}${fmt(row.coldMlps).padStart(7)}${fmt(row.buildMs, 1).padStart(10)}${(row.updatesPerSec === null ? '-' : Math.round(row.updatesPerSec).toString()).padStart(11)}` +
    `${fmt(row.updateUs).padStart(10)}${Math.round(row.memKB).toString().padStart(9)}${(row.tables ?? '-').toString().padStart(7)}` +
    `${(row.probedTables === null ? '-' : `${fmt(row.probedTables)}/${fmt(row.probedRules)}`).padStart(11)}` +
    `${(row.cacheHitRate === null ? '-' : (row.cacheHitRate * 100).toFixed(1)).padStart(7)}` +
    `${(row.cacheBypassRate === null ? '-' : (row.cacheBypassRate * 100).toFixed(1)).padStart(7)}` +
    `${row.calMixes.toFixed(0).padStart(6)}${row.calMemNs.toFixed(1).padStart(8)}  ${row.packets}${row.sampled ? ' (sampled)' : ''}`
  );
}

function fmt(x: number | null, digits = 2): string {
  return x === null ? '-' : x.toFixed(digits);
}

function setFiles(name: string): { rulesPath: string; tracePath: string } {
  return { rulesPath: `${SHARED}generated/${name}${name.endsWith('100k') ? '.br' : ''}`, tracePath: `${SHARED}generated/${name}_trace1M.br` };
}

function loadSet(name: string): { rules: ClassifierRule<number>[]; trace: ClassBenchTrace } {
  const { rulesPath, tracePath } = setFiles(name);
  return { rules: loadClassBenchRules(rulesPath), trace: loadClassBenchTrace(tracePath) };
}

/**
 * Each classifier is measured in a process of its own, as the C++ harnesses run theirs: in a shared
 * process the JIT's type feedback from one algorithm slows the next (tuplemerge on fw1 10k runs far
 * slower after pstss in the same process).
 */
function measureInChild(name: string, algo: string, argv: string[]): Row {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...argv, '--child', `${name},${algo}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench child ${name} ${algo} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Row;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv);
  if (args.child !== undefined) {
    const [name, algo] = args.child.split(',');
    const { rules, trace } = loadSet(name);
    const row = benchAlgo(name, algo, rules, trace, args);
    console.log(JSON.stringify({ ...row, sink }));
    return;
  }
  if (args.tmHarness !== undefined && !existsSync(args.tmHarness)) {
    console.error(`--tm-harness: no file at ${args.tmHarness} (the C++ TupleMerge harness's main; see bench/tm-harness.lib.ts)`);
    process.exit(2);
  }
  const tm = tupleMergeFigures();
  // Where the suite is, on a terminal only (nothing in CI or a log): a row can take minutes.
  const progress = createProgressLine();
  const measurements = args.sizes.length * args.sets.length * args.rounds * args.algos.length;
  let measured = 0;
  const rows: Row[] = [];
  const cxxRows: CxxRow[] = [];
  console.log(
    `classifier suite: runs=${args.runs} (median), linear-flat on ${args.linearPackets} evenly spaced headers (the linear oracle on a tenth, 1 run), ` +
      `budget ${args.budgetMs} ms per classifier; times are CPU time of this process; memory = ${gc ? 'heap + array buffers delta after build (gc)' : 'index typed arrays only (run with --expose-gc for heap)'}`,
  );
  for (const size of args.sizes) {
    for (const set of args.sets) {
      const name = `${set}_${size}`;
      const { rules, trace } = loadSet(name);
      console.log(`\n${name}: ${rules.length} rules, ${trace.count} headers (load average now ${loadavg()[0].toFixed(1)})`);
      console.log(
        `  ${'algo'.padEnd(18)}${'M lookups/s'.padStart(12)}${'cold'.padStart(7)}${'build ms'.padStart(10)}${'updates/s'.padStart(11)}${'us/update'.padStart(10)}${'mem KB'.padStart(9)}${'tables'.padStart(7)}${'probes'.padStart(11)}${'hit %'.padStart(7)}${'byp %'.padStart(7)}${'cal'.padStart(6)}${'mem ns'.padStart(8)}  packets`,
      );
      const mine: Row[] = [];
      const setCxx: CxxRow[] = [];
      for (let round = 0; round < args.rounds; round++) {
        // The C++ harness runs before each of our classifiers and after the last, so its runs
        // bracket ours in time.
        const cxxRuns: HarnessRun[] = [];
        const runCxx = () => {
          if (args.tmHarness === undefined) return;
          const { rulesPath, tracePath } = setFiles(name);
          cxxRuns.push(runTupleMergeHarness(args.tmHarness, rulesPath, tracePath, trace.count));
        };
        for (const algo of args.algos) {
          runCxx();
          progress.update(`measuring ${algo} on ${name} (${++measured} of ${measurements})`);
          const row = measureInChild(name, algo, argv);
          progress.done();
          rows.push(row);
          mine.push(row);
          console.log(formatRow(args.rounds > 1 ? `${algo} #${round + 1}` : algo, row));
        }
        runCxx();
        if (cxxRuns.length > 0) {
          // Beside each of our classifiers, the mean of the C++ runs just before and after it: the host
          // changes within a minute (a 100k set's figures move 2x with the memory others take).
          const beside: Record<string, number> = {};
          args.algos.forEach((algo, i) => (beside[algo] = (cxxRuns[i].mlps + cxxRuns[i + 1].mlps) / 2));
          const cxx: CxxRow = {
            set: name,
            round,
            mlps: median(cxxRuns.map((c) => c.mlps)),
            runMlps: cxxRuns.map((c) => c.mlps),
            beside,
            buildMs: median(cxxRuns.map((c) => c.buildMs)),
            clock: cxxRuns[0].clock,
          };
          cxxRows.push(cxx);
          setCxx.push(cxx);
          console.log(
            `  ${(args.rounds > 1 ? `C++ TM online #${round + 1}` : 'C++ TM online').padEnd(18)}${fmt(cxx.mlps, 3).padStart(12)}${'-'.padStart(7)}${fmt(cxx.buildMs, 1).padStart(10)}` +
              `  (drjdaly/tuplemerge harness, this run: median of ${cxxRuns.length}, ${cxxRuns.map((c) => fmt(c.mlps)).join(' ')}; lookups in ${cxx.clock === 'cpu' ? 'CPU' : 'wall-clock'} time, build wall-clock)`,
          );
        }
      }
      // With --rounds, every figure is the median over the rounds, and each ratio against the C++
      // harness the median of the rounds' own ratios (each against the C++ runs beside that row).
      const rate = (a: string) => {
        const xs = mine.filter((r) => r.algo === a).map((r) => r.mlps);
        return xs.length === 0 ? NaN : median(xs);
      };
      /** Per round: our row's rate over the C++ runs beside it, and that C++ figure. */
      const besideRatios = (algo: string) =>
        setCxx.flatMap((c) => {
          const row = mine.filter((r) => r.algo === algo)[c.round];
          return row === undefined || c.beside[algo] === undefined ? [] : [{ ratio: row.mlps / c.beside[algo], cxx: c.beside[algo] }];
        });
      const ours = rate('tuplemerge');
      const cached = rate('tuplemerge+cache');
      const ref = tm.get(`generated/${name}`);
      // Only the ratios whose both sides were measured in this run (--algos may leave some out).
      const ratios = [
        ...['linear', 'linear-flat', 'tss', 'pstss'].map((a) => [`ours/${a}`, ours / rate(a)] as const),
        ['cached/ours', cached / ours] as const,
      ].filter(([, x]) => Number.isFinite(x));
      console.log(
        `  ratios${args.rounds > 1 ? ` (medians of ${args.rounds} rounds)` : ''}: ${ratios.map(([n, x]) => `${n} ${fmt(x, 1)}x`).join(', ')}` +
          (ref
            ? `; C++ TupleMerge online ${ref.mlps} M/s:` +
              [['ours', ours] as const, ['cached', cached] as const]
                .filter(([, x]) => Number.isFinite(x))
                .map(([n, x]) => ` ${n} ${fmt(x / ref.mlps)}x`)
                .join(',') +
              ' (target 1x / 2x)'
            : '') +
          (setCxx.length > 0
            ? `; C++ TupleMerge online in this run, its runs just before and after each of ours:` +
              [['ours', 'tuplemerge'] as const, ['cached', 'tuplemerge+cache'] as const]
                .map(([n, algo]) => [n, besideRatios(algo)] as const)
                .filter(([, xs]) => xs.length > 0)
                .map(
                  ([n, xs]) =>
                    ` ${n} ${fmt(median(xs.map((x) => x.ratio)))}x` +
                    (xs.length > 1 ? ` (rounds: ${xs.map((x) => fmt(x.ratio)).join(' ')})` : ` (C++ ${fmt(xs[0].cxx)})`),
                )
                .join(',')
            : ''),
      );
    }
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ rows, cxx: cxxRows, sink }, null, 1));
}

await main();
