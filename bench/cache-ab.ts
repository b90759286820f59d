/**
 * The flow cache against the bare classifier on one ClassBench set, in ONE process with alternating
 * passes (the fairest comparison on a shared machine: both see the same load; the suite in
 * bench/classifier.ts runs each classifier in its own process instead). Prints each pass's M lookups/s
 * (wall time), the median ratio cached / bare, and the cache's hit rate.
 *
 *   node scripts/run-bench.js cache-ab -- [--sets fw1_10k,acl1_10k,ipc1_10k] [--entries 65536] [--rounds 5]
 */
import path from 'node:path';
import { CachedClassifier, TupleSpaceClassifier, type ClassBenchTrace } from '../src/classifier/index.js';
import { classBenchDir, loadClassBenchRules, loadClassBenchTrace, median } from '../src/cli/bench-classifier.js';
import { lookupAll } from './trace-loop.lib.js';

const SHARED = path.join(classBenchDir(), 'generated');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const sets = arg('sets', 'fw1_10k,acl1_10k,ipc1_10k').split(',');
const entries = Number(arg('entries', String(1 << 16)));
const rounds = Math.max(1, Number(arg('rounds', '5')));

let sink = 0;
function pass(c: { lookupId(k: Uint32Array): number }, trace: ClassBenchTrace): number {
  const t0 = process.hrtime.bigint();
  sink += lookupAll(c, trace);
  return trace.count / (Number(process.hrtime.bigint() - t0) / 1e3);
}


console.log(`flow cache (at most ${entries} entries) vs the bare classifier, alternating passes in one process, ${rounds} rounds; M lookups/s`);
for (const name of sets) {
  const rules = loadClassBenchRules(path.join(SHARED, `${name}${name.endsWith('100k') ? '.br' : ''}`));
  const trace = loadClassBenchTrace(path.join(SHARED, `${name}_trace1M.br`));
  const bare = new TupleSpaceClassifier<number>('tuplemerge');
  // Rules go in through the cache: it keys on the bits they read.
  const cached = new CachedClassifier<number>(new TupleSpaceClassifier<number>('tuplemerge'), entries);
  for (const r of rules) {
    bare.insert(r);
    cached.insert(r);
  }
  pass(bare, trace);
  pass(cached, trace);
  const b: number[] = [];
  const c: number[] = [];
  const hits0 = cached.stats.hits;
  for (let r = 0; r < rounds; r++) {
    b.push(pass(bare, trace));
    cached.forget();
    c.push(pass(cached, trace));
  }
  // Per lookup, as the suite counts it (lookups sent past a cache that stands aside are not hits).
  const hitRate = (cached.stats.hits - hits0) / (rounds * trace.count);
  console.log(
    `${name.padEnd(10)} bare ${b.map((x) => x.toFixed(1)).join(' ')} | cached ${c.map((x) => x.toFixed(1)).join(' ')} | cached/bare ${(median(c) / median(b)).toFixed(2)} | hits ${(100 * hitRate).toFixed(1)}%`,
  );
}
if (sink === 0.5) console.log('');
