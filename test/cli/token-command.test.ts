/**
 * `overcast token create|list|revoke`: offline on a data directory (how the first admin token is
 * made; the controller then accepts it) and online against a running controller with an admin token
 * from --token or OVERCAST_TOKEN. The created token's text is printed once, alone on stdout.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteTokenStore, createTokenService } from '../../src/controller/auth/index.js';
import { openIntentStoreInDir } from '../../src/controller/store/index.js';
import { registerTokenCommand } from '../../src/cli/token-command.js';
import { buildFullApi, type FullApi } from '../api/full-api.js';

const BIN = fileURLToPath(new URL('../../bin/overcast.js', import.meta.url));

/** Runs `overcast token ...` in this process; resolves with what it printed. */
async function token(...args: string[]): Promise<{ out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('overcast').exitOverride();
  registerTokenCommand(program, (l) => out.push(l), (l) => err.push(l));
  await program.parseAsync(['node', 'overcast', 'token', ...args]);
  return { out, err };
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overcast-token-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('overcast token, offline on a data directory', () => {
  it('creates the first admin token, lists it without its text, revokes it', async () => {
    const data = path.join(dir, 'data');
    const created = await token('create', '--scope', 'admin', '--name', 'first', '--data', data);
    expect(created.out).toHaveLength(1);
    const text = created.out[0];
    expect(text).toMatch(/^ovc_[A-Za-z0-9_-]{43}$/);
    expect(created.err[0]).toMatch(/^created tok-[0-9a-f]{12} \(admin, "first"\); the token is shown only now$/);

    // The controller's own view of the store accepts it.
    const store = openIntentStoreInDir(data);
    const service = createTokenService({ store: createSqliteTokenStore(store.database), nowMs: Date.now });
    const auth = await service.authenticate(text);
    store.close();
    expect(auth).toMatchObject({ ok: true, token: { scope: 'admin', name: 'first' } });

    const listed = await token('list', '--data', data);
    expect(listed.out[0]).toMatch(/^ID\s+SCOPE\s+STATE\s+CREATED\s+NAME$/);
    expect(listed.out.join('\n')).not.toContain(text);
    const id = created.err[0].split(' ')[1];
    expect(listed.out[1]).toMatch(new RegExp(`^${id}\\s+admin\\s+active\\s+\\S+\\s+first$`));
    expect((await token('revoke', id, '--data', data)).out[0]).toMatch(new RegExp(`^revoked ${id} \\(admin, "first"\\) at `));
    expect((await token('list', '--json', '--data', data)).out.join('\n')).toContain('"revokedAt"');
  });

  it('refuses a scope that does not exist', async () => {
    await expect(token('create', '--scope', 'root', '--data', path.join(dir, 'other'))).rejects.toThrow(/read, write, admin/);
  });

  it('works as the installed command: bin/overcast.js token create prints only the token on stdout', () => {
    const run = spawnSync(process.execPath, [BIN, 'token', 'create', '--scope', 'write', '--data', path.join(dir, 'bin')], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ovc_[A-Za-z0-9_-]{43}\n$/);
    expect(run.stderr).toContain('(write, "write token")');
  }, 150_000);
});

describe('overcast token, online against a controller', () => {
  let api: FullApi;
  let url: string;
  beforeAll(async () => {
    api = await buildFullApi();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await api.close();
  });

  it('creates, lists and revokes with an admin token from --token or OVERCAST_TOKEN', async () => {
    const created = await token('create', '--scope', 'read', '--name', 'dashboard', '--json', '--api', url, '--token', api.admin);
    const t = JSON.parse(created.out.join('\n')) as { id: string; token: string; scope: string };
    expect(t.scope).toBe('read');
    expect((await api.tokens.authenticate(t.token)).ok).toBe(true);
    process.env.OVERCAST_TOKEN = api.admin;
    try {
      expect((await token('list', '--api', url)).out.some((l) => l.startsWith(`${t.id} `))).toBe(true);
      await token('revoke', t.id, '--api', url);
    } finally {
      delete process.env.OVERCAST_TOKEN;
    }
    expect(await api.tokens.authenticate(t.token)).toEqual({ ok: false, code: 'OVC_ERR_AUTH_TOKEN_REVOKED' });
  });

  it('reports a refusal by its code: no token, or a token that may not manage tokens', async () => {
    await expect(token('list', '--api', url)).rejects.toThrow('OVC_ERR_AUTH_MISSING_TOKEN: this route needs a token: Authorization: Bearer <token> (pass --token or set OVERCAST_TOKEN)');
    await expect(token('create', '--scope', 'admin', '--api', url, '--token', api.write)).rejects.toThrow(/^OVC_ERR_AUTH_SCOPE: /);
  });
});
