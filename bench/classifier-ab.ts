/**
 * The classifier of a git revision against the working tree's (or another revision's, `--head REV`),
 * in ONE process with alternating passes: the way to measure a change to the classifier on a shared
 * host, where a process's figure for a 100k-rule set moves with the memory other tenants leave it
 * (docs/classifier.md, "Benchmarking"). Both see the same host at the same moments; with `--base HEAD`
 * and a clean tree both sides are the same code, which gives the noise floor of the comparison.
 *
 *   node scripts/run-bench.js classifier-ab -- --base REV [--head REV] [--sets acl1_100k,fw1_10k] [--algo tuplemerge] [--rounds 5]
 *     [--base-options JSON] [--head-options JSON] [--churn LOOKUPS --updates N]
 *
 * A revision's src/ is extracted with `git archive` into dist/ab-base/REV and bundled with esbuild;
 * both classifiers load the same rule objects (the rule format is shared). `--base-options` /
 * `--head-options` build that side as `new TupleSpaceClassifier('tuplemerge', OPTIONS)` instead of
 * `createClassifier(algo)` (the string "Infinity" stands for Infinity), e.g. one code with and without
 * a feature: `--base HEAD --base-options '{"markEvery":"Infinity"}'`. `--churn L` times updates
 * instead: each pass makes N updates (`--updates`, default 20000; alternately a remove of a present
 * rule and an insert of an absent one, as the suite times updates), each followed by L lookups of
 * the next trace headers (0: updates alone), and prints microseconds per update and its lookups.
 * Each side has a timed loop of its own (a function built from source per side), so neither shares
 * the other's type feedback. Prints each pass's M lookups per CPU-second and the median ratio head / base.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { createPacketKey } from '../src/flow/index.js';
import * as HEAD from '../src/classifier/index.js';
import { classBenchDir, cpuNs, loadClassBenchRules, loadClassBenchTrace, median } from '../src/cli/bench-classifier.js';
import { UpdateStream } from './update-stream.lib.js';

type ClassifierModule = typeof HEAD;

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const base = arg('base', 'HEAD');
const headRev = arg('head', '');
const sets = arg('sets', 'acl1_100k,fw1_10k').split(',');
const algo = arg('algo', 'tuplemerge');
const rounds = Math.max(1, Number(arg('rounds', '5')));
const parseOptions = (json: string): Record<string, unknown> | undefined =>
  json === '' ? undefined : (JSON.parse(json, (_, v: unknown) => (v === 'Infinity' ? Infinity : v)) as Record<string, unknown>);
const baseOptions = parseOptions(arg('base-options', ''));
const headOptions = parseOptions(arg('head-options', ''));
const churn = arg('churn', '');
const updates = Number(arg('updates', '20000'));
const SHARED = path.join(classBenchDir(), 'generated');

/** A revision's classifier module, extracted and bundled once per revision. */
async function loadRevision(rev: string): Promise<ClassifierModule> {
  const sha = execFileSync('git', ['rev-parse', '--short', rev], { encoding: 'utf8' }).trim();
  const dir = path.resolve('dist', 'ab-base', sha);
  const outfile = path.join(dir, 'classifier.mjs');
  if (!existsSync(outfile)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} src | tar -x -C "${dir}"`]);
    await build({ entryPoints: [path.join(dir, 'src', 'classifier', 'index.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'error' });
  }
  return (await import(pathToFileURL(outfile).href)) as ClassifierModule;
}

type Pass = () => number;
/** A timed pass over the trace, as a function of its own (see the module comment). */
function makePass(c: HEAD.Classifier<number>, trace: HEAD.ClassBenchTrace): Pass {
  const loop = new Function('c', 'trace', 'traceKey', 'key', 'let acc = 0; for (let i = 0; i < trace.count; i++) { traceKey(trace, i, key); acc = (acc + c.lookupId(key)) | 0; } return acc;') as (
    c: HEAD.Classifier<number>,
    trace: HEAD.ClassBenchTrace,
    traceKey: typeof HEAD.traceKey,
    key: Uint32Array,
  ) => number;
  const key = createPacketKey();
  return () => {
    // A cache starts every pass empty and unjudged, as in the suite.
    if ('forget' in c) (c as { forget(): void }).forget();
    const t0 = cpuNs();
    sink += loop(c, trace, HEAD.traceKey, key);
    return trace.count / ((cpuNs() - t0) / 1e9) / 1e6;
  };
}

/** A timed pass of churn (see the module comment): microseconds per update and the lookups after it. */
function makeChurnPass(c: HEAD.Classifier<number>, rules: readonly HEAD.ClassifierRule<number>[], trace: HEAD.ClassBenchTrace, lookupsPerUpdate: number): Pass {
  const stream = new UpdateStream(rules);
  const key = createPacketKey();
  let next = 0;
  return () => {
    let acc = 0;
    const t0 = cpuNs();
    for (let i = 0; i < updates; i++) {
      stream.step(c);
      for (let j = 0; j < lookupsPerUpdate; j++) {
        HEAD.traceKey(trace, next, key);
        acc = (acc + c.lookupId(key)) | 0;
        next = next + 1 === trace.count ? 0 : next + 1;
      }
    }
    const us = (cpuNs() - t0) / 1e3 / updates;
    sink += acc;
    return us;
  };
}

let sink = 0;

const BASE = await loadRevision(base);
const TREE: ClassifierModule = headRev === '' ? HEAD : await loadRevision(headRev);
const headName = headRev === '' ? 'the working tree' : headRev;
const sideName = (rev: string, options: string) => (options === '' ? `${rev} ${algo}` : `${rev} tuplemerge ${options}`);
const unit = churn === '' ? 'M lookups/s' : `us per update and its ${Number(churn)} lookups (${updates} updates per pass)`;
console.log(`base ${sideName(base, arg('base-options', ''))} against ${sideName(headName, arg('head-options', ''))}, alternating passes in one process, ${rounds} rounds; ${unit}`);
for (const name of sets) {
  const rules = loadClassBenchRules(path.join(SHARED, `${name}${name.endsWith('100k') ? '.br' : ''}`));
  const trace = loadClassBenchTrace(path.join(SHARED, `${name}_trace1M.br`));
  const make = (M: ClassifierModule, options: Record<string, unknown> | undefined) =>
    options === undefined ? M.createClassifier<number>(algo) : new M.TupleSpaceClassifier<number>('tuplemerge', options);
  const a = make(BASE, baseOptions);
  const b = make(TREE, headOptions);
  for (const r of rules) {
    a.insert(r);
    b.insert(r);
  }
  const key = createPacketKey();
  for (let i = 0; i < trace.count; i += 97) {
    HEAD.traceKey(trace, i, key);
    if (a.lookupId(key) !== b.lookupId(key)) throw new Error(`${name}: base and head answer differently for header ${i}`);
  }
  const passA = churn === '' ? makePass(a, trace) : makeChurnPass(a, rules, trace, Number(churn));
  const passB = churn === '' ? makePass(b, trace) : makeChurnPass(b, rules, trace, Number(churn));
  // A first pass each: V8 optimizes the generated lookup code during it.
  passA();
  passB();
  const ra: number[] = [];
  const rb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ra.push(passA());
    rb.push(passB());
  }
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  // For churn the figure is a time: head/base above 1 means the head is slower.
  console.log(`${name.padEnd(10)} base ${fmt(ra)} | head ${fmt(rb)} | head/base ${(median(rb) / median(ra)).toFixed(3)}`);
}
if (sink === 0.5) console.log('');
