/**
 * docs/guide.md, run: `overcast lab up` as the guide starts it (on a free port), then every other
 * command of the guide in order against that lab, each one's output compared with what the guide
 * shows (guide-runner.ts: same ids and addresses, numbers may differ).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { compareOutput, lineRegex, parseGuide } from './guide-runner.js';

const run = promisify(execFile);
const root = path.resolve('.');
const steps = parseGuide(readFileSync(path.join(root, 'docs', 'guide.md'), 'utf8'));
const LAB_UP = /^overcast lab up (\S+)$/;

describe('the guide matcher', () => {
  it('holds ids and addresses to the guide and lets other numbers vary', () => {
    expect(lineRegex('ep-1 10.1.0.2/24 on s1 port 1, 3.5 ms').test('ep-1 10.1.0.2/24 on s1 port 1, 12.25 ms')).toBe(true);
    expect(lineRegex('ep-1 10.1.0.2/24').test('ep-2 10.1.0.2/24')).toBe(false);
    expect(lineRegex('ep-1 10.1.0.2/24').test('ep-1 10.1.0.3/24')).toBe(false);
    expect(lineRegex('REST API http://127.0.0.1:8080  (…)').test('REST API   http://127.0.0.1:41234  (see /docs)')).toBe(true);
    expect(compareOutput(['a', '…', 'z'], ['a', 'b', 'c', 'z'])).toBeUndefined();
    expect(compareOutput(['a 1'], ['b 1'])).toMatch(/^line 1:/);
  });

  it('finds the lab up command first and a dozen commands in all', () => {
    expect(steps[0]?.command).toMatch(LAB_UP);
    expect(steps.length).toBeGreaterThanOrEqual(10);
  });
});

describe('docs/guide.md, run against a lab', () => {
  const shim = mkdtempSync(path.join(os.tmpdir(), 'overcast-guide-'));
  let lab: ChildProcess | undefined;

  afterAll(async () => {
    if (lab && lab.exitCode === null) {
      const gone = new Promise((r) => lab?.once('exit', r));
      lab.kill('SIGINT');
      await gone;
    }
    rmSync(shim, { recursive: true, force: true });
  });

  it('prints what the guide shows at every step', async () => {
    // `overcast` as a user's shell finds it after `npm install` (npx overcast): bin/overcast.js.
    writeFileSync(path.join(shim, 'overcast'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'bin', 'overcast.js')}" "$@"\n`);
    chmodSync(path.join(shim, 'overcast'), 0o755);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${shim}:${process.env.PATH ?? ''}` };
    delete env.OVERCAST_API;
    delete env.OVERCAST_TOKEN;

    const [up, ...rest] = steps;
    const topology = (LAB_UP.exec(up.command) as RegExpExecArray)[1];
    // The guide's lab listens on 8080; this one on any free port, so tests never race for it.
    const child = spawn('sh', ['-c', `exec overcast lab up ${topology} --api-port 0`], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    lab = child;
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const started = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lab up printed no "Ctrl-C" line in 90 s:\n${out}\n${err}`)), 90_000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ctrl-C stops')) {
          clearTimeout(timer);
          resolve(out);
        }
      });
      child.once('exit', (code) => reject(new Error(`lab up exited (${code}):\n${out}\n${err}`)));
    });
    expect(compareOutput(up.expected, started.split('\n')), `guide line ${up.line}: ${up.command}`).toBeUndefined();
    const api = (/REST API\s+(http:\/\/\S+)/.exec(started) as RegExpExecArray)[1];
    env.OVERCAST_API = api;
    // What a reader does next: export the lab's admin token (the guide's prose says so).
    env.OVERCAST_TOKEN = (/^\s*token\s+(\S+)/m.exec(started) as RegExpExecArray)[1];
    const hostPort = api.replace('http://', '');

    for (const step of rest) {
      const command = step.command.replaceAll('localhost:8080', hostPort).replaceAll('127.0.0.1:8080', hostPort);
      const r = await run('bash', ['-o', 'pipefail', '-c', command], { cwd: root, env, timeout: 60_000 }).catch((e: { stdout?: string; stderr?: string; code?: number }) => {
        throw new Error(`guide line ${step.line}: \`${step.command}\` failed (${e.code}):\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      });
      expect(compareOutput(step.expected, r.stdout.split('\n')), `guide line ${step.line}: ${step.command}`).toBeUndefined();
    }
  }, 240_000);
});
