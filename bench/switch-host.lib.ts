/**
 * Many softswitches in a few processes, for control-plane benchmarks (bench/endpoint-install.ts,
 * bench/thousand-switches.ts): each worker is a child process running the same bundle with
 * OVERCAST_SWITCH_HOST=1 and hosting its share of the switches, each a real SoftSwitch with its own
 * native channel (TCP) to the controller. The switches have no data ports (the benchmarks measure the
 * control path; flows may output to ports a switch does not have, which it accepts).
 *
 * Parent: `startSwitchHosts(...)`. Child: a benchmark calls `runSwitchHostIfChild()` first thing and
 * stops there when it returns true.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { createSoftSwitch, type SoftSwitch } from '../src/switch/index.js';

export interface HostedSwitch {
  dpid: number;
}

type ToChild = { type: 'start'; controllerPort: number; switches: HostedSwitch[] } | { type: 'stats'; id: number } | { type: 'stop' };
type ToParent = { type: 'ready' } | { type: 'stats'; id: number; stats: SwitchFlowCount[]; cpuSec: number } | { type: 'stopped' };

export interface SwitchFlowCount {
  dpid: number;
  flows: number;
  groups: number;
  connected: boolean;
}

export interface SwitchHosts {
  readonly workers: number;
  /** Every hosted switch's flow and group counts. */
  stats(): Promise<SwitchFlowCount[]>;
  /**
   * The CPU time (user + system, s) the workers had used when `stats` last answered, summed: on a
   * shared machine the wall time of a first sync says more about the other tenants than about us.
   */
  cpuSec(): number;
  /** The workers' resident memory now (MB), summed. */
  rssMb(): number;
  stop(): Promise<void>;
}

const ENV_FLAG = 'OVERCAST_SWITCH_HOST';
const MAGLEV_SIZE = 4099;

/** In a worker: host the switches the parent sends; returns true (the caller must not go on). */
export function runSwitchHostIfChild(): boolean {
  if (process.env[ENV_FLAG] !== '1') return false;
  const logger = pino({ level: 'silent' });
  let switches: SoftSwitch[] = [];
  const send = (m: ToParent) => process.send?.(m);
  process.on('message', (m: ToChild) => {
    void (async () => {
      if (m.type === 'start') {
        switches = m.switches.map((s) =>
          createSoftSwitch(
            // Maglev M = 4099 (8 KiB per select group): the workloads' pools hold 4 backends, and a
            // leaf holds up to one group per VPC (docs/load-balancing.md: keep M above ~100x the pool).
            { dpid: s.dpid, controller: { host: '127.0.0.1', port: m.controllerPort }, ports: [], backoff: { initialMs: 100, maxMs: 1000 }, maglevSize: MAGLEV_SIZE },
            { logger },
          ),
        );
        await Promise.all(switches.map((s) => s.start()));
        send({ type: 'ready' });
      } else if (m.type === 'stats') {
        const stats = switches.map((s) => {
          const st = s.stats();
          return { dpid: st.dpid, flows: st.flows, groups: st.groups, connected: st.channel?.connected ?? false };
        });
        const cpu = process.cpuUsage();
        send({ type: 'stats', id: m.id, stats, cpuSec: (cpu.user + cpu.system) / 1e6 });
      } else {
        await Promise.all(switches.map((s) => s.stop()));
        send({ type: 'stopped' });
        process.exit(0);
      }
    })();
  });
  return true;
}

/** Starts `workers` child processes of this script hosting `switches` between them, all dialling the controller. */
export async function startSwitchHosts(o: { workers: number; switches: HostedSwitch[]; controllerPort: number; heapMb?: number }): Promise<SwitchHosts> {
  const script = process.argv[1];
  const children: ChildProcess[] = [];
  const share = Math.ceil(o.switches.length / o.workers);
  let nextId = 1;
  const pending = new Map<number, (s: SwitchFlowCount[]) => void>();
  const cpu = new Map<ChildProcess, number>();
  const ready: Promise<void>[] = [];
  for (let w = 0; w < o.workers; w++) {
    const mine = o.switches.slice(w * share, (w + 1) * share);
    if (mine.length === 0) break;
    const child = fork(script, [], {
      env: { ...process.env, [ENV_FLAG]: '1' },
      execArgv: ['--expose-gc', ...(o.heapMb ? [`--max-old-space-size=${o.heapMb}`] : [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    ready.push(
      new Promise((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`switch host ${w} exited (${code})`)));
        child.on('message', (m: ToParent) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'stats') {
            cpu.set(child, m.cpuSec);
            pending.get(m.id)?.(m.stats);
          }
        });
      }),
    );
    child.send({ type: 'start', controllerPort: o.controllerPort, switches: mine } satisfies ToChild);
  }
  await Promise.all(ready);
  return {
    workers: children.length,
    async stats() {
      const parts = await Promise.all(
        children.map(
          (child) =>
            new Promise<SwitchFlowCount[]>((resolve) => {
              const id = nextId++;
              pending.set(id, (s) => {
                pending.delete(id);
                resolve(s);
              });
              child.send({ type: 'stats', id } satisfies ToChild);
            }),
        ),
      );
      return parts.flat();
    },
    cpuSec: () => [...cpu.values()].reduce((a, b) => a + b, 0),
    rssMb: () => children.reduce((sum, child) => sum + (child.pid === undefined ? 0 : readRssMb(child.pid)), 0),
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              child.removeAllListeners('exit');
              child.once('exit', () => resolve());
              child.send({ type: 'stop' } satisfies ToChild);
            }),
        ),
      );
    },
  };
}

/** A process's resident set from /proc (Linux), in MB; 0 elsewhere. */
function readRssMb(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}
