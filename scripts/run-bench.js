#!/usr/bin/env node
// Runs benchmarks from esbuild bundles under plain node (tsx's loader runs the datapath several times
// slower, which would distort every figure). Usage: node scripts/run-bench.js NAME... | all [--] [ARGS]
// (ARGS start at the first argument beginning with '-': scripts/bench-args.js).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitBenchArgs } from './bench-args.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const benchDir = path.join(root, 'bench');
const { names, passThrough } = splitBenchArgs(process.argv.slice(2));
const all = readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts') && !f.includes('.lib.'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const chosen = names.length === 0 || names.includes('all') ? all : names;

let failed = 0;
for (const [i, name] of chosen.entries()) {
  const entry = path.join(benchDir, `${name}.ts`);
  if (!existsSync(entry)) {
    console.error(`no benchmark bench/${name}.ts (have: ${all.join(', ')})`);
    process.exit(2);
  }
  const outfile = path.join(root, 'dist', 'bench', `${name}.mjs`);
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'error' });
  console.log(`\n=== bench/${name} ===${chosen.length > 1 ? ` (${i + 1} of ${chosen.length})` : ''}`);
  const r = spawnSync(process.execPath, ['--expose-gc', outfile, ...passThrough], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
