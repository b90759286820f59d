/**
 * The idempotency store: a key is reserved once per owner; the same key with the same fingerprint
 * replays the answer once completed, is in flight before; another fingerprint is a mismatch; keys of
 * different owners never meet; a released key is free again; keys expire after the retention window
 * and an abandoned reservation is taken over after the pending window.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteIdempotencyStore, type IdempotencyStore } from '../../../src/controller/auth/index.js';
import { openIntentStore, type SqliteIntentStore } from '../../../src/controller/store/index.js';

let db: SqliteIntentStore;
let keys: IdempotencyStore;
const RETENTION = 10_000;
const PENDING = 1_000;

beforeEach(() => {
  db = openIntentStore(':memory:');
  keys = createSqliteIdempotencyStore(db.database, { retentionMs: RETENTION, pendingMs: PENDING });
});
afterEach(() => db.close());

describe('idempotency store', () => {
  it('reserves, reports in flight, replays once completed, refuses another request', async () => {
    expect(await keys.reserve('tok-a', 'k1', 'fp1', 0)).toEqual({ kind: 'reserved' });
    expect(await keys.reserve('tok-a', 'k1', 'fp1', 10)).toEqual({ kind: 'in-flight' });
    expect(await keys.reserve('tok-a', 'k1', 'fp2', 10)).toEqual({ kind: 'mismatch' });
    await keys.complete('tok-a', 'k1', { status: 201, body: '{"id":"vpc-1"}' });
    expect(await keys.reserve('tok-a', 'k1', 'fp1', 20)).toEqual({ kind: 'replay', answer: { status: 201, body: '{"id":"vpc-1"}' } });
    expect(await keys.reserve('tok-a', 'k1', 'fp2', 20)).toEqual({ kind: 'mismatch' });
  });

  it('keeps owners apart and frees a released key', async () => {
    expect(await keys.reserve('tok-a', 'k', 'fp1', 0)).toEqual({ kind: 'reserved' });
    expect(await keys.reserve('tok-b', 'k', 'fp2', 0)).toEqual({ kind: 'reserved' });
    await keys.release('tok-a', 'k');
    expect(await keys.reserve('tok-a', 'k', 'fp3', 1)).toEqual({ kind: 'reserved' });
  });

  it('forgets answers after the retention window and takes over an abandoned reservation', async () => {
    await keys.reserve('tok-a', 'done', 'fp', 0);
    await keys.complete('tok-a', 'done', { status: 201, body: '{}' });
    await keys.reserve('tok-a', 'stuck', 'fp', 0);
    expect((await keys.reserve('tok-a', 'stuck', 'fp', PENDING - 1)).kind).toBe('in-flight');
    expect((await keys.reserve('tok-a', 'stuck', 'other', PENDING + 1)).kind).toBe('reserved');
    expect((await keys.reserve('tok-a', 'done', 'fp', RETENTION - 1)).kind).toBe('replay');
    expect((await keys.reserve('tok-a', 'done', 'other', RETENTION + 1)).kind).toBe('reserved');
  });
});
