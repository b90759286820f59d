/**
 * The lab harness itself: two labs of one topology started at once both come up (every process binds
 * port 0 and reports, so they cannot race for a port); a switch that cannot start fails startLab at
 * once with its log line; a lab ping's path is the one the compiled tables give now, so it changes
 * when a link goes down and the ping still gets replies around it. The lab's API answers 401 without
 * the lab's token (printed, and written to <run dir>/token) and works with it.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { LabHandle, LabPingResult } from '../../src/lab/index.js';
import { notYet, patch, post, startLab, waitFor } from './lab-client.js';

const DEMO = 'topologies/demo.yaml';

const ping = (lab: LabHandle, from: string, to: string) => post<LabPingResult>(`${lab.apiUrl}/v1/lab/ping`, { from, to, count: 2 });

describe('lab harness', () => {
  const labs: LabHandle[] = [];
  afterAll(async () => {
    await Promise.all(labs.map((l) => l.stop()));
  });

  it('starts two labs of the same topology at once', async () => {
    const started = await Promise.allSettled([
      startLab({ topologyFile: DEMO, logLevel: 'warn', readyTimeoutMs: 60_000 }),
      startLab({ topologyFile: DEMO, logLevel: 'warn', readyTimeoutMs: 60_000 }),
    ]);
    for (const s of started) if (s.status === 'fulfilled') labs.push(s.value);
    expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'up'))).toEqual(['up', 'up']);
    const [a, b] = labs;
    expect(a.apiUrl).not.toBe(b.apiUrl);
    for (const lab of labs) expect((await ping(lab, 'h1', 'h4')).received).toBe(2);
  }, 150_000);

  it('reports a switch that cannot start at once, with its log line', async () => {
    // Waits far longer than the test may run: only the switch's exit can end startLab in time.
    const error = await startLab({ topologyFile: DEMO, logLevel: 'warn', switchArgs: ['--tables', 'none'], startTimeoutMs: 600_000, readyTimeoutMs: 600_000 }).then(
      (lab) => {
        labs.push(lab);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/^Error: s\d exited \(code 1\)/);
    expect(String(error)).toContain('OVC_ERR_SWITCH_BAD_OPTION: tables must be a positive integer');
  }, 90_000);

  it("a ping's path follows a link going down and the ping still gets replies", async () => {
    const lab = labs[0];
    const direct = await ping(lab, 'h1', 'h4');
    expect(direct.path).toEqual(['h1', 's1(in 1, out 4)', 's3(in 2, out 3)', 'h4']);
    expect(direct.received).toBe(2);
    await patch(`${lab.apiUrl}/v1/topology/links/${encodeURIComponent('s1:4~s3:2')}`, { up: false });
    const around = await waitFor('the ping to go around s1-s3', async () => {
      const r = await ping(lab, 'h1', 'h4');
      return r.path.includes('s2(in 1, out 2)') && r.received > 0 ? r : notYet(r);
    }, { timeoutMs: 15_000 });
    expect(around.path).toEqual(['h1', 's1(in 1, out 3)', 's2(in 1, out 2)', 's3(in 1, out 3)', 'h4']);
    await patch(`${lab.apiUrl}/v1/topology/links/${encodeURIComponent('s1:4~s3:2')}`, { up: true });
    const back = await waitFor('the direct path again', async () => {
      const r = await ping(lab, 'h1', 'h4');
      return r.path.includes('s3(in 2, out 3)') && r.received > 0 ? r : notYet(r);
    }, { timeoutMs: 15_000 });
    expect(back.path).toEqual(direct.path);
  }, 60_000);

  it('answers 401 without the lab token, 200 with it; the token is in <run dir>/token, readable by its owner only', async () => {
    const lab = labs[0];
    const bare = await fetch(`${lab.apiUrl}/v1/switches`);
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { code: string }).code).toBe('OVC_ERR_AUTH_MISSING_TOKEN');
    const wrong = await fetch(`${lab.apiUrl}/v1/switches`, { headers: { authorization: `Bearer ${labs[1].token}` } });
    expect(((await wrong.json()) as { code: string }).code).toBe('OVC_ERR_AUTH_BAD_TOKEN');
    expect(fs.readFileSync(lab.tokenFile, 'utf8').trim()).toBe(lab.token);
    expect(fs.statSync(lab.tokenFile).mode & 0o777).toBe(0o600);
    const ok = await fetch(`${lab.apiUrl}/v1/switches`, { headers: { authorization: `Bearer ${fs.readFileSync(lab.tokenFile, 'utf8').trim()}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { switches: unknown[] }).switches).toHaveLength(3);
    expect((await fetch(`${lab.apiUrl}/healthz`)).status).toBe(200);
  });
});
