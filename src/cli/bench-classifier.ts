/**
 * `overcast bench classifier --rules FILE --trace FILE [--algo NAME] [--json] [--out FILE] [--check]`
 *
 * Classifies a ClassBench trace with one classifier so users can measure their own rule sets.
 * Priority is rule-file order (first line highest). Files ending in `.br` are Brotli-decompressed.
 *
 * Options (ClassifierBenchOptions):
 *   rules     path of a ClassBench rule file (required)
 *   trace     path of a ClassBench trace file (required)
 *   algo      classifier name (default 'default' = tuplemerge+cache; see CLASSIFIER_ALGOS)
 *   json      print one JSON object instead of text
 *   out       write one line per packet: 0-based line of the matched rule in the rule file, or -1
 *   check     compare every result with the linear reference; exit code 1 on any difference
 *   runs      passes over the trace after the first; their median rate is reported (default 3;
 *             0 reports the first pass)
 *   cacheEntries  flow-cache size for the cached algorithms
 * The first pass over the trace is reported apart (`coldLookupsPerSec`): it includes the one-time work
 * a classifier does after its rules arrive (generating and compiling its lookup code, V8 optimizing
 * it, marking decisive rules): this command on fw1 10k (cached) reads 3.3 M lookups/s for the first
 * pass and 26.6 for the passes after it (docs/classifier.md says where the first pass's time goes).
 * The classifier is built `runs` times (median build time
 * reported) and the last one classifies; a flow cache is emptied and made to forget its judgement of
 * the traffic before each later pass, so each pass sees the trace from an empty cache (as
 * bench/classifier.ts does).
 * Returns the process exit code: 0 ok, 1 check found differences, 2 bad input (unreadable or
 * malformed file, unknown algorithm; the error code is printed).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { isOvercastError } from '../errors/index.js';
import { createProgressLine, type ProgressLine } from './progress.js';
import { createPacketKey } from '../flow/index.js';
import {
  CachedClassifier,
  LinearClassifier,
  TupleSpaceClassifier,
  classBenchRulesToClassifierRules,
  createClassifier,
  parseClassBenchRules,
  parseClassBenchTrace,
  traceKey,
  TRACE_WORDS,
  type ClassBenchTrace,
  type Classifier,
  type ClassifierRule,
} from '../classifier/index.js';

export interface ClassifierBenchOptions {
  rules: string;
  trace: string;
  algo?: string;
  json?: boolean;
  out?: string;
  check?: boolean;
  runs?: number;
  cacheEntries?: number;
}

export interface ClassifierBenchIo {
  write(text: string): void;
  error(text: string): void;
  /** Where it is (loading, building, pass n of m): on a terminal only (progress.ts). */
  progress?: ProgressLine;
}

export interface ClassifierBenchReport {
  algo: string;
  rules: number;
  packets: number;
  buildMs: number;
  /** The median of the passes after the first (the first pass's rate when there are none). */
  lookupsPerSec: number;
  /** The first pass, with the classifier's one-time work after its rules arrive (see the module comment). */
  coldLookupsPerSec: number;
  /** Passes after the first (the `runs` option). */
  passes: number;
  matched: number;
  tables?: number;
  /** Of the lookups of the passes reported (after the first, when there are any): answered by the flow cache, and sent past it while it stood aside. */
  cacheHitRate?: number;
  cacheBypassRate?: number;
  check?: { checked: number; differences: number; firstDifference?: { packet: number; got: number; want: number } };
}

/** Read a text file, Brotli-decompressing `.br` files. */
/**
 * Where the shared ClassBench sets are: `$OVERCAST_CLASSBENCH`, else the repository's sibling
 * `shared/classbench` seen from the working directory (npm runs benches and tests from the root; a
 * git worktree elsewhere sets the variable).
 */
export function classBenchDir(): string {
  return process.env.OVERCAST_CLASSBENCH ?? path.resolve(process.cwd(), '..', 'shared', 'classbench');
}

export function readClassBenchText(path: string): string {
  const raw = readFileSync(path);
  return (path.endsWith('.br') ? brotliDecompressSync(raw) : raw).toString('latin1');
}

export function loadClassBenchRules(path: string): ClassifierRule<number>[] {
  return classBenchRulesToClassifierRules(parseClassBenchRules(readClassBenchText(path)));
}

export function loadClassBenchTrace(path: string): ClassBenchTrace {
  return parseClassBenchTrace(readClassBenchText(path));
}

/**
 * CPU time of this process in ns. Rates are per CPU-second, like the C++ harnesses' figures in
 * shared/classbench/results.csv; on a shared machine wall time would measure the neighbours.
 */
export function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1e3;
}

/**
 * Classify every header; results[i] = the matched rule's id (its index in the rule file), or -1.
 * Returns CPU nanoseconds. `idsToLines` maps ids to file lines afterwards.
 */
export function classifyTrace(c: Classifier<number>, trace: ClassBenchTrace, results: Int32Array, count = trace.count): number {
  const key = createPacketKey();
  const t0 = cpuNs();
  for (let i = 0; i < count; i++) {
    traceKey(trace, i, key);
    results[i] = c.lookupId(key);
  }
  return cpuNs() - t0;
}

/** Rewrite rule ids (NO_MATCH stays -1) as the rules' payloads: their 0-based lines in the rule file. */
export function idsToLines(results: Int32Array, rules: readonly ClassifierRule<number>[]): void {
  const line = new Int32Array(rules.length);
  for (const r of rules) line[r.id] = r.payload;
  for (let i = 0; i < results.length; i++) if (results[i] >= 0) results[i] = line[results[i]];
}

/**
 * The linear reference for every header, computed once per distinct header (traces repeat headers in
 * bursts, so this is what makes `--check` affordable on 1M-packet traces).
 */
export function referenceResults(rules: readonly ClassifierRule<number>[], trace: ClassBenchTrace): Int32Array {
  const linear = new LinearClassifier<number>();
  for (const r of rules) linear.insert(r);
  const seen = new Map<string, number>();
  const out = new Int32Array(trace.count);
  const key = createPacketKey();
  const h = trace.headers;
  for (let i = 0; i < trace.count; i++) {
    const b = i * TRACE_WORDS;
    const k = `${h[b]},${h[b + 1]},${h[b + 2]},${h[b + 3]},${h[b + 4]}`;
    let v = seen.get(k);
    if (v === undefined) {
      traceKey(trace, i, key);
      v = linear.lookup(key)?.payload ?? -1;
      seen.set(k, v);
    }
    out[i] = v;
  }
  return out;
}

/** The median (of an even count, the mean of the middle two). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export async function runClassifierBench(options: ClassifierBenchOptions, io: ClassifierBenchIo = defaultIo): Promise<number> {
  try {
    const report = benchOnce(options, io);
    if (options.json) io.write(`${JSON.stringify(report)}\n`);
    else {
      io.write(
        `${report.algo}: ${report.rules} rules, ${report.packets} packets, build ${report.buildMs.toFixed(1)} ms, ` +
          `${(report.lookupsPerSec / 1e6).toFixed(3)} M lookups/s` +
          (report.passes > 0 ? ` (median of ${report.passes} passes; the first pass ${(report.coldLookupsPerSec / 1e6).toFixed(3)}, with compiling and marking)` : ' (the first pass, with compiling and marking)') +
          `, matched ${report.matched}` +
          (report.tables !== undefined ? `, ${report.tables} tables` : '') +
          (report.cacheHitRate !== undefined ? `, cache hit rate ${(report.cacheHitRate * 100).toFixed(1)}%` : '') +
          (report.cacheBypassRate ? `, ${(report.cacheBypassRate * 100).toFixed(1)}% past the cache` : '') +
          '\n',
      );
      if (report.check) {
        const c = report.check;
        io.write(`check: ${c.checked} packets, ${c.differences} differences\n`);
        if (c.firstDifference) io.write(`first difference: packet ${c.firstDifference.packet} got ${c.firstDifference.got} want ${c.firstDifference.want}\n`);
      }
    }
    return report.check !== undefined && report.check.differences > 0 ? 1 : 0;
  } catch (e) {
    if (isOvercastError(e)) io.error(`${e.code}: ${e.message}${e.field ? ` (${e.field})` : ''}\n`);
    else if (e instanceof Error && 'code' in e) io.error(`${String((e as NodeJS.ErrnoException).code)}: ${e.message}\n`);
    else throw e;
    return 2;
  }
}

/** Passes over the trace after the first, by default (see ClassifierBenchOptions.runs). */
export const DEFAULT_BENCH_PASSES = 3;

function benchOnce(options: ClassifierBenchOptions, io: ClassifierBenchIo): ClassifierBenchReport {
  const show = (text: string) => io.progress?.update(text);
  try {
    return benchWithProgress(options, show);
  } finally {
    io.progress?.done();
  }
}

/** Progress goes out between timed sections, never inside one. */
function benchWithProgress(options: ClassifierBenchOptions, show: (text: string) => void): ClassifierBenchReport {
  const algo = options.algo ?? 'default';
  show(`loading ${options.rules}`);
  const rules = loadClassBenchRules(options.rules);
  show(`loading ${options.trace}`);
  const trace = loadClassBenchTrace(options.trace);
  const passes = options.runs ?? DEFAULT_BENCH_PASSES;
  // The command line's parser refuses these with the option's name; a caller in code gets this.
  if (!Number.isInteger(passes) || passes < 0) throw new RangeError(`runs: not a non-negative integer (${passes})`);
  const builds: number[] = [];
  let cls: Classifier<number> | undefined;
  for (let b = 0; b < Math.max(1, passes); b++) {
    show(`${algo}: building ${b + 1}/${Math.max(1, passes)} (${rules.length} rules)`);
    const t0 = cpuNs();
    cls = createClassifier<number>(algo, { cacheEntries: options.cacheEntries });
    for (const r of rules) cls.insert(r);
    builds.push((cpuNs() - t0) / 1e6);
  }
  const c = cls as Classifier<number>;
  const rate = (ns: number) => trace.count / (Math.max(ns, 1) / 1e9);
  const cache = c instanceof CachedClassifier ? c : undefined;
  const statsBeforeCold = cache?.stats;
  const results = new Int32Array(trace.count);
  show(`${algo}: first pass over ${trace.count} packets`);
  const coldLookupsPerSec = rate(classifyTrace(c, trace, results));
  idsToLines(results, rules);
  // --check: every pass's answers against the reference; a packet counts once however many passes got it wrong.
  if (options.check) show(`${algo}: reference answers for --check`);
  const want = options.check ? referenceResults(rules, trace) : undefined;
  const wrong = new Uint8Array(want !== undefined ? trace.count : 0);
  let firstDifference: { packet: number; got: number; want: number } | undefined;
  const checkPass = (answers: Int32Array) => {
    if (want === undefined) return;
    for (let i = 0; i < trace.count; i++) {
      if (answers[i] === want[i]) continue;
      wrong[i] = 1;
      firstDifference ??= { packet: i, got: answers[i], want: want[i] };
    }
  };
  checkPass(results);
  const statsAfterCold = cache?.stats;
  const rates: number[] = [];
  const again = new Int32Array(passes > 0 ? trace.count : 0);
  for (let p = 0; p < passes; p++) {
    show(`${algo}: pass ${p + 1}/${passes}`);
    cache?.forget();
    rates.push(rate(classifyTrace(c, trace, again)));
    idsToLines(again, rules);
    checkPass(again);
  }
  let matched = 0;
  for (let i = 0; i < trace.count; i++) if (results[i] >= 0) matched++;
  const report: ClassifierBenchReport = {
    algo: c.name,
    rules: rules.length,
    packets: trace.count,
    buildMs: median(builds),
    lookupsPerSec: passes > 0 ? median(rates) : coldLookupsPerSec,
    coldLookupsPerSec,
    passes,
    matched,
  };
  const inner = cache !== undefined ? cache.inner : c;
  if (inner instanceof TupleSpaceClassifier) report.tables = inner.tableCount;
  const statsBefore = passes > 0 ? statsAfterCold : statsBeforeCold;
  if (cache !== undefined && statsBefore !== undefined) {
    const now = cache.stats;
    const hits = now.hits - statsBefore.hits;
    const bypassed = now.bypassed - statsBefore.bypassed;
    const lookups = Math.max(1, hits + now.misses - statsBefore.misses + bypassed);
    report.cacheHitRate = hits / lookups;
    report.cacheBypassRate = bypassed / lookups;
  }
  if (options.out !== undefined) {
    const lines: string[] = new Array<string>(trace.count);
    for (let i = 0; i < trace.count; i++) lines[i] = String(results[i]);
    writeFileSync(options.out, trace.count > 0 ? `${lines.join('\n')}\n` : '');
  }
  if (want !== undefined) {
    let differences = 0;
    for (let i = 0; i < trace.count; i++) differences += wrong[i];
    report.check = { checked: trace.count, differences, ...(firstDifference ? { firstDifference } : {}) };
  }
  return report;
}

const defaultIo: ClassifierBenchIo = {
  write: (t) => process.stdout.write(t),
  error: (t) => process.stderr.write(t),
  progress: createProgressLine(),
};
