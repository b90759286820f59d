/**
 * The C++ TupleMerge harness (drjdaly/tuplemerge, the TupleMerge paper's own code), run on the same
 * rule set and trace in the same benchmark run as ours, so the ratio against it is measured at the
 * same moments of this shared host rather than against results.csv's figures from another day.
 *
 * Overcast does not ship that code nor a script to build it: build the repository's `main` yourself
 * and pass its path (`npm run bench:classifier -- --tm-harness /path/to/main`). Its timer is the wall
 * clock; results.csv (and our rows) count CPU time, so when the harness also prints a line
 * "Classification CPU time: T s" (a clock_gettime(CLOCK_THREAD_CPUTIME_ID) pair around its timed
 * loop, a local two-line change) that figure is used, else the wall-clock one, and the row says which.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readClassBenchText } from '../src/cli/bench-classifier.js';

export interface HarnessRun {
  /** M lookups per second over the whole trace. */
  mlps: number;
  buildMs: number;
  /** Which clock timed the lookups. */
  clock: 'cpu' | 'wall';
}

/** A ClassBench file as plain text where the harness can read it (it does not read Brotli). */
function plainCopy(file: string): string {
  const dir = path.join(tmpdir(), 'overcast-classbench');
  const out = path.join(dir, path.basename(file).replace(/\.br$/, ''));
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(out, readClassBenchText(file));
  }
  return out;
}

/**
 * One run of the harness's TupleMerge (online) classification on a rule file and a trace of `packets`
 * headers: `main f=RULES p=TRACE c=TMOnline m=Classification` (the harness's own defaults otherwise,
 * as results.csv was measured: rules shuffled with its fixed seed, collision limit 10).
 */
export function runTupleMergeHarness(bin: string, rulesFile: string, traceFile: string, packets: number): HarnessRun {
  const r = spawnSync(bin, [`f=${plainCopy(rulesFile)}`, `p=${plainCopy(traceFile)}`, 'c=TMOnline', 'm=Classification'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`TupleMerge harness ${bin} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
  const seconds = (label: string) => {
    const m = new RegExp(`${label}: ([0-9.]+) s`).exec(r.stdout);
    return m === null ? undefined : Number(m[1]);
  };
  const cpu = seconds('Classification CPU time');
  const wall = seconds('Classification time');
  const build = /Construction time: ([0-9.]+) ms/.exec(r.stdout);
  const t = cpu ?? wall;
  if (t === undefined || build === null) throw new Error(`TupleMerge harness ${bin}: no classification time in its output:\n${r.stdout.slice(0, 2000)}`);
  return { mlps: packets / t / 1e6, buildMs: Number(build[1]), clock: cpu === undefined ? 'wall' : 'cpu' };
}
