/**
 * Idempotency keys of the REST API's creates: per token, the fingerprint of the request a key came with
 * and, once answered, the answer (status and JSON text), so that a client retrying a create after a
 * timeout gets the first answer instead of a second object. Asynchronous, so that a store across
 * processes can implement it; SQLite implements it here, in the intent store's database (table
 * `idempotency_keys`, src/controller/store/schema.ts).
 *
 * `reserve` is atomic: of two requests with one key, one reserves and the other finds it in flight.
 * Keys older than the retention window are forgotten; a reservation never completed (its process
 * died) is taken over after the pending window.
 */
import type BetterSqlite3 from 'better-sqlite3';

export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_PENDING_MS = 60 * 1000;

export interface IdempotencyAnswer {
  status: number;
  /** The reply body as sent (JSON text). */
  body: string;
}

export type Reservation =
  | { kind: 'reserved' }
  | { kind: 'replay'; answer: IdempotencyAnswer }
  /** The key was used with another request. */
  | { kind: 'mismatch' }
  /** The first request with the key has not been answered yet. */
  | { kind: 'in-flight' };

export interface IdempotencyStore {
  reserve(owner: string, key: string, fingerprint: string, nowMs: number): Promise<Reservation>;
  /** Keeps the answer of a reserved key. */
  complete(owner: string, key: string, answer: IdempotencyAnswer): Promise<void>;
  /** Forgets a reserved key whose request failed: the client may retry it, with any body. */
  release(owner: string, key: string): Promise<void>;
}

export interface IdempotencyWindows {
  retentionMs: number;
  pendingMs: number;
}

interface KeyRow {
  fingerprint: string;
  status: number | null;
  body: string | null;
  created_at_ms: number;
}

export function createSqliteIdempotencyStore(
  db: BetterSqlite3.Database,
  windows: IdempotencyWindows = { retentionMs: IDEMPOTENCY_RETENTION_MS, pendingMs: IDEMPOTENCY_PENDING_MS },
): IdempotencyStore {
  const expire = db.prepare('DELETE FROM idempotency_keys WHERE created_at_ms < ?');
  const get = db.prepare<[string, string], KeyRow>('SELECT fingerprint, status, body, created_at_ms FROM idempotency_keys WHERE owner = ? AND key = ?');
  const drop = db.prepare('DELETE FROM idempotency_keys WHERE owner = ? AND key = ?');
  const insert = db.prepare('INSERT INTO idempotency_keys (owner, key, fingerprint, created_at_ms) VALUES (?, ?, ?, ?)');
  const complete = db.prepare('UPDATE idempotency_keys SET status = ?, body = ? WHERE owner = ? AND key = ? AND status IS NULL');

  const reserve = db.transaction((owner: string, key: string, fingerprint: string, nowMs: number): Reservation => {
    expire.run(nowMs - windows.retentionMs);
    const row = get.get(owner, key);
    if (row && row.status === null && row.created_at_ms < nowMs - windows.pendingMs) drop.run(owner, key);
    else if (row) {
      if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (row.status === null || row.body === null) return { kind: 'in-flight' };
      return { kind: 'replay', answer: { status: row.status, body: row.body } };
    }
    insert.run(owner, key, fingerprint, nowMs);
    return { kind: 'reserved' };
  });

  return {
    async reserve(owner, key, fingerprint, nowMs) {
      // IMMEDIATE: another process's reservation of the same key waits for this one.
      return reserve.immediate(owner, key, fingerprint, nowMs);
    },
    async complete(owner, key, answer) {
      complete.run(answer.status, answer.body, owner, key);
    },
    async release(owner, key) {
      drop.run(owner, key);
    },
  };
}
