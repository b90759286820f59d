/**
 * The OpenAPI document as a running controller serves it (`/docs/json`), linted with Redocly's
 * recommended rules (@redocly/cli, pinned in devDependencies): no error and no warning. Redocly runs
 * as a child process with its telemetry and update notices off (it would reach no network here).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { buildFullApi } from './full-api.js';

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
}

function redoclyPackage(): string {
  try {
    return createRequire(import.meta.url).resolve('@redocly/cli/package.json');
  } catch {
    throw new Error('@redocly/cli is not installed: it is a devDependency (npm ci installs it)');
  }
}

it("passes Redocly's recommended rules with no error and no warning", async () => {
  const api = await buildFullApi();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overcast-openapi-'));
  try {
    const res = await api.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const file = path.join(dir, 'openapi.json');
    fs.writeFileSync(file, res.body);
    const cli = path.join(path.dirname(redoclyPackage()), 'bin', 'cli.js');
    const run = spawnSync(process.execPath, [cli, 'lint', file, '--extends', 'recommended', '--format', 'json'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true', DO_NOT_TRACK: '1' },
    });
    const start = run.stdout.indexOf('{');
    expect(start, `redocly printed no report: ${run.stderr}`).toBeGreaterThanOrEqual(0);
    const report = JSON.parse(run.stdout.slice(start)) as LintReport;
    expect(report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await api.close();
  }
}, 180_000);
