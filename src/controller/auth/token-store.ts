/**
 * Where API tokens are kept: their hashes, scopes and revocations. Asynchronous, so that a store
 * across processes can implement it; SQLite implements it here, in the intent store's database
 * (table `api_tokens`, src/controller/store/schema.ts).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { TokenScope } from './scopes.js';

export interface StoredToken {
  /** `tok-` and the first hex digits of `hash`. */
  id: string;
  name: string;
  scope: TokenScope;
  /** SHA-256 of the token's text, hex. */
  hash: string;
  createdAtMs: number;
  revokedAtMs?: number;
}

export interface TokenStore {
  /** Adds a token; false (and nothing written) when a token with its id exists. */
  insert(token: StoredToken): Promise<boolean>;
  get(id: string): Promise<StoredToken | undefined>;
  /** Every token, revoked ones too, oldest first. */
  list(): Promise<StoredToken[]>;
  /** Marks the token revoked (keeping an earlier revocation's time); undefined when no token has the id. */
  revoke(id: string, atMs: number): Promise<StoredToken | undefined>;
}

interface TokenRow {
  id: string;
  name: string;
  scope: TokenScope;
  hash: string;
  created_at_ms: number;
  revoked_at_ms: number | null;
}

const fromRow = (r: TokenRow): StoredToken => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  hash: r.hash,
  createdAtMs: r.created_at_ms,
  ...(r.revoked_at_ms === null ? {} : { revokedAtMs: r.revoked_at_ms }),
});

export function createSqliteTokenStore(db: BetterSqlite3.Database): TokenStore {
  const insert = db.prepare(
    `INSERT INTO api_tokens (id, name, scope, hash, created_at_ms) VALUES (@id, @name, @scope, @hash, @createdAtMs)
     ON CONFLICT DO NOTHING`,
  );
  const get = db.prepare<[string], TokenRow>('SELECT id, name, scope, hash, created_at_ms, revoked_at_ms FROM api_tokens WHERE id = ?');
  const all = db.prepare<[], TokenRow>('SELECT id, name, scope, hash, created_at_ms, revoked_at_ms FROM api_tokens ORDER BY created_at_ms, id');
  const revoke = db.prepare('UPDATE api_tokens SET revoked_at_ms = coalesce(revoked_at_ms, ?) WHERE id = ?');
  return {
    async insert(t) {
      return insert.run({ id: t.id, name: t.name, scope: t.scope, hash: t.hash, createdAtMs: t.createdAtMs }).changes === 1;
    },
    async get(id) {
      const r = get.get(id);
      return r && fromRow(r);
    },
    async list() {
      return all.all().map(fromRow);
    },
    async revoke(id, atMs) {
      revoke.run(atMs, id);
      const r = get.get(id);
      return r && fromRow(r);
    },
  };
}
