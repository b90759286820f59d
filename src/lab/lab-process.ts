/**
 * One `overcast` process of a lab: spawned with its log in the run directory and an IPC channel, over
 * which it reports the ports it bound (src/lab/child-channel.ts) and takes its peers. Every wait here
 * also watches the process: one that exits first fails the wait at once with the end of its log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SocketAddress } from '../net/index.js';
import type { ChildMessage, ReadyReport, SetPeersCommand } from './child-channel.js';

/** bin/overcast.js, found upwards from this module (it runs from src/lab in tests, from dist/ when bundled). */
function findBin(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'bin', 'overcast.js');
    if (fs.existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find bin/overcast.js above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const OVERCAST_BIN = findBin();

/** How many lines of a process's log an error about it quotes. */
const LOG_TAIL_LINES = 8;

export interface LabProcess {
  readonly name: string;
  /** The `overcast` arguments of its next start. */
  args: string[];
  /** Environment variables beside the lab's own (secrets go here, never in args, which `ps` shows). */
  env?: Record<string, string>;
  child?: ChildProcess;
}

export function logFile(runDir: string, name: string): string {
  return path.join(runDir, `${name}.log`);
}

/** The last lines of a process's log (empty when it wrote none). */
export function logTail(runDir: string, name: string, lines = LOG_TAIL_LINES): string {
  try {
    return fs.readFileSync(logFile(runDir, name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function exitedError(p: LabProcess, child: ChildProcess, runDir: string): Error {
  const how = child.signalCode !== null ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
  const tail = logTail(runDir, p.name);
  return new Error(`${p.name} exited (${how}); log ${logFile(runDir, p.name)}${tail ? `:\n${tail}` : ' is empty'}`);
}

/** An Error for a process that has exited on its own, or undefined while it runs (or was stopped). */
export function exitedOnItsOwn(p: LabProcess, runDir: string): Error | undefined {
  const child = p.child;
  return child && (child.exitCode !== null || child.signalCode !== null) ? exitedError(p, child, runDir) : undefined;
}

export function spawnOvercast(p: LabProcess, runDir: string): ChildProcess {
  const log = fs.openSync(logFile(runDir, p.name), 'a');
  const child = spawn(process.execPath, [OVERCAST_BIN, ...p.args], { stdio: ['ignore', log, log, 'ipc'], env: { ...process.env, ...p.env } });
  fs.closeSync(log);
  // A process that dies takes its channel with it; the wait that watched it reports that.
  child.on('error', () => undefined);
  p.child = child;
  return child;
}

/** The first message from the process that `pick` accepts; fails when it exits first or after timeoutMs. */
function waitMessage<T>(p: LabProcess, runDir: string, what: string, timeoutMs: number, pick: (m: ChildMessage) => T | undefined): Promise<T> {
  const child = p.child;
  if (!child) return Promise.reject(new Error(`${p.name} is not running`));
  const exited = exitedOnItsOwn(p, runDir);
  if (exited) return Promise.reject(exited);
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: ChildMessage) => {
      const v = pick(m);
      if (v === undefined) return;
      done();
      resolve(v);
    };
    const onExit = () => {
      done();
      reject(exitedError(p, child, runDir));
    };
    const timer = setTimeout(() => {
      done();
      const tail = logTail(runDir, p.name);
      reject(new Error(`${p.name}: no ${what} after ${timeoutMs} ms; log ${logFile(runDir, p.name)}${tail ? `:\n${tail}` : ' is empty'}`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Spawns the process and resolves with the ports it reports once it listens. */
export async function startProcess<K extends ReadyReport['kind']>(
  p: LabProcess,
  kind: K,
  runDir: string,
  timeoutMs: number,
): Promise<Extract<ReadyReport, { kind: K }>> {
  spawnOvercast(p, runDir);
  return waitMessage(p, runDir, 'ready report', timeoutMs, (m) =>
    m.type === 'ready' && m.report.kind === kind ? (m.report as Extract<ReadyReport, { kind: K }>) : undefined,
  );
}

/** Tells a switch where its ports send; resolves once it has applied them. */
export async function setPeers(p: LabProcess, peers: { number: number; peer: SocketAddress }[], runDir: string, timeoutMs: number): Promise<void> {
  if (peers.length === 0) return;
  const acked = waitMessage(p, runDir, 'peersSet acknowledgement', timeoutMs, (m) => (m.type === 'peersSet' ? true : undefined));
  p.child?.send({ type: 'setPeers', peers } satisfies SetPeersCommand);
  await acked;
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the process is gone. */
export async function stopProcess(p: LabProcess): Promise<void> {
  const child = p.child;
  p.child = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
