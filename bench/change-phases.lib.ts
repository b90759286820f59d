/**
 * Where the time of one intent change goes (`--phases N` on bench/volumes.ts and
 * bench/security-groups.ts): timestamps taken along the commit path, from the request to the last
 * barrier reply, and the breakdown of the N slowest changes:
 *
 *   validate   the request to the store's commit call (the write queue, the resource's validation)
 *   sqlite     the store transaction and its fsync (`ckpt`: the database file changed meanwhile, so
 *              a WAL checkpoint ran in the commit or beside it, in the store's checkpoint worker)
 *   index      the store's watch applying the change to the in-memory index
 *   compile    the change listeners: the incremental compile and the flow-mods queued
 *   sent       the flow-mods and barriers handed to the sockets (per switch: first to last)
 *   replies    the first to the last barrier reply, and the slowest switch's
 *   settle     the last reply to the request resolving
 *
 * plus the garbage collections of the controller (and, with OVERCAST_GC_LOG set to a file, of the
 * switch workers) that overlap the change. Observation only: wrapping adds a few microseconds.
 */
import fs from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Controller } from '../src/controller/controller.js';
import type { IntentService } from '../src/controller/intent/index.js';
import type { IntentStore } from '../src/controller/store/index.js';

const GC_LOG_ENV = 'OVERCAST_GC_LOG';
/** Collections shorter than this are not worth naming against a change. */
const GC_REPORT_MS = 0.3;

interface Gc {
  /** Epoch ms. */
  at: number;
  ms: number;
  who: string;
}

interface Sample {
  start: number;
  commitCall: number;
  committed: number;
  indexed: number;
  listened: number;
  end: number;
  checkpoint: boolean;
  firstWrite: number;
  lastWrite: number;
  replies: Map<number, number>;
  /** Young-generation bytes in use at start, commit call, committed, indexed, listened, end. */
  young: number[];
}

/** Bytes in use in V8's young generation: its growth between two points is what was allocated (no scavenge between). */
function youngBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0;
}

/** Epoch ms at high resolution (comparable across processes). */
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * In a switch worker with OVERCAST_GC_LOG set: append each collection (epoch ms, duration) to that
 * file. Call before runSwitchHostIfChild.
 */
export function logWorkerGcIfAsked(): void {
  const file = process.env[GC_LOG_ENV];
  if (!file || process.env.OVERCAST_SWITCH_HOST !== '1') return;
  const obs = new PerformanceObserver((list) => {
    const lines = list.getEntries().map((e) => `${process.pid} ${(performance.timeOrigin + e.startTime).toFixed(3)} ${e.duration.toFixed(3)}\n`);
    fs.appendFileSync(file, lines.join(''));
  });
  obs.observe({ entryTypes: ['gc'] });
}

export interface ChangePhases {
  /** Call right before the request. */
  begin(): void;
  /** Call once the change is installed (runtime settled). */
  end(): void;
  /** Wrap the controller's sessions (after the first sync). */
  watchSwitches(controller: Controller): void;
  /** The slowest `n` changes, phase by phase, as text lines. */
  report(n: number): string[];
  stop(): void;
}

/**
 * Hooks the store (commit and its watch) and the intent service's listeners. Call before the intent
 * service is created (its watcher registers after this one) and before the runtime starts (its
 * listener registers between this module's two).
 */
export function recordChangePhases(store: IntentStore, revision: number, dbFile: string | undefined): { attach(intent: IntentService): ChangePhases } {
  const samples: Sample[] = [];
  let cur: Sample | undefined;
  const commit = store.commit.bind(store);
  store.commit = (t) => {
    if (cur) {
      cur.commitCall = epochNow();
      cur.young.push(youngBytes());
    }
    // The main database file changes only in a checkpoint (WAL mode).
    const dbMtime = dbFile ? fs.statSync(dbFile).mtimeMs : 0;
    const p = commit(t);
    if (cur && dbFile && fs.statSync(dbFile).mtimeMs !== dbMtime) cur.checkpoint = true;
    return p;
  };
  const unwatch = store.watch(revision, {
    batch: () => {
      if (cur) {
        cur.committed = epochNow();
        cur.young.push(youngBytes());
      }
    },
  });
  const gcs: Gc[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, who: 'controller' });
  });
  obs.observe({ entryTypes: ['gc'] });
  const gcLog = process.env[GC_LOG_ENV];

  return {
    attach(intent) {
      const offFirst = intent.onChange(() => {
        if (cur) {
          cur.indexed = epochNow();
          cur.young.push(youngBytes());
        }
      });
      let offLast: (() => void) | undefined;
      return {
        begin() {
          // The runtime's listener registered since attach: this one runs after it.
          offLast ??= intent.onChange(() => {
            if (cur) {
              cur.listened = epochNow();
              cur.young.push(youngBytes());
            }
          });
          const now = epochNow();
          cur = { start: now, commitCall: now, committed: now, indexed: now, listened: now, end: now, checkpoint: false, firstWrite: 0, lastWrite: 0, replies: new Map(), young: [youngBytes()] };
        },
        end() {
          if (!cur) return;
          cur.end = epochNow();
          cur.young.push(youngBytes());
          samples.push(cur);
          cur = undefined;
        },
        watchSwitches(controller) {
          for (const s of controller.status()) {
            const conn = controller.session(s.dpid)?.connection as unknown as { barrier(): Promise<void>; tx: { flush(): void } } | undefined;
            if (!conn) continue;
            const barrier = conn.barrier.bind(conn);
            conn.barrier = async () => {
              await barrier();
              cur?.replies.set(s.dpid, epochNow());
            };
            const flush = conn.tx.flush.bind(conn.tx);
            conn.tx.flush = () => {
              if (cur) {
                const now = epochNow();
                if (!cur.firstWrite) cur.firstWrite = now;
                cur.lastWrite = now;
              }
              flush();
            };
          }
        },
        report(n) {
          const workerGcs: Gc[] = [];
          if (gcLog && fs.existsSync(gcLog)) {
            for (const line of fs.readFileSync(gcLog, 'utf8').split('\n')) {
              const [pid, at, ms] = line.split(' ');
              if (ms) workerGcs.push({ at: Number(at), ms: Number(ms), who: `worker ${pid}` });
            }
          }
          const allGcs = [...gcs, ...workerGcs].filter((g) => g.ms >= GC_REPORT_MS);
          const slow = [...samples].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, n);
          const f = (ms: number) => ms.toFixed(2).padStart(6);
          const lines = [`slowest ${slow.length} of ${samples.length} changes (ms): total = validate + sqlite + index + compile + to-socket + replies + settle`];
          for (const s of slow) {
            const replies = [...s.replies.values()].sort((a, b) => a - b);
            const firstReply = replies[0] ?? s.end;
            const lastReply = replies[replies.length - 1] ?? s.end;
            const firstWrite = s.firstWrite || s.listened;
            const overlap = allGcs.filter((g) => g.at < s.end && g.at + g.ms > s.start).map((g) => `${g.who} gc ${g.ms.toFixed(1)}`);
            lines.push(
              `${f(s.end - s.start)} = ${f(s.commitCall - s.start)} ${f(s.committed - s.commitCall)}${s.checkpoint ? ' ckpt' : '     '} ${f(s.indexed - s.committed)} ${f(s.listened - s.indexed)} ${f(firstWrite - s.listened)} ` +
                `${f(lastReply - firstWrite)} (first ${f(firstReply - firstWrite)}, ${replies.length} switches) ${f(s.end - lastReply)}${overlap.length ? `  [${overlap.join(', ')}]` : ''}`,
            );
          }
          // Allocation per phase: the median over the changes with no scavenge inside (every step grew).
          const grew = samples.filter((x) => x.young.length === 6 && x.young.every((b, i) => i === 0 || b >= x.young[i - 1]));
          if (grew.length > 0) {
            const kb = (i: number) => {
              const d = grew.map((x) => x.young[i + 1] - x.young[i]).sort((a, b) => a - b);
              return (d[Math.floor(d.length / 2)] / 1024).toFixed(1);
            };
            lines.push(`allocated per change, median of ${grew.length} (KiB): validate ${kb(0)}, sqlite ${kb(1)}, index ${kb(2)}, compile ${kb(3)}, push to settled ${kb(4)}`);
          }
          return lines;
        },
        stop() {
          offFirst();
          offLast?.();
          unwatch();
          obs.disconnect();
          store.commit = commit;
        },
      };
    },
  };
}
