/**
 * `overcast lab`: brings a topology up as real processes on 127.0.0.1 — the controller, one softswitch
 * per switch, one test host per host — the layout of docker/compose.yaml, and tears it down. Also the
 * harness of the end-to-end tests (startLab returns a handle that can kill and restart parts).
 *
 * No port is chosen ahead: each process binds port 0 and reports the ports it got (the controller
 * first, then the switches, then the hosts, each sending to what the one before reported); then the
 * lab tells every switch port its peer. A restarted process binds the ports it had. A process that
 * exits while the lab waits for it fails startLab at once with the end of its log.
 *
 * The lab mints an admin API token, hands it to the controller in its environment (the controller
 * registers it as its bootstrap token) and writes it to `<run dir>/token` (mode 0600) for scripts; the
 * lab's own REST calls send it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTopology, type Topology } from '../model/index.js';
import { formatIpv4, formatMac, type SocketAddress } from '../net/index.js';
import { BOOTSTRAP_TOKEN_ENV, mintTokenText } from '../controller/auth/index.js';
import { startOvsLab, type OvsLab } from './lab-ovs.js';
import type { AttachHostRequest, HostAttachedReply, HostAttachSpec } from './child-channel.js';
import { planLab, switchPortArg, formatUdp, type AttachedHostPlan, type LabPlan } from './lab-plan.js';
import { writeLabPki, type LabPki, type TlsFiles } from './pki/lab-pki.js';
import { exitedOnItsOwn, setPeers, startProcess, stopProcess, type LabProcess } from './lab-process.js';
import { startEtcd, type EtcdCluster } from './etcd-process.js';
import { controllerNames, clusterSynced, DEFAULT_LAB_LEASE_TTL_S, type SwitchStatusRow } from './lab-cluster.js';

export interface LabOptions {
  topologyFile: string;
  /** The REST API's port (default: any free port; read apiUrl). */
  apiPort?: number;
  /** Where plan.json and every process's log go; a fresh temp dir by default. */
  runDir?: string;
  logLevel?: string;
  /** How long to wait for every switch to connect and sync. */
  readyTimeoutMs?: number;
  /** How long one process may take to start and report its ports (default 60 s; one that exits fails at once). */
  startTimeoutMs?: number;
  /** 'soft' (default): one `overcast switch` process per switch; 'ovs': Open vSwitch bridges (root). */
  switches?: 'soft' | 'ovs';
  /** The controller's intent store (default: <runDir>/data, so a lab restart of the controller keeps intent). */
  dataDir?: string;
  /** Extra arguments for every `overcast switch` (e.g. a classifier choice). */
  switchArgs?: string[];
  /** Extra arguments for `overcast controller` (e.g. `--stats-interval-ms 500`). */
  controllerArgs?: string[];
  /** Told what the lab is starting and how far it is (`overcast lab up` draws it). */
  onProgress?(p: LabProgress): void;
  /**
   * Controllers (default 1). Several make a cluster: a private etcd in `<runDir>/etcd` holds the
   * intent, and every switch connects to every controller (docs/cluster.md).
   */
  controllers?: number;
  /** Members of the cluster's etcd (default 1). */
  etcdMembers?: number;
  /** A cluster member's lease in seconds (its switches fail over this long after it dies; default 3). */
  leaseTtlS?: number;
  /**
   * Plain TCP switch channels (development only). By default the lab makes a private CA and a
   * certificate per switch in `<runDir>/pki` and every channel runs mutual TLS.
   */
  insecureTcp?: boolean;
}

/** One step of a lab's start: `done` of `total` in a phase, in this order. */
export interface LabProgress {
  phase: 'controller' | 'switches' | 'hosts' | 'wiring' | 'sync';
  done: number;
  total: number;
  /** What just finished (a switch's name...). */
  detail?: string;
}

/** A test host to start on a softswitch port (an endpoint's data plane). */
export type AttachedHostSpec = HostAttachSpec;

/** Where an Open vSwitch lab's private instance lives, so `ovs-vsctl` / `ovs-ofctl` can be pointed at it. */
export interface OvsLocation {
  /** OVS_RUNDIR, OVS_DBDIR, OVS_LOGDIR and OVS_SYSCONFDIR all name this directory. */
  dir: string;
  env: Record<string, string>;
  /** The bridge of a switch's management socket (`ovs-ofctl ... unix:<socket>`). */
  mgmtSocket(switchName: string): string;
}

export interface LabHandle {
  /**
   * Every address as the processes reported it. On Open vSwitch bridges only host ports have a UDP
   * address (their frame relay); the others show port 0.
   */
  plan: LabPlan;
  topology: Topology;
  apiUrl: string;
  /** An admin token for the REST API (Authorization: Bearer <token>). */
  token: string;
  /** `<runDir>/token`: the same token, for scripts. */
  tokenFile: string;
  runDir: string;
  /** Set on Open vSwitch labs. */
  ovs?: OvsLocation;
  /** The lab's certificates (absent with insecureTcp). */
  pki: LabPki | undefined;
  /** Base URL of a host's control API (lab hosts and attached endpoint hosts). */
  hostUrl(name: string): string;
  /**
   * Start a test host process on a free port of a softswitch (an endpoint's data plane: a function
   * instance or container created over REST). Resolves with its control URL once it listens and the
   * switch port sends to it.
   */
  attachHost(spec: AttachedHostSpec): Promise<string>;
  /** Stop a host started with attachHost. */
  detachHost(name: string): Promise<void>;
  killSwitch(name: string): Promise<void>;
  /** Start a killed switch again on the same ports; resolves once it listens. */
  startSwitch(name: string): Promise<void>;
  /** Every controller (the first is `controller`, whose REST URL is apiUrl). */
  controllers: { name: string; apiUrl: string }[];
  /** The cluster's etcd (labs with several controllers). */
  etcd?: EtcdCluster;
  /** Stop a controller (default the first). */
  stopController(name?: string): Promise<void>;
  /** Kill a controller with SIGKILL, as a crash would. */
  killController(name: string): Promise<void>;
  /** Start a stopped controller again on the same ports; resolves once it listens. */
  startController(name?: string): Promise<void>;
  waitReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const DEFAULT_START_TIMEOUT_MS = 60_000;

async function getJson(url: string, token?: string): Promise<unknown> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

const portKey = (sw: string, port: number) => `${sw}:${port}`;
const loopback = (port: number): SocketAddress => ({ host: LOOPBACK, port });

/**
 * Waits for every start to settle, then rejects with the first failure: a start still running when
 * another fails would otherwise leave its process behind after the lab's stop.
 */
async function settleAll(starts: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(starts)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function startLab(o: LabOptions): Promise<LabHandle> {
  const topology = parseTopology(fs.readFileSync(o.topologyFile, 'utf8'), o.topologyFile);
  const runDir = o.runDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `overcast-lab-${topology.name}-`));
  fs.mkdirSync(runDir, { recursive: true });
  const startTimeoutMs = o.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const useOvs = o.switches === 'ovs';
  const dataDir = o.dataDir ?? path.join(runDir, 'data');
  const planFile = path.join(runDir, 'plan.json');
  const token = mintTokenText();
  const tokenFile = path.join(runDir, 'token');
  fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  fs.chmodSync(tokenFile, 0o600);
  const logLevel = ['--log-level', o.logLevel ?? 'info'];
  const pki = o.insecureTcp
    ? undefined
    : await writeLabPki(path.join(runDir, 'pki'), { switches: useOvs ? [] : topology.switches, ...(useOvs ? { ovsDpids: topology.switches.map((s) => s.dpid) } : {}) });
  const tlsArgs = (files: TlsFiles | undefined) => (files ? ['--tls-cert', files.cert, '--tls-key', files.key, '--tls-ca', files.ca] : ['--insecure-tcp']);

  const names = controllerNames(o.controllers ?? 1);
  const clustered = names.length > 1;
  let etcd: EtcdCluster | undefined;
  // One controller keeps intent in SQLite in the run dir; a cluster's controllers share the lab's etcd.
  const storeArgs = (name: string) =>
    clustered ? ['--store', etcd?.url ?? '', '--member-id', name, '--lease-ttl-s', String(o.leaseTtlS ?? DEFAULT_LAB_LEASE_TTL_S)] : ['--data', dataDir];
  const controllerArgs = (name: string, ports: { native: number; openflow: number; api: number }) => [
    'controller', '--topology', path.resolve(o.topologyFile), '--listen', `tcp://${LOOPBACK}:${ports.native}`, '--openflow', `tcp://${LOOPBACK}:${ports.openflow}`,
    ...storeArgs(name), '--api-port', String(ports.api), '--lab-plan', planFile, ...tlsArgs(pki?.controller), ...(o.controllerArgs ?? []), ...logLevel,
  ];
  const controllers: LabProcess[] = names.map((name, i) => ({
    name,
    args: controllerArgs(name, { native: 0, openflow: 0, api: i === 0 ? (o.apiPort ?? 0) : 0 }),
    env: { [BOOTSTRAP_TOKEN_ENV]: token },
  }));
  const controller = controllers[0];
  const apiUrls = new Map<string, string>();
  const switches = new Map<string, LabProcess>(useOvs ? [] : topology.switches.map((s) => [s.name, { name: s.name, args: [] }]));
  const hosts: LabProcess[] = topology.hosts.map((h) => ({ name: h.name, args: [] }));
  const attached = new Map<string, { proc: LabProcess; url: string }>();
  /** Where each switch port sends now (the plan's peers, then attached hosts). */
  const peers = new Map<string, SocketAddress>();
  let ovsLab: OvsLab | undefined;
  let controllerUrl = '';
  let apiUrl = '';
  let plan: LabPlan | undefined;
  const live = () => [...controllers, ...switches.values(), ...hosts, ...[...attached.values()].map((a) => a.proc)];
  const progress = (p: LabProgress) => o.onProgress?.(p);
  /** Starts a host on a softswitch port; set once the lab is up (before, attach requests are refused). */
  let attachHostNow: ((spec: AttachedHostSpec) => Promise<string>) | undefined = undefined;
  /** The controller's `overcast lab attach` requests (child-channel.ts requestAttachHost), answered over IPC. */
  const listenForAttach = () => {
    const child = controller.child;
    child?.on('message', (m: AttachHostRequest) => {
      if (m?.type !== 'attachHost') return;
      const reply = (r: Omit<HostAttachedReply, 'type' | 'id'>) => {
        if (child.connected) child.send({ type: 'hostAttached', id: m.id, ...r } satisfies HostAttachedReply);
      };
      if (!attachHostNow) return reply({ error: 'the lab is still starting' });
      attachHostNow(m.spec).then(
        (url) => reply({ url }),
        (e: unknown) => reply({ error: e instanceof Error ? e.message : String(e) }),
      );
    });
  };
  /** Attached hosts as the plan file lists them (the controller's lab routes read it). */
  const attachedPlans = new Map<string, AttachedHostPlan>();
  const writePlan = () => {
    if (plan) fs.writeFileSync(planFile, JSON.stringify({ ...plan, attached: [...attachedPlans.values()] }, null, 2));
  };

  const stop = async () => {
    await Promise.all([...hosts, ...switches.values(), ...[...attached.values()].map((a) => a.proc)].map(stopProcess));
    await ovsLab?.stop();
    ovsLab = undefined;
    await Promise.all(controllers.map(stopProcess));
    await etcd?.stop();
  };

  /** Each softswitch's metrics port (0 until it reports one; a restart binds the one it had). */
  const metricsPorts = new Map<string, number>();
  const switchArgs = (s: { name: string; dpid: number }, ports: string[]) => [
    'switch', '--dpid', String(s.dpid), '--name', s.name, '--controller', controllerUrl, ...tlsArgs(pki?.switches.get(s.name)),
    ...ports.flatMap((p) => ['--port', p]), '--metrics', `http://${LOOPBACK}:${metricsPorts.get(s.name) ?? 0}`, ...(o.switchArgs ?? []), ...logLevel,
  ];
  const hostArgs = (h: { name: string; mac: string; ip: string; gateway?: string }, peer: SocketAddress, dataPort = 0) => [
    'host', '--name', h.name, '--mac', h.mac, '--ip', h.ip, ...(h.gateway ? ['--gateway', h.gateway] : []),
    '--port', `${formatUdp(loopback(dataPort))}@${formatUdp(peer)}`, '--control', `http://${LOOPBACK}:0`, ...logLevel,
  ];

  const waitReady = async (timeoutMs = o.readyTimeoutMs ?? 30_000) => {
    const deadline = Date.now() + timeoutMs;
    const wanted = topology.switches.length;
    let last = '';
    let readyBefore = -1;
    while (Date.now() < deadline) {
      for (const p of live()) {
        const exited = exitedOnItsOwn(p, runDir);
        if (exited) throw exited;
      }
      try {
        const views = await Promise.all([...apiUrls.values()].map(async (url) => ((await getJson(`${url}/v1/switches`, token)) as { switches: SwitchStatusRow[] }).switches));
        const ready = clusterSynced(views);
        last = `${ready.length}/${wanted} switches synced`;
        if (ready.length !== readyBefore) progress({ phase: 'sync', done: ready.length, total: wanted });
        readyBefore = ready.length;
        if (ready.length === wanted) {
          await Promise.all((plan?.hosts ?? []).map((h) => getJson(`http://${h.control.host}:${h.control.port}/info`)));
          return;
        }
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`lab not ready after ${timeoutMs} ms (${last}); logs in ${runDir}`);
  };

  try {
    progress({ phase: 'controller', done: 0, total: names.length });
    if (clustered) etcd = await startEtcd({ dir: path.join(runDir, 'etcd'), members: o.etcdMembers ?? 1 });
    const started: { nativePort: number; openflowPort?: number; apiPort: number }[] = [];
    for (const [i, proc] of controllers.entries()) {
      proc.args = controllerArgs(proc.name, { native: 0, openflow: 0, api: i === 0 ? (o.apiPort ?? 0) : 0 });
      const r = await startProcess(proc, 'controller', runDir, startTimeoutMs);
      proc.args = controllerArgs(proc.name, { native: r.nativePort, openflow: r.openflowPort ?? 0, api: r.apiPort });
      apiUrls.set(proc.name, `http://${LOOPBACK}:${r.apiPort}`);
      started.push(r);
      progress({ phase: 'controller', done: i + 1, total: names.length, detail: apiUrls.get(proc.name) });
    }
    listenForAttach();
    const c = started[0];
    controllerUrl = started.map((x) => `tcp://${LOOPBACK}:${x.nativePort}`).join(',');
    apiUrl = apiUrls.get(controller.name) ?? '';

    // Switch ports by `switch:port`: a softswitch's UDP sockets, or on Open vSwitch the frame relays of
    // host ports (the bridges' links are unix streams).
    const switchPorts = new Map<string, SocketAddress>();
    if (useOvs) {
      const hostRelays = topology.hosts.map((h) => ({ host: h.name, bind: loopback(0) }));
      progress({ phase: 'switches', done: 0, total: topology.switches.length, detail: 'Open vSwitch bridges' });
      ovsLab = await startOvsLab({
        topology,
        // Every controller is a target of every bridge (space-separated, as ovs-vsctl set-controller takes them).
        controller: started.map((x) => `${pki ? 'ssl' : 'tcp'}:${LOOPBACK}:${x.openflowPort ?? 0}`).join(' '),
        ...(pki?.ovs ? { ssl: pki.ovs } : {}),
        hostRelays,
        controllerMaxBackoffMs: 1000,
      });
      progress({ phase: 'switches', done: topology.switches.length, total: topology.switches.length, detail: ovsLab.ovs.dir });
      for (const h of topology.hosts) {
        const relay = ovsLab.relays.get(h.name);
        if (relay) switchPorts.set(portKey(h.attach.switch, h.attach.port), relay.address());
      }
    } else {
      let started = 0;
      progress({ phase: 'switches', done: 0, total: topology.switches.length });
      await settleAll(
        topology.switches.map(async (s) => {
          const proc = switches.get(s.name) as LabProcess;
          proc.args = switchArgs(s, s.ports.map((p) => `${p.number}=${formatUdp(loopback(0))}`));
          const r = await startProcess(proc, 'switch', runDir, startTimeoutMs);
          for (const p of r.ports) switchPorts.set(portKey(s.name, p.number), loopback(p.port));
          if (r.metricsPort !== undefined) metricsPorts.set(s.name, r.metricsPort);
          progress({ phase: 'switches', done: ++started, total: topology.switches.length, detail: s.name });
        }),
      );
    }

    const hostPorts = new Map<string, { data: number; control: number }>();
    let hostsUp = 0;
    if (topology.hosts.length > 0) progress({ phase: 'hosts', done: 0, total: topology.hosts.length });
    await settleAll(
      topology.hosts.map(async (h, i) => {
        const peer = switchPorts.get(portKey(h.attach.switch, h.attach.port));
        if (!peer) throw new Error(`host ${h.name} attaches to ${h.attach.switch}:${h.attach.port}, which has no address`);
        hosts[i].args = hostArgs({ name: h.name, mac: formatMac(h.mac), ip: `${formatIpv4(h.ip)}/${h.prefixLength}` }, peer);
        const r = await startProcess(hosts[i], 'host', runDir, startTimeoutMs);
        hostPorts.set(h.name, { data: r.dataPort, control: r.controlPort });
        progress({ phase: 'hosts', done: ++hostsUp, total: topology.hosts.length, detail: h.name });
      }),
    );
    progress({ phase: 'wiring', done: 0, total: 1 });

    const wired = planLab(topology, {
      controller: { host: LOOPBACK, bindHost: LOOPBACK, nativePort: c.nativePort, apiPort: c.apiPort },
      switchPort: (sw, port) => switchPorts.get(portKey(sw, port)) ?? loopback(0),
      hostData: (h) => loopback(hostPorts.get(h)?.data ?? 0),
      hostControl: (h) => loopback(hostPorts.get(h)?.control ?? 0),
    });
    plan = { ...wired, switches: wired.switches.map((s) => (metricsPorts.has(s.name) ? { ...s, metrics: loopback(metricsPorts.get(s.name) ?? 0) } : s)) };
    for (const s of wired.switches) for (const p of s.ports) if (p.peer) peers.set(portKey(s.name, p.number), p.peer);
    if (ovsLab) {
      for (const h of wired.hosts) ovsLab.relays.get(h.name)?.setPeer(h.bind);
    } else {
      await Promise.all(
        wired.switches.map((s) =>
          setPeers(switches.get(s.name) as LabProcess, s.ports.flatMap((p) => (p.peer ? [{ number: p.number, peer: p.peer }] : [])), runDir, startTimeoutMs),
        ),
      );
    }
    writePlan();
    progress({ phase: 'wiring', done: 1, total: 1 });
    await waitReady();
  } catch (e) {
    await stop();
    throw e;
  }
  const labPlan = plan as LabPlan;

  const mustController = (name = controller.name) => {
    const p = controllers.find((x) => x.name === name);
    if (!p) throw new Error(`no controller ${name} in the lab`);
    return p;
  };
  const mustSwitch = (name: string) => {
    const m = switches.get(name);
    if (!m) throw new Error(`no softswitch ${name} in the lab`);
    return m;
  };
  attachHostNow = async (spec) => {
    if (attached.has(spec.name) || labPlan.hosts.some((h) => h.name === spec.name)) throw new Error(`a host named ${spec.name} is in the lab already`);
    const sw = labPlan.switches.find((x) => x.name === spec.switch);
    const port = sw?.ports.find((p) => p.number === spec.port);
    if (!sw || !port) throw new Error(`no port ${spec.switch}:${spec.port} in the lab`);
    // Where the host sends, and what wires the switch port to it once it reports its data port: on a
    // bridge a frame relay on the port; on a softswitch the port itself (a host attached again to a
    // port binds the data port the one before it had, since a port bound to port 0 takes one peer only).
    let proc: LabProcess;
    let wire: (dataPort: number) => Promise<void>;
    if (ovsLab) {
      const relay = await ovsLab.attachRelay(spec.switch, spec.port, loopback(0));
      proc = { name: spec.name, args: hostArgs(spec, relay.address()) };
      wire = async (dataPort) => relay.setPeer(loopback(dataPort));
    } else {
      const switchProc = mustSwitch(spec.switch);
      const key = portKey(spec.switch, spec.port);
      const known = peers.get(key);
      proc = { name: spec.name, args: hostArgs(spec, port.bind, known?.port ?? 0) };
      wire = async (dataPort) => {
        if (known) return;
        const data = loopback(dataPort);
        peers.set(key, data);
        await setPeers(switchProc, [{ number: spec.port, peer: data }], runDir, startTimeoutMs);
      };
    }
    // Registered before it answers, so a stop in between still stops it.
    attached.set(spec.name, { proc, url: '' });
    try {
      const r = await startProcess(proc, 'host', runDir, startTimeoutMs);
      await wire(r.dataPort);
      const url = `http://${LOOPBACK}:${r.controlPort}`;
      attached.set(spec.name, { proc, url });
      attachedPlans.set(spec.name, { ...spec, control: loopback(r.controlPort) });
      writePlan();
      return url;
    } catch (e) {
      attached.delete(spec.name);
      await stopProcess(proc);
      throw e;
    }
  };
  return {
    plan: labPlan,
    topology,
    apiUrl,
    token,
    tokenFile,
    runDir,
    pki,
    ...(ovsLab ? { ovs: ovsLocation(ovsLab) } : {}),
    hostUrl(name) {
      const a = attached.get(name);
      if (a) return a.url;
      const h = labPlan.hosts.find((x) => x.name === name);
      if (!h) throw new Error(`no host ${name} in the lab`);
      return `http://${h.control.host}:${h.control.port}`;
    },
    attachHost: (spec) => (attachHostNow as NonNullable<typeof attachHostNow>)(spec),
    async detachHost(name) {
      const a = attached.get(name);
      attached.delete(name);
      if (attachedPlans.delete(name)) writePlan();
      if (a) await stopProcess(a.proc);
    },
    async killSwitch(name) {
      const m = mustSwitch(name);
      m.child?.kill('SIGKILL');
      await stopProcess(m);
    },
    async startSwitch(name) {
      const m = mustSwitch(name);
      const s = labPlan.switches.find((x) => x.name === name) as LabPlan['switches'][number];
      const ports = s.ports.map((p) => {
        const peer = peers.get(portKey(name, p.number));
        return switchPortArg(peer ? { ...p, peer } : { number: p.number, bind: p.bind });
      });
      m.args = switchArgs(s, ports);
      await startProcess(m, 'switch', runDir, startTimeoutMs);
    },
    controllers: controllers.map((p) => ({ name: p.name, apiUrl: apiUrls.get(p.name) ?? '' })),
    ...(etcd ? { etcd } : {}),
    stopController: (name) => stopProcess(mustController(name)),
    async killController(name) {
      const p = mustController(name);
      p.child?.kill('SIGKILL');
      await stopProcess(p);
    },
    async startController(name) {
      const p = mustController(name);
      await startProcess(p, 'controller', runDir, startTimeoutMs);
      if (p === controller) listenForAttach();
    },
    waitReady,
    stop,
  };
}

function ovsLocation(lab: OvsLab): OvsLocation {
  const env: Record<string, string> = {};
  for (const k of ['OVS_RUNDIR', 'OVS_DBDIR', 'OVS_LOGDIR', 'OVS_SYSCONFDIR']) env[k] = lab.ovs.env[k] ?? lab.ovs.dir;
  return { dir: lab.ovs.dir, env, mgmtSocket: (sw) => lab.ovs.mgmtSocket(lab.bridge(sw)) };
}
