/**
 * The WAL is checkpointed off the commit path: never inside a commit, by the worker once the store is
 * idle (or when commits keep coming, within the max delay; and on a sweep for writes made beside the
 * store), and what it copied reloads.
 */
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatId, openIntentStore, type SqliteIntentStore, type StoreWrite } from '../../../src/controller/store/index.js';
import { notYet, waitFor } from '../../support/wait-for.js';
import { tempDir } from './fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let store: SqliteIntentStore | undefined;
/** The revision of the test's store (a new store is at 0). */
let revision = 0;
beforeEach(() => {
  tmp = tempDir();
  revision = 0;
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  tmp.remove();
});

const NEVER_MS = 600_000;
const PAGE_BYTES = 4096;

/** One commit of `n` VPCs with long names (about a page of WAL each), after the ids `from`. */
async function commitVpcs(s: SqliteIntentStore, from: number, n: number): Promise<void> {
  const writes: StoreWrite[] = [];
  for (let i = from + 1; i <= from + n; i++) {
    const id = formatId('vpc', i);
    writes.push({ kind: 'vpc', id, value: { id, name: `vpc-${i}-${'x'.repeat(1000)}`, vni: i, cidr: { network: 0x0a000000, prefixLength: 8 } } });
  }
  const r = await s.commit({ basedOn: revision, writes, lastSeq: { vpc: from + n } });
  revision = r.revision;
  expect(r.ok).toBe(true);
}

const walBytes = () => fs.statSync(`${tmp.file}-wal`).size;
const dbStat = () => fs.statSync(tmp.file);

describe('WAL checkpoints', () => {
  it('never run inside a commit, however long the WAL grows', async () => {
    store = openIntentStore(tmp.file, { checkpoint: { idleMs: NEVER_MS, maxDelayMs: NEVER_MS, sweepMs: NEVER_MS } });
    const before = dbStat();
    // Well past SQLite's auto-checkpoint threshold of 1,000 pages.
    for (let c = 0; c < 10; c++) await commitVpcs(store, c * 500, 500);
    expect(walBytes()).toBeGreaterThan(1000 * PAGE_BYTES);
    const after = dbStat();
    expect(after.size).toBe(before.size);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(store.checkpointer?.completed).toBe(0);
  });

  it('run in the worker once the store is idle, copying the whole WAL, and what they copied reloads', async () => {
    store = openIntentStore(tmp.file, { checkpoint: { idleMs: 5, maxDelayMs: NEVER_MS, sweepMs: NEVER_MS } });
    const sizeBefore = dbStat().size;
    await commitVpcs(store, 0, 500);
    const cp = store.checkpointer;
    const last = await waitFor(
      'a checkpoint of the whole WAL',
      () => (cp && cp.completed > 0 && cp.last && cp.last.copiedFrames === cp.last.walFrames ? cp.last : notYet({ completed: cp?.completed, last: cp?.last })),
      { timeoutMs: 10_000 },
    );
    expect(last.walFrames).toBeGreaterThan(0);
    expect(dbStat().size).toBeGreaterThan(sizeBefore);
    await store.close();
    // The WAL is gone with the last connection: the database file alone holds the VPCs.
    store = openIntentStore(tmp.file);
    expect((await store.load()).intent.vpcs.size).toBe(500);
  });

  it('run within the max delay while commits keep coming', async () => {
    store = openIntentStore(tmp.file, { checkpoint: { idleMs: NEVER_MS, maxDelayMs: 5, sweepMs: NEVER_MS } });
    const s = store;
    let next = 0;
    await waitFor(
      'a checkpoint between commits',
      async () => {
        await commitVpcs(s, next, 10);
        next += 10;
        return (s.checkpointer?.completed ?? 0) > 0 ? true : notYet({ commits: next / 10 });
      },
      { timeoutMs: 10_000 },
    );
    expect((await s.load()).intent.vpcs.size).toBe(next);
  });

  it('run on the sweep for writes made beside the store (tokens, idempotency keys)', async () => {
    store = openIntentStore(tmp.file, { checkpoint: { idleMs: NEVER_MS, maxDelayMs: NEVER_MS, sweepMs: 5 } });
    store.database.prepare("INSERT INTO meta (key, value) VALUES ('beside', 'the store')").run();
    const cp = store.checkpointer;
    await waitFor('a swept checkpoint', () => (cp?.last && cp.last.walFrames > 0 && cp.last.copiedFrames === cp.last.walFrames ? true : notYet(cp?.last)), { timeoutMs: 10_000 });
  });

  it('are not needed in memory', () => {
    store = openIntentStore(':memory:');
    expect(store.checkpointer).toBeUndefined();
  });
});
