/**
 * `overcast controller` as a process: every listener defaults to 127.0.0.1; OVERCAST_BOOTSTRAP_TOKEN
 * registers an admin token at start (the API answers 401 without it, 200 with it); a token too weak to
 * be one ends the process at once with its code.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { notYet, waitFor } from '../support/wait-for.js';

const BIN = fileURLToPath(new URL('../../bin/overcast.js', import.meta.url));
const TOKEN = 'a-bootstrap-token-of-more-than-32-characters';

describe('overcast controller', () => {
  it('binds every listener to 127.0.0.1 unless told otherwise', () => {
    const help = spawnSync(process.execPath, [BIN, 'controller', '--help'], { encoding: 'utf8', timeout: 120_000 }).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('native channel address (default: "tcp://127.0.0.1:6633")');
    expect(help).toContain('(default: "tcp://127.0.0.1:6653")');
    expect(help).toContain('REST API address (default: "127.0.0.1")');
  }, 150_000);

  it('registers OVERCAST_BOOTSTRAP_TOKEN as an admin token', async () => {
    const child = spawn(process.execPath, [BIN, 'controller', '--topology', 'topologies/demo.yaml', '--api-port', '0', '--listen', 'tcp://127.0.0.1:0', '--openflow', 'none', '--insecure-tcp', '--health-interval-ms', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OVERCAST_BOOTSTRAP_TOKEN: TOKEN },
    });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const api = await waitFor('the controller to report its API', () => /"api":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(log)?.[1] ?? notYet(log), { timeoutMs: 60_000 });
      expect(log).toContain('bootstrap admin token');
      expect(log).not.toContain(TOKEN);
      expect((await fetch(`${api}/v1/topology`)).status).toBe(401);
      const ok = await fetch(`${api}/v1/tokens`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { tokens: { name: string; scope: string }[] }).tokens).toEqual([expect.objectContaining({ name: 'bootstrap', scope: 'admin' })]);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 120_000);

  it('refuses a bootstrap token too weak to be one', () => {
    const run = spawnSync(process.execPath, [BIN, 'controller', '--topology', 'topologies/demo.yaml', '--api-port', '0', '--listen', 'tcp://127.0.0.1:0', '--openflow', 'none', '--insecure-tcp'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, OVERCAST_BOOTSTRAP_TOKEN: 'short' },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('OVC_ERR_AUTH_WEAK_TOKEN');
  }, 150_000);
});
