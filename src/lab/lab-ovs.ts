/**
 * Open vSwitch for `overcast lab --switches ovs` and the tests. Two parts: startOvs, a private Open
 * vSwitch, and startOvsLab, a topology on it (one bridge per switch, links, UDP hosts).
 *
 * A private Open vSwitch: ovsdb-server + ovs-vswitchd (userspace, dummy datapath and
 * ports, no kernel module) in a temporary directory, driven through OVS_RUNDIR & co so it never touches
 * a system instance. Works as root. stop() kills both daemons and removes the directory; an exit hook
 * does the same if the process ends first.
 *
 *   const ovs = await startOvs();
 *   await ovs.addBridge('br0', { ports: 3, datapathId: 0xabcn, controller: 'tcp:127.0.0.1:6653' });
 *   console.log(await ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br0'));
 *   await ovs.stop();
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import type { Topology } from '../model/index.js';
import type { SocketAddress } from '../net/index.js';
import { startFrameRelay, type FrameRelay } from './ovs-frame-relay.js';
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

export interface DummyPort {
  name: string;
  /** OpenFlow port number (ofport_request). */
  number: number;
  /** Interface options, e.g. { pstream: 'punix:/run/x.sock' } or { stream: 'unix:/run/x.sock' }. */
  options?: Record<string, string>;
}

export interface BridgeOptions {
  /** Dummy ports p1..pN (numbers 1..N), names (numbered in order from 1), or explicit ports. */
  ports?: number | string[] | DummyPort[];
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
  /**
   * An ovs-appctl command over one persistent unixctl connection (JSON-RPC): no process per call, so
   * thousands of `ofproto/trace` calls take seconds, not minutes.
   */
  unixctl(method: string, ...params: string[]): Promise<string>;
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

/** Ports of a bridge in the explicit form. */
export function dummyPorts(ports: BridgeOptions['ports']): DummyPort[] {
  if (ports === undefined) return [];
  if (typeof ports === 'number') return Array.from({ length: ports }, (_, i) => ({ name: `p${i + 1}`, number: i + 1 }));
  return ports.map((p, i) => (typeof p === 'string' ? { name: p, number: i + 1 } : p));
}

/** `ovs-vsctl` arguments that create a bridge and its dummy ports in one transaction. */
export function addBridgeArgs(name: string, o: BridgeOptions = {}): string[] {
  const args = [
    '--', 'add-br', name,
    '--', 'set', 'bridge', name, 'datapath_type=dummy', `fail-mode=${o.failMode ?? 'secure'}`, `protocols=${o.protocols ?? 'OpenFlow13'}`,
  ];
  if (o.datapathId !== undefined) args.push(`other-config:datapath-id=${o.datapathId.toString(16).padStart(16, '0')}`);
  for (const p of dummyPorts(o.ports)) {
    args.push('--', 'add-port', name, p.name, '--', 'set', 'interface', p.name, 'type=dummy', `ofport_request=${p.number}`);
    for (const [k, v] of Object.entries(p.options ?? {})) args.push(`options:${k}=${v}`);
  }
  if (o.controller) args.push('--', 'set-controller', name, ...o.controller.split(' '));
  return args;
}

/** A JSON-RPC client for ovs-vswitchd's unixctl socket, one request at a time. */
function unixctlClient(socketPath: () => string) {
  let sock: net.Socket | undefined;
  let buf = '';
  let nextId = 1;
  let chain: Promise<unknown> = Promise.resolve();
  let waiter: ((line: string) => void) | undefined;

  const connect = () =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection(socketPath());
      s.setEncoding('utf8');
      s.once('connect', () => resolve(s));
      s.once('error', reject);
      s.on('data', (d: string) => {
        buf += d;
        // Replies are single JSON objects; OVS writes each whole, so try to parse what has arrived.
        try {
          JSON.parse(buf);
        } catch {
          return;
        }
        const done = buf;
        buf = '';
        waiter?.(done);
      });
      s.on('close', () => {
        sock = undefined;
      });
    });

  const call = async (method: string, params: string[]): Promise<string> => {
    sock ??= await connect();
    const s = sock;
    const id = nextId++;
    const reply = await new Promise<string>((resolve) => {
      waiter = resolve;
      s.write(JSON.stringify({ method, params, id }));
    });
    const r = JSON.parse(reply) as { result: string | null; error: string | null; id: number };
    if (r.error !== null) throw new Error(`${method}: ${r.error}`);
    return r.result ?? '';
  };

  return {
    call(method: string, params: string[]): Promise<string> {
      const p = chain.then(() => call(method, params));
      chain = p.catch(() => undefined);
      return p;
    },
    close() {
      sock?.destroy();
      sock = undefined;
    },
  };
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
  const ctl = unixctlClient(() => join(dir, `ovs-vswitchd.${readFileSync(join(dir, 'ovs-vswitchd.pid'), 'utf8').trim()}.ctl`));

  const killAllNow = () => {
    for (const c of children) killChild(c, 'SIGKILL');
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAllNow);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    ctl.close();
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
    const { stdout } = await run(cmd, args, { env, maxBuffer: 256 * 1024 * 1024 });
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
    daemon('ovsdb-server', [db, `--remote=punix:${dbSock}`, '--pidfile', `--log-file=${join(dir, 'ovsdb-server.log')}`, '--no-chdir']);
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
    unixctl: (method, ...params) => ctl.call(method, params),
    mgmtSocket,
    async addBridge(name, o = {}) {
      await vsctl(...addBridgeArgs(name, o));
      await waitFor(() => existsSync(mgmtSocket(name)), `${name}.mgmt`);
    },
    stop,
  };
}

export interface OvsLabOptions {
  topology: Topology;
  /** The controller's OpenFlow address, e.g. 'tcp:127.0.0.1:6653' or 'ssl:127.0.0.1:6653'. */
  controller: string;
  /** For `ssl:` targets: the instance's certificate (listing every bridge's dpid), its key and the CA (`ovs-vsctl set-ssl`). */
  ssl?: { key: string; cert: string; ca: string };
  /**
   * UDP hosts: for each host, where the relay listens (the address the host sends to; port 0 for any
   * free port, then read relays.get(host).address()) and the host's own data address if known yet
   * (else relays.get(host).setPeer once it is). Hosts not listed get no relay.
   */
  hostRelays?: { host: string; bind: SocketAddress; peer?: SocketAddress }[];
  /** Longest wait between reconnect attempts to the controller (OVS default 8000). */
  controllerMaxBackoffMs?: number;
  ovs?: StartOvsOptions;
  /** Reuse a running instance instead of starting one (stop() then leaves it running). */
  instance?: OvsInstance;
}

export interface OvsLab {
  ovs: OvsInstance;
  /** Bridge name of a topology switch (the switch's name). */
  bridge(switchName: string): string;
  /** Interface name of a switch port: `<switch>-p<number>` (OVS interface names are global). */
  portName(switchName: string, port: number): string;
  relays: Map<string, FrameRelay>;
  /**
   * A frame relay on a bridge port after the start (a VPC endpoint's host, say): the dummy port is
   * given a unix stream and the relay receives on `bind`. Kept in `relays` under `switch:port`.
   */
  attachRelay(switchName: string, port: number, bind: SocketAddress): Promise<FrameRelay>;
  stop(): Promise<void>;
}

export function ovsPortName(switchName: string, port: number): string {
  return `${switchName}-p${port}`;
}

/**
 * Bridges for every switch of `topology` (datapath id = dpid, fail_mode=secure, OpenFlow 1.3, the
 * given controller), dummy ports numbered as in the topology, links as netdev-dummy unix streams
 * (one end listens with pstream, the other connects with stream), and a frame relay per listed host.
 */
export async function startOvsLab(o: OvsLabOptions): Promise<OvsLab> {
  const ovs = o.instance ?? (await startOvs(o.ovs));
  const relays = new Map<string, FrameRelay>();
  try {
    const portOptions = new Map<string, Record<string, string>>();
    o.topology.links.forEach((l, i) => {
      const sock = join(ovs.dir, `link${i}.sock`);
      portOptions.set(`${l.a.switch}:${l.a.port}`, { pstream: `punix:${sock}` });
      portOptions.set(`${l.b.switch}:${l.b.port}`, { stream: `unix:${sock}` });
    });
    const hostSock = (host: string) => join(ovs.dir, `host-${host}.sock`);
    for (const r of o.hostRelays ?? []) {
      const h = o.topology.hosts.find((x) => x.name === r.host);
      if (!h) throw new Error(`no host ${r.host} in the topology`);
      portOptions.set(`${h.attach.switch}:${h.attach.port}`, { pstream: `punix:${hostSock(h.name)}` });
    }
    const args: string[] = [];
    for (const sw of o.topology.switches) {
      args.push(
        ...addBridgeArgs(sw.name, {
          datapathId: BigInt(sw.dpid),
          controller: o.controller,
          ports: sw.ports.map((p) => ({
            name: ovsPortName(sw.name, p.number),
            number: p.number,
            ...(portOptions.has(`${sw.name}:${p.number}`) ? { options: portOptions.get(`${sw.name}:${p.number}`) } : {}),
          })),
        }),
      );
    }
    if (o.ssl) await ovs.vsctl('set-ssl', o.ssl.key, o.ssl.cert, o.ssl.ca);
    // One transaction for the whole topology: OVS reconfigures once.
    await ovs.vsctl(...args);
    if (o.controllerMaxBackoffMs !== undefined) {
      const uuids = (await ovs.vsctl('--columns=_uuid', '--bare', 'list', 'controller')).split(/\s+/).filter(Boolean);
      for (const u of uuids) await ovs.vsctl('set', 'controller', u, `max_backoff=${o.controllerMaxBackoffMs}`);
    }
    for (const sw of o.topology.switches) await waitFor(() => existsSync(ovs.mgmtSocket(sw.name)), `${sw.name}.mgmt`);
    for (const r of o.hostRelays ?? []) {
      const relay = await startFrameRelay({ unixPath: hostSock(r.host), bind: r.bind, ...(r.peer ? { peer: r.peer } : {}) });
      relays.set(r.host, relay);
    }
    await Promise.all([...relays.values()].map((r) => r.ready()));
  } catch (e) {
    await Promise.all([...relays.values()].map((r) => r.close()));
    if (!o.instance) await ovs.stop();
    throw e;
  }
  return {
    ovs,
    bridge: (name) => name,
    portName: ovsPortName,
    relays,
    async attachRelay(switchName, port, bind) {
      const key = `${switchName}:${port}`;
      const known = relays.get(key);
      if (known) return known;
      const sock = join(ovs.dir, `port-${switchName}-${port}.sock`);
      await ovs.vsctl('set', 'interface', ovsPortName(switchName, port), `options:pstream=punix:${sock}`);
      await waitFor(() => existsSync(sock), `${key}'s unix stream`);
      const relay = await startFrameRelay({ unixPath: sock, bind });
      relays.set(key, relay);
      await relay.ready();
      return relay;
    },
    async stop() {
      await Promise.all([...relays.values()].map((r) => r.close()));
      if (!o.instance) await ovs.stop();
      else for (const sw of o.topology.switches) await ovs.vsctl('--if-exists', 'del-br', sw.name);
    },
  };
}
