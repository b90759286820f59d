/**
 * `overcast lab`: brings a topology up as real processes on 127.0.0.1 — the controller, one softswitch
 * per switch, one test host per host — the layout of docker/compose.yaml, and tears it down. Also the
 * harness of the end-to-end tests (startLab returns a handle that can kill and restart parts).
 *
 * No port is chosen ahead: each process binds port 0 and reports the ports it got (the controller
 * first, then the switches, then the hosts, each sending to what the one before reported); then the
 * lab tells every switch port its peer. A restarted process binds the ports it had. A process that
 * exits while the lab waits for it fails startLab at once with the end of its log.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTopology, type Topology } from '../model/index.js';
import { formatIpv4, formatMac, type SocketAddress } from '../net/index.js';
import { startOvsLab, type OvsLab } from './lab-ovs.js';
import { planLab, switchPortArg, formatUdp, type LabPlan } from './lab-plan.js';
import { exitedOnItsOwn, setPeers, startProcess, stopProcess, type LabProcess } from './lab-process.js';

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
}

export interface AttachedHostSpec {
  name: string;
  mac: string;
  /** a.b.c.d/len */
  ip: string;
  gateway?: string;
  switch: string;
  port: number;
}

export interface LabHandle {
  /**
   * Every address as the processes reported it. On Open vSwitch bridges only host ports have a UDP
   * address (their frame relay); the others show port 0.
   */
  plan: LabPlan;
  topology: Topology;
  apiUrl: string;
  runDir: string;
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
  stopController(): Promise<void>;
  /** Start a stopped controller again on the same ports; resolves once it listens. */
  startController(): Promise<void>;
  waitReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const DEFAULT_START_TIMEOUT_MS = 60_000;

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

const portKey = (sw: string, port: number) => `${sw}:${port}`;
const loopback = (port: number): SocketAddress => ({ host: LOOPBACK, port });

export async function startLab(o: LabOptions): Promise<LabHandle> {
  const topology = parseTopology(fs.readFileSync(o.topologyFile, 'utf8'), o.topologyFile);
  const runDir = o.runDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `overcast-lab-${topology.name}-`));
  fs.mkdirSync(runDir, { recursive: true });
  const startTimeoutMs = o.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const useOvs = o.switches === 'ovs';
  const dataDir = o.dataDir ?? path.join(runDir, 'data');
  const planFile = path.join(runDir, 'plan.json');
  const logLevel = ['--log-level', o.logLevel ?? 'info'];

  const controllerArgs = (ports: { native: number; openflow: number; api: number }) => [
    'controller', '--topology', path.resolve(o.topologyFile), '--listen', `tcp://${LOOPBACK}:${ports.native}`, '--openflow', `tcp://${LOOPBACK}:${ports.openflow}`,
    '--data', dataDir, '--api-port', String(ports.api), '--lab-plan', planFile, ...logLevel,
  ];
  const controller: LabProcess = { name: 'controller', args: controllerArgs({ native: 0, openflow: 0, api: o.apiPort ?? 0 }) };
  const switches = new Map<string, LabProcess>(useOvs ? [] : topology.switches.map((s) => [s.name, { name: s.name, args: [] }]));
  const hosts: LabProcess[] = topology.hosts.map((h) => ({ name: h.name, args: [] }));
  const attached = new Map<string, { proc: LabProcess; url: string }>();
  /** Where each switch port sends now (the plan's peers, then attached hosts). */
  const peers = new Map<string, SocketAddress>();
  let ovsLab: OvsLab | undefined;
  let controllerUrl = '';
  let apiUrl = '';
  let plan: LabPlan | undefined;
  const live = () => [controller, ...switches.values(), ...hosts, ...[...attached.values()].map((a) => a.proc)];

  const stop = async () => {
    await Promise.all([...hosts, ...switches.values(), ...[...attached.values()].map((a) => a.proc)].map(stopProcess));
    await ovsLab?.stop();
    ovsLab = undefined;
    await stopProcess(controller);
  };

  const switchArgs = (s: { name: string; dpid: number }, ports: string[]) => [
    'switch', '--dpid', String(s.dpid), '--name', s.name, '--controller', controllerUrl, ...ports.flatMap((p) => ['--port', p]), ...(o.switchArgs ?? []), ...logLevel,
  ];
  const hostArgs = (h: { name: string; mac: string; ip: string; gateway?: string }, peer: SocketAddress, dataPort = 0) => [
    'host', '--name', h.name, '--mac', h.mac, '--ip', h.ip, ...(h.gateway ? ['--gateway', h.gateway] : []),
    '--port', `${formatUdp(loopback(dataPort))}@${formatUdp(peer)}`, '--control', `http://${LOOPBACK}:0`, ...logLevel,
  ];

  const waitReady = async (timeoutMs = o.readyTimeoutMs ?? 30_000) => {
    const deadline = Date.now() + timeoutMs;
    const wanted = topology.switches.length;
    let last = '';
    while (Date.now() < deadline) {
      for (const p of live()) {
        const exited = exitedOnItsOwn(p, runDir);
        if (exited) throw exited;
      }
      try {
        const { switches: list } = (await getJson(`${apiUrl}/v1/switches`)) as {
          switches: { dpid: number; connected: boolean; desiredFlows: number; installedFlows: number }[];
        };
        const ready = list.filter((s) => s.connected && s.installedFlows === s.desiredFlows);
        last = `${ready.length}/${wanted} switches synced`;
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
    const c = await startProcess(controller, 'controller', runDir, startTimeoutMs);
    const openflowPort = c.openflowPort ?? 0;
    controller.args = controllerArgs({ native: c.nativePort, openflow: openflowPort, api: c.apiPort });
    controllerUrl = `tcp://${LOOPBACK}:${c.nativePort}`;
    apiUrl = `http://${LOOPBACK}:${c.apiPort}`;

    // Switch ports by `switch:port`: a softswitch's UDP sockets, or on Open vSwitch the frame relays of
    // host ports (the bridges' links are unix streams).
    const switchPorts = new Map<string, SocketAddress>();
    if (useOvs) {
      const hostRelays = topology.hosts.map((h) => ({ host: h.name, bind: loopback(0) }));
      ovsLab = await startOvsLab({ topology, controller: `tcp:${LOOPBACK}:${openflowPort}`, hostRelays, controllerMaxBackoffMs: 1000 });
      for (const h of topology.hosts) {
        const relay = ovsLab.relays.get(h.name);
        if (relay) switchPorts.set(portKey(h.attach.switch, h.attach.port), relay.address());
      }
    } else {
      await Promise.all(
        topology.switches.map(async (s) => {
          const proc = switches.get(s.name) as LabProcess;
          proc.args = switchArgs(s, s.ports.map((p) => `${p.number}=${formatUdp(loopback(0))}`));
          const r = await startProcess(proc, 'switch', runDir, startTimeoutMs);
          for (const p of r.ports) switchPorts.set(portKey(s.name, p.number), loopback(p.port));
        }),
      );
    }

    const hostPorts = new Map<string, { data: number; control: number }>();
    await Promise.all(
      topology.hosts.map(async (h, i) => {
        const peer = switchPorts.get(portKey(h.attach.switch, h.attach.port));
        if (!peer) throw new Error(`host ${h.name} attaches to ${h.attach.switch}:${h.attach.port}, which has no address`);
        hosts[i].args = hostArgs({ name: h.name, mac: formatMac(h.mac), ip: `${formatIpv4(h.ip)}/${h.prefixLength}` }, peer);
        const r = await startProcess(hosts[i], 'host', runDir, startTimeoutMs);
        hostPorts.set(h.name, { data: r.dataPort, control: r.controlPort });
      }),
    );

    const wired = planLab(topology, {
      controller: { host: LOOPBACK, bindHost: LOOPBACK, nativePort: c.nativePort, apiPort: c.apiPort },
      switchPort: (sw, port) => switchPorts.get(portKey(sw, port)) ?? loopback(0),
      hostData: (h) => loopback(hostPorts.get(h)?.data ?? 0),
      hostControl: (h) => loopback(hostPorts.get(h)?.control ?? 0),
    });
    plan = wired;
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
    fs.writeFileSync(planFile, JSON.stringify(wired, null, 2));
    await waitReady();
  } catch (e) {
    await stop();
    throw e;
  }
  const labPlan = plan as LabPlan;

  const mustSwitch = (name: string) => {
    const m = switches.get(name);
    if (!m) throw new Error(`no softswitch ${name} in the lab`);
    return m;
  };
  return {
    plan: labPlan,
    topology,
    apiUrl,
    runDir,
    hostUrl(name) {
      const a = attached.get(name);
      if (a) return a.url;
      const h = labPlan.hosts.find((x) => x.name === name);
      if (!h) throw new Error(`no host ${name} in the lab`);
      return `http://${h.control.host}:${h.control.port}`;
    },
    async attachHost(spec) {
      const sw = labPlan.switches.find((x) => x.name === spec.switch);
      const port = sw?.ports.find((p) => p.number === spec.port);
      if (!sw || !port) throw new Error(`no port ${spec.switch}:${spec.port} in the lab`);
      if (ovsLab) {
        // On a bridge: a frame relay on the port, the host sending to it and the relay to the host.
        const relay = await ovsLab.attachRelay(spec.switch, spec.port, loopback(0));
        const proc: LabProcess = { name: spec.name, args: hostArgs(spec, relay.address()) };
        attached.set(spec.name, { proc, url: '' });
        const r = await startProcess(proc, 'host', runDir, startTimeoutMs);
        relay.setPeer(loopback(r.dataPort));
        const url = `http://${LOOPBACK}:${r.controlPort}`;
        attached.set(spec.name, { proc, url });
        return url;
      }
      const switchProc = mustSwitch(spec.switch);
      // A host attached again to a port binds the data port the one before it had (a restarted
      // instance): the switch port keeps its peer (a port bound to port 0 takes one peer only).
      const key = portKey(spec.switch, spec.port);
      const known = peers.get(key);
      const proc: LabProcess = { name: spec.name, args: hostArgs(spec, port.bind, known?.port ?? 0) };
      // Registered before it answers, so a stop in between still stops it.
      attached.set(spec.name, { proc, url: '' });
      const r = await startProcess(proc, 'host', runDir, startTimeoutMs);
      if (!known) {
        const data = loopback(r.dataPort);
        peers.set(key, data);
        await setPeers(switchProc, [{ number: spec.port, peer: data }], runDir, startTimeoutMs);
      }
      const url = `http://${LOOPBACK}:${r.controlPort}`;
      attached.set(spec.name, { proc, url });
      return url;
    },
    async detachHost(name) {
      const a = attached.get(name);
      attached.delete(name);
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
    stopController: () => stopProcess(controller),
    async startController() {
      await startProcess(controller, 'controller', runDir, startTimeoutMs);
    },
    waitReady,
    stop,
  };
}
