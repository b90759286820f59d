/**
 * API tokens: minted with 256 random bits, kept only as a hash (the text is nowhere in the store),
 * found by id and compared whole, scoped, revoked at once; a token supplied from outside is adopted once
 * and a revoked one stays revoked. The SQLite token store keeps them across a reopen.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN_ENV, TOKEN_PREFIX, createSqliteTokenStore, createTokenService, hashToken, scopeAllows, tokenIdOfHash, type TokenService } from '../../../src/controller/auth/index.js';
import { openIntentStore, type SqliteIntentStore } from '../../../src/controller/store/index.js';
import { isOvercastError } from '../../../src/errors/index.js';
import { tempDir } from '../store/fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let store: SqliteIntentStore;
let now = 1_700_000_000_000;
let tokens: TokenService;

const open = () => {
  store = openIntentStore(tmp.file);
  tokens = createTokenService({ store: createSqliteTokenStore(store.database), nowMs: () => now });
};

beforeEach(() => {
  tmp = tempDir();
  open();
});
afterEach(() => {
  store.close();
  tmp.remove();
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (isOvercastError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe('API tokens', () => {
  it('orders scopes: admin may what write may, write what read may', () => {
    expect(scopeAllows('admin', 'write')).toBe(true);
    expect(scopeAllows('write', 'read')).toBe(true);
    expect(scopeAllows('read', 'write')).toBe(false);
    expect(scopeAllows('write', 'admin')).toBe(false);
  });

  it('mints a token, keeps only its hash, and authenticates it with its scope', async () => {
    const t = await tokens.issue({ scope: 'write', name: 'deployer' });
    expect(t.token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(t.token.length).toBe(TOKEN_PREFIX.length + 43);
    expect(t).toMatchObject({ id: tokenIdOfHash(hashToken(t.token)), name: 'deployer', scope: 'write', createdAt: new Date(now).toISOString() });
    expect(await tokens.authenticate(t.token)).toEqual({ ok: true, token: { id: t.id, name: 'deployer', scope: 'write', createdAt: t.createdAt } });
    store.close();
    // The file holds the hash, never the text.
    const raw = new Database(tmp.file, { readonly: true });
    const rows = raw.prepare('SELECT * FROM api_tokens').all() as { hash: string }[];
    raw.close();
    expect(rows).toHaveLength(1);
    expect(rows[0].hash).toBe(hashToken(t.token));
    expect(JSON.stringify(rows)).not.toContain(t.token.slice(TOKEN_PREFIX.length));
    open();
    expect((await tokens.authenticate(t.token)).ok).toBe(true);
  });

  it('refuses an unknown token, one with the right id but another secret, and a revoked one', async () => {
    const t = await tokens.issue({ scope: 'admin' });
    expect(await tokens.authenticate(`${TOKEN_PREFIX}${'A'.repeat(43)}`)).toEqual({ ok: false, code: 'OVC_ERR_AUTH_BAD_TOKEN' });
    expect(await tokens.authenticate('')).toEqual({ ok: false, code: 'OVC_ERR_AUTH_BAD_TOKEN' });
    // A row whose id matches a text's hash but whose hash does not: the whole hash is compared.
    const text = `${TOKEN_PREFIX}${'B'.repeat(43)}`;
    now += 1;
    await createSqliteTokenStore(store.database).insert({ id: tokenIdOfHash(hashToken(text)), name: 'x', scope: 'admin', hash: hashToken('something else'), createdAtMs: now });
    expect(await tokens.authenticate(text)).toEqual({ ok: false, code: 'OVC_ERR_AUTH_BAD_TOKEN' });
    now += 1;
    const other = await tokens.issue({ scope: 'read' });
    now += 1000;
    const revoked = await tokens.revoke(t.id);
    expect(revoked.revokedAt).toBe(new Date(now).toISOString());
    expect(await tokens.authenticate(t.token)).toEqual({ ok: false, code: 'OVC_ERR_AUTH_TOKEN_REVOKED' });
    now += 1000;
    expect((await tokens.revoke(t.id)).revokedAt).toBe(revoked.revokedAt);
    expect(await codeOf(tokens.revoke('tok-000000000000'))).toBe('OVC_ERR_AUTH_TOKEN_NOT_FOUND');
    expect((await tokens.list()).map((x) => [x.id, x.scope, x.revokedAt !== undefined])).toEqual([
      [t.id, 'admin', true],
      [tokenIdOfHash(hashToken(text)), 'admin', false],
      [other.id, 'read', false],
    ]);
  });

  it(`adopts a token from outside (${BOOTSTRAP_TOKEN_ENV}) once; a revoked one stays revoked; a weak one is refused`, async () => {
    const text = 'a-deployment-secret-of-at-least-32-chars';
    const first = await tokens.adopt(text, { scope: 'admin', name: 'bootstrap' });
    expect(first).toMatchObject({ id: tokenIdOfHash(hashToken(text)), scope: 'admin', name: 'bootstrap' });
    expect(await tokens.adopt(text, { scope: 'admin', name: 'bootstrap' })).toEqual(first);
    await tokens.revoke(first.id);
    expect((await tokens.adopt(text, { scope: 'admin', name: 'bootstrap' })).revokedAt).toBeDefined();
    expect((await tokens.authenticate(text)).ok).toBe(false);
    expect(await codeOf(tokens.adopt('short', { scope: 'admin', name: 'x' }))).toBe('OVC_ERR_AUTH_WEAK_TOKEN');
    expect(await codeOf(tokens.adopt(`${'x'.repeat(40)} with spaces`, { scope: 'admin', name: 'x' }))).toBe('OVC_ERR_AUTH_WEAK_TOKEN');
  });

  it('draws again when a minted id is taken', async () => {
    const draws = [Buffer.alloc(32, 1), Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    const svc = createTokenService({ store: createSqliteTokenStore(store.database), nowMs: () => now, randomBytes: () => draws.shift() as Buffer });
    const a = await svc.issue({ scope: 'read' });
    const b = await svc.issue({ scope: 'read' });
    expect(a.id).not.toBe(b.id);
    expect(draws).toHaveLength(0);
  });
});
