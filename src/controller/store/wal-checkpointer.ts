/**
 * Checkpoints of the intent store's write-ahead log, off the commit path. SQLite's own
 * auto-checkpoint runs inside the commit that takes the WAL past 1,000 pages: that commit copies the
 * WAL into the database file and fsyncs it, on the event loop, and its request waits for it. Here the
 * store's connection turns auto-checkpoints off and a worker thread with its own connection to the
 * file runs `wal_checkpoint(PASSIVE)` once the store has been idle for `idleMs` after a commit, or
 * `maxDelayMs` after the first commit not yet checkpointed when commits keep coming, and every
 * `sweepMs` for the writes other modules make to the same database. A passive
 * checkpoint takes no writer lock: commits go on while it copies, and the next commit after a
 * complete one starts the WAL over from its beginning.
 *
 * Durability does not depend on it: every commit is fsynced in the WAL (synchronous=FULL), and a
 * checkpoint fsyncs the WAL before it copies and the database file after. Should the worker fail,
 * the store's connection goes back to SQLite's auto-checkpoint.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/** A checkpoint runs once no commit came for this long... */
export const CHECKPOINT_IDLE_MS = 50;
/** ...or this long after the first commit it has not copied yet, whichever is first. */
export const CHECKPOINT_MAX_DELAY_MS = 1000;
/**
 * And every this often regardless: the REST API's tokens, idempotency keys and webhooks write to the
 * same database beside the store's commits, which alone schedule the checkpoints above.
 */
export const CHECKPOINT_SWEEP_MS = 30_000;
/** SQLite's default auto-checkpoint threshold (pages), restored when the worker fails. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

export interface CheckpointOptions {
  idleMs?: number;
  maxDelayMs?: number;
  sweepMs?: number;
}

/** What the last checkpoint found: WAL frames in all, and how many of them are in the database file. */
export interface CheckpointResult {
  walFrames: number;
  copiedFrames: number;
}

export interface WalCheckpointer {
  /** A commit went into the WAL: a checkpoint follows when the store is idle, or within the max delay. */
  committed(): void;
  /** Checkpoints completed by the worker so far, and the last one's result. */
  readonly completed: number;
  readonly last: CheckpointResult | undefined;
  close(): Promise<void>;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = FULL');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, walFrames: r.log, copiedFrames: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String(e) });
  }
});
`;

type WorkerReply = { ok: true; walFrames: number; copiedFrames: number } | { ok: false; error: string };

/**
 * Turns `db`'s auto-checkpoint off and starts the worker. `onError` hears a failed checkpoint (the
 * store logs it); a worker that dies hands checkpoints back to SQLite.
 */
export function startWalCheckpointer(db: BetterSqlite3.Database, options: CheckpointOptions = {}, onError: (err: Error) => void = () => undefined): WalCheckpointer {
  const idleMs = options.idleMs ?? CHECKPOINT_IDLE_MS;
  const maxDelayMs = options.maxDelayMs ?? CHECKPOINT_MAX_DELAY_MS;
  const sweepMs = options.sweepMs ?? CHECKPOINT_SWEEP_MS;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file: db.name } });
  worker.unref();
  db.pragma('wal_autocheckpoint = 0');

  let idleTimer: NodeJS.Timeout | undefined;
  let maxTimer: NodeJS.Timeout | undefined;
  let running = false;
  /** A commit came while a checkpoint ran: another one follows it. */
  let again = false;
  let dead = false;
  let exited: Promise<void> | undefined;
  const state = { completed: 0, last: undefined as CheckpointResult | undefined };

  const clearTimers = () => {
    clearTimeout(idleTimer);
    clearTimeout(maxTimer);
    idleTimer = undefined;
    maxTimer = undefined;
  };
  const run = () => {
    clearTimers();
    if (dead) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    worker.postMessage('checkpoint');
  };
  const sweep = setInterval(run, sweepMs);
  sweep.unref();
  const giveUp = (err: Error) => {
    if (dead) return;
    dead = true;
    clearTimers();
    clearInterval(sweep);
    if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
    onError(err);
  };
  worker.on('message', (r: WorkerReply) => {
    running = false;
    if (r.ok) {
      state.completed++;
      state.last = { walFrames: r.walFrames, copiedFrames: r.copiedFrames };
    } else onError(new Error(`WAL checkpoint failed: ${r.error}`));
    if (again) {
      again = false;
      schedule();
    }
  });
  worker.on('error', giveUp);
  worker.on('exit', (code) => {
    if (!dead && code !== 0) giveUp(new Error(`WAL checkpoint worker exited (${code})`));
    dead = true;
  });

  function schedule(): void {
    if (dead) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(run, idleMs);
    idleTimer.unref();
    if (!maxTimer) {
      maxTimer = setTimeout(run, maxDelayMs);
      maxTimer.unref();
    }
  }

  return {
    committed: schedule,
    get completed() {
      return state.completed;
    },
    get last() {
      return state.last;
    },
    close() {
      clearTimers();
      clearInterval(sweep);
      if (dead) return exited ?? Promise.resolve();
      dead = true;
      exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      // Whoever awaits the close keeps the process alive until the worker has closed its connection.
      worker.ref();
      worker.postMessage('close');
      return exited;
    },
  };
}
