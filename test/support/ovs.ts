/**
 * A private Open vSwitch for tests and labs: ovsdb-server + ovs-vswitchd (userspace, dummy datapath and
 * ports, no kernel module) in a temporary directory, driven through OVS_RUNDIR & co so it never touches
 * a system instance. Works as root. stop() kills both daemons and removes the directory; an exit hook
 * does the same if the test process ends first.
 *
 *   const ovs = await startOvs();
 *   await ovs.addBridge('br0', { ports: 3, datapathId: 0xabcn, controller: 'tcp:127.0.0.1:6653' });
 *   console.log(await ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br0'));
 *   await ovs.stop();
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/** Are the Open vSwitch binaries installed (apt: openvswitch-switch)? */
export function ovsAvailable(): boolean {
  try {
    execFileSync('ovs-vswitchd', ['--version'], { stdio: 'ignore' });
    execFileSync('ovs-ofctl', ['--version'], { stdio: 'ignore' });
    return existsSync(OVS_SCHEMA);
  } catch {
    return false;
  }
}

export interface BridgeOptions {
  /** Dummy ports p1..pN (OpenFlow port numbers 1..N), or explicit names (numbered in order from 1). */
  ports?: number | string[];
  /** 64-bit datapath id; default chosen by OVS from the bridge MAC. */
  datapathId?: bigint;
  /** e.g. 'tcp:127.0.0.1:6653'; several separated by spaces. */
  controller?: string;
  /** Default 'secure': no NORMAL fallback, flows stay when the controller drops. */
  failMode?: 'secure' | 'standalone';
  /** Default 'OpenFlow13'. */
  protocols?: string;
}

export interface OvsInstance {
  /** The private directory (run, db, log and sysconf dir). */
  readonly dir: string;
  /** Environment that points OVS tools at this instance. */
  readonly env: NodeJS.ProcessEnv;
  vsctl(...args: string[]): Promise<string>;
  ofctl(...args: string[]): Promise<string>;
  appctl(...args: string[]): Promise<string>;
  addBridge(name: string, options?: BridgeOptions): Promise<void>;
  /** The bridge's management socket (`ovs-ofctl` target, and a place to connect as a controller). */
  mgmtSocket(bridge: string): string;
  /** Kill both daemons and remove the directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOvsOptions {
  /** Parent of the private directory (default os.tmpdir()); keep it short: unix socket paths max ~107 bytes. */
  parentDir?: string;
  /** Keep the directory on stop (to read logs). */
  keepDir?: boolean;
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function killChild(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    try {
      process.kill(child.pid, signal);
    } catch {
      // already gone
    }
  }
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

export async function startOvs(options: StartOvsOptions = {}): Promise<OvsInstance> {
  const dir = mkdtempSync(join(options.parentDir ?? tmpdir(), 'ovs-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OVS_RUNDIR: dir,
    OVS_DBDIR: dir,
    OVS_LOGDIR: dir,
    OVS_SYSCONFDIR: dir,
  };
  const db = join(dir, 'conf.db');
  const dbSock = join(dir, 'db.sock');
  const children: ChildProcess[] = [];
  let stopped = false;

  const killAllNow = () => {
    for (const c of children) killChild(c, 'SIGKILL');
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAllNow);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killAllNow);
    // vswitchd first, so it does not spin reconnecting to a dead database.
    for (const c of [...children].reverse()) {
      killChild(c, 'SIGTERM');
      if (!(await exited(c, 3000))) {
        killChild(c, 'SIGKILL');
        await exited(c, 3000);
      }
    }
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  };

  const tool = async (cmd: string, args: string[]): Promise<string> => {
    const { stdout } = await run(cmd, args, { env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  };
  const vsctl = (...args: string[]) => tool('ovs-vsctl', [`--db=unix:${dbSock}`, '--timeout=20', ...args]);

  const daemon = (cmd: string, args: string[]) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code, signal) => {
      if (!stopped) process.stderr.write(`[ovs] ${cmd} exited early (code ${code}, signal ${signal}): ${stderr}\n`);
    });
    children.push(child);
    return child;
  };

  try {
    await tool('ovsdb-tool', ['create', db, OVS_SCHEMA]);
    daemon('ovsdb-server', [
      db,
      `--remote=punix:${dbSock}`,
      '--pidfile',
      `--log-file=${join(dir, 'ovsdb-server.log')}`,
      '--no-chdir',
    ]);
    await waitFor(() => existsSync(dbSock), 'ovsdb-server socket');
    await vsctl('--no-wait', 'init');
    daemon('ovs-vswitchd', [
      `unix:${dbSock}`,
      '--enable-dummy=override',
      '--disable-system',
      '--pidfile',
      `--log-file=${join(dir, 'ovs-vswitchd.log')}`,
      '--no-chdir',
    ]);
    await waitFor(() => existsSync(join(dir, 'ovs-vswitchd.pid')), 'ovs-vswitchd pidfile');
  } catch (e) {
    await stop();
    throw e;
  }

  const mgmtSocket = (bridge: string) => join(dir, `${bridge}.mgmt`);

  return {
    dir,
    env,
    vsctl,
    ofctl: (...args) => tool('ovs-ofctl', args),
    appctl: (...args) => tool('ovs-appctl', args),
    mgmtSocket,
    async addBridge(name, o = {}) {
      const ports = typeof o.ports === 'number' ? Array.from({ length: o.ports }, (_, i) => `p${i + 1}`) : (o.ports ?? []);
      const args = [
        'add-br', name,
        '--', 'set', 'bridge', name, 'datapath_type=dummy', `fail-mode=${o.failMode ?? 'secure'}`, `protocols=${o.protocols ?? 'OpenFlow13'}`,
      ];
      if (o.datapathId !== undefined) args.push(`other-config:datapath-id=${o.datapathId.toString(16).padStart(16, '0')}`);
      ports.forEach((p, i) => {
        args.push('--', 'add-port', name, p, '--', 'set', 'interface', p, 'type=dummy', `ofport_request=${i + 1}`);
      });
      await vsctl(...args);
      if (o.controller) await vsctl('set-controller', name, ...o.controller.split(' '));
      await waitFor(() => existsSync(mgmtSocket(name)), `${name}.mgmt`);
    },
    stop,
  };
}
