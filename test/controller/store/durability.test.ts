/**
 * Kill -9 at a random moment: every change the child acknowledged (printed after the call returned)
 * must be in the store after reopening, and nothing half-written may be (checked row by row).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIntentService } from '../../../src/controller/intent/index.js';
import { idSeq, openIntentStore } from '../../../src/controller/store/index.js';
import { Cidr } from '../../../src/net/index.js';
import { tempDir } from './fixtures.js';

const CHILD = fileURLToPath(new URL('./durability-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Runs the child until it has acknowledged `killAfter` lines (plus whatever arrived in the same chunk), then SIGKILLs it. */
function runAndKill(file: string, killAfter: number): Promise<{ lines: string[]; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    const lines: string[] = [];
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
      if (lines.length >= killAfter && child.exitCode === null) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`child failed (${code}): ${stderr}`));
      // A line cut by the kill was never fully acknowledged: only complete lines count.
      else resolve({ lines, signal });
    });
  });
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  tmp.remove();
});

describe('intent store durability', () => {
  for (let run = 1; run <= 3; run++) {
    it(`keeps every acknowledged change and nothing half-written after kill -9 (run ${run})`, async () => {
      const killAfter = 1 + Math.floor(Math.random() * 200);
      const { lines, signal } = await runAndKill(tmp.file, killAfter);
      expect(signal, `the child finished before ${killAfter} acks`).toBe('SIGKILL');

      // What the acknowledged lines promise.
      const vpcs = new Set<string>();
      const subnets = new Map<string, string>();
      const endpoints = new Map<string, string>();
      // The delete announced last and not acknowledged: it may have committed before the kill.
      let inFlight: string | undefined;
      for (const line of lines) {
        if (line.startsWith('> ')) {
          inFlight = line.slice(2);
          continue;
        }
        if (line === inFlight) inFlight = undefined;
        const [what, id, parent] = line.split(' ');
        if (what === 'vpc') vpcs.add(id);
        else if (what === 'subnet') subnets.set(id, parent);
        else if (what === 'ep') endpoints.set(id, parent);
        else if (what === 'epdel') endpoints.delete(id);
        else if (what === 'del') {
          vpcs.delete(id);
          for (const [s, v] of subnets) if (v === id) subnets.delete(s);
        } else throw new Error(`unexpected line ${line}`);
      }

      const raw = new Database(tmp.file, { readonly: true });
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(raw.pragma('foreign_key_check')).toEqual([]);
      raw.close();

      const store = openIntentStore(tmp.file);
      const state = (await store.load());
      const svc = await createIntentService({}, { store });
      const intent = svc.intent();
      const at = `after ${lines.length} lines${inFlight === undefined ? '' : `, "${inFlight}" in flight`}`;
      // Committed but not yet acknowledged when the kill came: either outcome is right, a half of one is not.
      const [inFlightWhat, inFlightId] = inFlight?.split(' ') ?? [];
      if (inFlightWhat === 'del' && !intent.vpcs.has(inFlightId)) {
        vpcs.delete(inFlightId);
        for (const [s, v] of subnets) if (v === inFlightId) subnets.delete(s);
      }
      if (inFlightWhat === 'epdel' && !intent.endpoints.has(inFlightId)) endpoints.delete(inFlightId);
      for (const id of vpcs) expect(intent.vpcs.has(id), `${at}: ${id}`).toBe(true);
      for (const [id, vpc] of subnets) expect(intent.subnets.get(id)?.vpcId, `${at}: ${id}`).toBe(vpc);
      for (const [id, subnet] of endpoints) expect(intent.endpoints.get(id)?.subnetId, `${at}: ${id}`).toBe(subnet);
      // Deletes the child acknowledged are gone.
      for (const line of lines.filter((l) => !l.startsWith('> '))) {
        const [what, id] = line.split(' ');
        if (what === 'del') expect(intent.vpcs.has(id), `${at}: deleted ${id}`).toBe(false);
        if (what === 'epdel') expect(intent.endpoints.has(id), `${at}: deleted ${id}`).toBe(false);
      }

      // Every row is whole and consistent with its parents.
      for (const e of intent.endpoints.values()) {
        const s = intent.subnets.get(e.subnetId);
        expect(s?.vpcId).toBe(e.vpcId);
        expect(new Cidr(s!.cidr.network, s!.cidr.prefixLength).hostIndex(e.ip)).toBeGreaterThanOrEqual(0);
        expect(e.labels.function).toMatch(/^f[0-9]+$/);
        expect(e.dpid).toBe(1);
      }
      // A VPC and its subnet are deleted in one transaction; only the newest VPC may lack its subnet
      // (killed between its create and its subnet's).
      const newestVpc = Math.max(0, ...[...intent.vpcs.keys()].map((id) => idSeq('vpc', id) ?? 0));
      for (const v of intent.vpcs.values()) {
        const n = [...intent.subnets.values()].filter((s) => s.vpcId === v.id).length;
        if (idSeq('vpc', v.id) !== newestVpc) expect(n, `${at}: subnets of ${v.id}`).toBe(1);
      }
      // Id counters moved with the rows they numbered.
      for (const [kind, map] of [['vpc', intent.vpcs], ['subnet', intent.subnets], ['endpoint', intent.endpoints]] as const) {
        for (const id of map.keys()) expect(idSeq(kind, id)).toBeLessThanOrEqual(state.lastSeq[kind]);
      }
      store.close();
    });
  }
});
