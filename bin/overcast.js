#!/usr/bin/env node
// Entry point. Runs the CLI from one esbuild bundle (dist/overcast.mjs), rebuilt here whenever a
// source file is newer than it: code loaded through tsx's loader runs several times slower on the
// datapath (measured: extractKey ~5x), and every lab process would pay for it.
import { existsSync, readdirSync, renameSync, statSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = path.join(root, 'dist', 'overcast.mjs');

function newestSourceMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

async function build() {
  const { build } = await import('esbuild');
  mkdirSync(path.dirname(bundle), { recursive: true });
  // Several lab processes may rebuild at once: each writes its own file and renames it into place.
  const tmp = `${bundle}.${process.pid}.tmp`;
  await build({
    entryPoints: [path.join(root, 'src', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    outfile: tmp,
    logLevel: 'error',
  });
  renameSync(tmp, bundle);
}

const srcDir = path.join(root, 'src');
if (existsSync(srcDir) && (!existsSync(bundle) || statSync(bundle).mtimeMs < newestSourceMs(srcDir))) await build();
await import(bundle);
