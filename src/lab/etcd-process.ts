/**
 * A private etcd (Debian's `etcd-server`, binary `etcd`) for a lab or a test: one member or several,
 * on loopback ports, its data and logs in a directory of the caller's. etcd cannot report a port it
 * bound to 0, so free ports are found by binding port 0 and closing it; a member that then loses the
 * port (another process took it first) is started again on new ports. Readiness is etcd's own
 * `/health` answering `"health":"true"`, never a pause.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ETCD_BIN = process.env.OVERCAST_ETCD_BIN ?? 'etcd';
/** How long a member may take to answer healthy. */
export const ETCD_START_TIMEOUT_MS = 20_000;
/** Pause between two health checks while etcd starts. */
const HEALTH_POLL_MS = 50;
/** Starts tried when a port found free was taken before etcd bound it. */
const PORT_RACE_ATTEMPTS = 4;

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  child?: ChildProcess;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** `127.0.0.1:PORT` of every member, for `--store etcd://...`. */
  readonly endpoints: readonly string[];
  /** `etcd://127.0.0.1:P1,127.0.0.1:P2...`. */
  readonly url: string;
  /** Kills one member (SIGKILL). */
  kill(name: string): void;
  /** Starts a killed member again on its ports and data; resolves once it answers healthy. */
  restart(name: string): Promise<void>;
  /** Stops every member. */
  stop(): Promise<void>;
}

export interface EtcdOptions {
  /** Where each member's data dir and log go. */
  dir: string;
  /** Members (default 1). */
  members?: number;
  startTimeoutMs?: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function argsOf(m: EtcdMember, all: readonly EtcdMember[], state: 'new' | 'existing'): string[] {
  return [
    '--name', m.name,
    '--data-dir', m.dataDir,
    '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`,
    '--advertise-client-urls', `http://127.0.0.1:${m.clientPort}`,
    '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
    '--initial-cluster', all.map((x) => `${x.name}=http://127.0.0.1:${x.peerPort}`).join(','),
    '--initial-cluster-state', state,
    '--initial-cluster-token', `overcast-${path.basename(path.dirname(m.dataDir))}`,
    // A lab's etcd: small and quick to elect.
    '--heartbeat-interval', '100',
    '--election-timeout', '1000',
    '--quota-backend-bytes', String(512 * 1024 * 1024),
    '--auto-compaction-retention', '1000',
    '--auto-compaction-mode', 'revision',
    '--log-level', 'warn',
    '--logger', 'zap',
  ];
}

function spawnMember(m: EtcdMember, all: readonly EtcdMember[], state: 'new' | 'existing'): ChildProcess {
  fs.mkdirSync(path.dirname(m.logFile), { recursive: true });
  const log = fs.openSync(m.logFile, 'a');
  const child = spawn(ETCD_BIN, argsOf(m, all, state), { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child.on('error', () => undefined);
  m.child = child;
  return child;
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-6).join('\n');
  } catch {
    return '';
  }
}

async function healthy(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await r.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

/** Resolves once every member answers healthy; rejects with the log's end when one exits first. */
async function waitHealthy(members: readonly EtcdMember[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const m of members) {
      const c = m.child;
      if (c && (c.exitCode !== null || c.signalCode !== null)) throw new EtcdExited(m, tail(m.logFile));
    }
    const all = await Promise.all(members.map((m) => healthy(m.clientPort)));
    if (all.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`etcd did not answer healthy within ${timeoutMs} ms; logs in ${path.dirname(members[0].logFile)}`);
    await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
  }
}

class EtcdExited extends Error {
  constructor(
    readonly member: EtcdMember,
    readonly logTail: string,
  ) {
    super(`etcd member ${member.name} exited; log ${member.logFile}${logTail ? `:\n${logTail}` : ''}`);
  }
}

async function stopChild(c: ChildProcess | undefined): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(t);
}

/** Starts the members and resolves once each answers healthy. */
export async function startEtcd(options: EtcdOptions): Promise<EtcdCluster> {
  const n = options.members ?? 1;
  const timeoutMs = options.startTimeoutMs ?? ETCD_START_TIMEOUT_MS;
  let members: EtcdMember[] = [];
  for (let attempt = 1; ; attempt++) {
    members = [];
    for (let i = 0; i < n; i++) {
      const name = `etcd${i + 1}`;
      const dataDir = path.join(options.dir, name);
      fs.rmSync(dataDir, { recursive: true, force: true });
      members.push({ name, clientPort: await freePort(), peerPort: await freePort(), dataDir, logFile: path.join(options.dir, `${name}.log`) });
    }
    for (const m of members) spawnMember(m, members, 'new');
    try {
      await waitHealthy(members, timeoutMs);
      break;
    } catch (e) {
      await Promise.all(members.map((m) => stopChild(m.child)));
      const raced = e instanceof EtcdExited && /address already in use/.test(e.logTail);
      if (!raced || attempt >= PORT_RACE_ATTEMPTS) throw e;
    }
  }
  const endpoints = members.map((m) => `127.0.0.1:${m.clientPort}`);
  const byName = (name: string): EtcdMember => {
    const m = members.find((x) => x.name === name);
    if (!m) throw new Error(`no etcd member ${name}`);
    return m;
  };
  return {
    members,
    endpoints,
    url: `etcd://${endpoints.join(',')}`,
    kill(name) {
      byName(name).child?.kill('SIGKILL');
    },
    async restart(name) {
      const m = byName(name);
      await stopChild(m.child);
      spawnMember(m, members, 'existing');
      await waitHealthy([m], timeoutMs);
    },
    async stop() {
      await Promise.all(members.map((m) => stopChild(m.child)));
    },
  };
}
