/**
 * `overcast lab`: brings a topology up as real processes on 127.0.0.1 — the controller, one softswitch
 * per switch, one test host per host — exactly the layout of docker/compose.yaml, and tears it down.
 * Also the harness of the end-to-end tests (startLab returns a handle that can kill and restart parts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTopology, type Topology } from '../model/index.js';
import { freeTcpPort, freeTcpPorts, freeUdpPorts } from './free-ports.js';
import { hostRelaysFromPlan, startOvsLab, type OvsLab } from './lab-ovs.js';
import { labPortCount, planLab, switchPortArg, formatUdp, type LabPlan } from './lab-plan.js';

/** bin/overcast.js, found upwards from this module (it runs from src/cli in tests, from dist/ when bundled). */
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

export interface LabOptions {
  topologyFile: string;
  apiPort?: number;
  /** Where plan.json and every process's log go; a fresh temp dir by default. */
  runDir?: string;
  logLevel?: string;
  /** How long to wait for every switch to connect and sync. */
  readyTimeoutMs?: number;
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

interface Managed {
  name: string;
  args: string[];
  child?: ChildProcess;
}

export interface LabHandle {
  plan: LabPlan;
  topology: Topology;
  apiUrl: string;
  runDir: string;
  /** Base URL of a host's control API (lab hosts and attached endpoint hosts). */
  hostUrl(name: string): string;
  /**
   * Start a test host process on a free port of a switch (an endpoint's data plane: a function
   * instance or container created over REST). Resolves when its control API answers.
   */
  attachHost(spec: AttachedHostSpec): Promise<string>;
  /** Stop a host started with attachHost. */
  detachHost(name: string): Promise<void>;
  killSwitch(name: string): Promise<void>;
  startSwitch(name: string): Promise<void>;
  stopController(): Promise<void>;
  startController(): Promise<void>;
  waitReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function spawnOvercast(m: Managed, runDir: string): ChildProcess {
  const log = fs.openSync(path.join(runDir, `${m.name}.log`), 'a');
  const child = spawn(process.execPath, [OVERCAST_BIN, ...m.args], {
    stdio: ['ignore', log, log],
    env: { ...process.env },
  });
  fs.closeSync(log);
  m.child = child;
  return child;
}

async function stopProcess(m: Managed): Promise<void> {
  const child = m.child;
  m.child = undefined;
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

/**
 * Starts a test host and waits for its control API; resolves with the control port it listens on. The
 * port was probed free in TCP, but another process may take it before the host listens (in CI, an
 * ephemeral port of a test's fetch did): the host then exits at once (exit 1, "cannot listen") and is
 * started again on a fresh port, up to 3 times.
 */
async function startHostProcess(m: Managed, argsFor: (controlPort: number) => string[], firstPort: number, runDir: string): Promise<number> {
  const deadline = Date.now() + 20_000;
  let controlPort = firstPort;
  for (let attempt = 1; ; attempt++) {
    m.args = argsFor(controlPort);
    const child = spawnOvercast(m, runDir);
    for (;;) {
      try {
        await getJson(`http://127.0.0.1:${controlPort}/info`);
        return controlPort;
      } catch (e) {
        const exited = child.exitCode !== null || child.signalCode !== null;
        if (exited && attempt < 3) break;
        if (exited || Date.now() > deadline) throw new Error(`host ${m.name} did not come up (attempt ${attempt}; log in ${runDir}/${m.name}.log): ${String(e)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    controlPort = await freeTcpPort();
  }
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

export async function startLab(o: LabOptions): Promise<LabHandle> {
  const topology = parseTopology(fs.readFileSync(o.topologyFile, 'utf8'), o.topologyFile);
  const runDir = o.runDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `overcast-lab-${topology.name}-`));
  fs.mkdirSync(runDir, { recursive: true });
  const apiPort = o.apiPort ?? (await freeTcpPort());
  const nativePort = await freeTcpPort();
  const openflowPort = await freeTcpPort();
  const useOvs = o.switches === 'ovs';
  let ovsLab: OvsLab | undefined;
  const dataDir = o.dataDir ?? path.join(runDir, 'data');
  const plan: LabPlan = planLab(topology, {
    kind: 'loopback',
    udpPorts: await freeUdpPorts(labPortCount(topology)),
    tcpPorts: await freeTcpPorts(topology.hosts.length),
    apiPort,
    nativePort,
  });
  const planFile = path.join(runDir, 'plan.json');
  const logLevel = ['--log-level', o.logLevel ?? 'info'];
  const controllerUrl = `tcp://${plan.controller.host}:${nativePort}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const controller: Managed = {
    name: 'controller',
    args: ['controller', '--topology', path.resolve(o.topologyFile), '--listen', `tcp://127.0.0.1:${nativePort}`, '--openflow', `tcp://127.0.0.1:${openflowPort}`, '--data', dataDir, '--api-port', String(apiPort), '--lab-plan', planFile, ...logLevel],
  };
  const switches = new Map<string, Managed>(
    plan.switches.map((s) => [
      s.name,
      {
        name: s.name,
        args: ['switch', '--dpid', String(s.dpid), '--name', s.name, '--controller', controllerUrl, ...s.ports.flatMap((p) => ['--port', switchPortArg(p)]), ...(o.switchArgs ?? []), ...logLevel],
      },
    ]),
  );
  const hostArgs = (h: LabPlan['hosts'][number]) => (controlPort: number) =>
    ['host', '--name', h.name, '--mac', h.mac, '--ip', h.ip, '--port', `${formatUdp(h.bind)}@${formatUdp(h.peer)}`, '--control', `http://${h.control.host}:${controlPort}`, ...logLevel];
  // Their arguments are set when they start (startHostProcess), with the control port they get.
  const hosts: Managed[] = plan.hosts.map((h) => ({ name: h.name, args: [] }));

  const attached = new Map<string, { managed: Managed; url: string }>();
  /** The host-side UDP port used on each switch port (`switch:port`) by attachHost. */
  const dataPorts = new Map<string, number>();
  const stop = async () => {
    await Promise.all([...hosts, ...switches.values(), ...[...attached.values()].map((a) => a.managed)].map(stopProcess));
    await ovsLab?.stop();
    ovsLab = undefined;
    await stopProcess(controller);
  };

  const waitReady = async (timeoutMs = o.readyTimeoutMs ?? 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const { switches: list } = (await getJson(`${apiUrl}/v1/switches`)) as {
          switches: { dpid: number; connected: boolean; desiredFlows: number; installedFlows: number }[];
        };
        const ready = list.filter((s) => s.connected && s.installedFlows === s.desiredFlows);
        last = `${ready.length}/${plan.switches.length} switches synced`;
        if (ready.length === plan.switches.length) {
          await Promise.all(plan.hosts.map((h) => getJson(`http://${h.control.host}:${h.control.port}/info`)));
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
    // Hosts first: the plan is final (a host may have moved to another control port) before the
    // controller reads it. A host's frames before its switch is up are lost like any early UDP.
    await Promise.all(
      plan.hosts.map(async (h, i) => {
        h.control = { ...h.control, port: await startHostProcess(hosts[i], hostArgs(h), h.control.port, runDir) };
      }),
    );
    fs.writeFileSync(planFile, JSON.stringify(plan, null, 2));
    spawnOvercast(controller, runDir);
    if (useOvs) {
      ovsLab = await startOvsLab({ topology, controller: `tcp:127.0.0.1:${openflowPort}`, hostRelays: hostRelaysFromPlan(plan), controllerMaxBackoffMs: 1000 });
      switches.clear();
    }
    for (const m of switches.values()) spawnOvercast(m, runDir);
    await waitReady();
  } catch (e) {
    await stop();
    throw e;
  }

  const mustSwitch = (name: string) => {
    const m = switches.get(name);
    if (!m) throw new Error(`no switch ${name} in the lab`);
    return m;
  };
  return {
    plan,
    topology,
    apiUrl,
    runDir,
    hostUrl(name) {
      const a = attached.get(name);
      if (a) return a.url;
      const h = plan.hosts.find((x) => x.name === name);
      if (!h) throw new Error(`no host ${name} in the lab`);
      return `http://${h.control.host}:${h.control.port}`;
    },
    async attachHost(spec) {
      const sw = plan.switches.find((x) => x.name === spec.switch);
      const port = sw?.ports.find((p) => p.number === spec.port);
      if (!sw || !port) throw new Error(`no port ${spec.switch}:${spec.port} in the lab`);
      const [freshData] = await freeUdpPorts(1);
      // A lab switch port learns its peer once, from the first datagram: a host re-attached to the
      // same port (a restarted instance) binds the address the port already knows.
      const portKey = `${spec.switch}:${spec.port}`;
      const dataPort = dataPorts.get(portKey) ?? freshData;
      dataPorts.set(portKey, dataPort);
      const managed: Managed = { name: spec.name, args: [] };
      const argsFor = (controlPort: number) => [
        'host', '--name', spec.name, '--mac', spec.mac, '--ip', spec.ip, ...(spec.gateway ? ['--gateway', spec.gateway] : []),
        '--port', `${formatUdp({ host: '127.0.0.1', port: dataPort })}@${formatUdp(port.bind)}`,
        '--control', `http://127.0.0.1:${controlPort}`, ...logLevel,
      ];
      // Registered before it answers, so a stop in between still stops it.
      attached.set(spec.name, { managed, url: '' });
      const controlPort = await startHostProcess(managed, argsFor, await freeTcpPort(), runDir);
      const url = `http://127.0.0.1:${controlPort}`;
      attached.set(spec.name, { managed, url });
      return url;
    },
    async detachHost(name) {
      const a = attached.get(name);
      attached.delete(name);
      if (a) await stopProcess(a.managed);
    },
    async killSwitch(name) {
      const m = mustSwitch(name);
      m.child?.kill('SIGKILL');
      await stopProcess(m);
    },
    async startSwitch(name) {
      spawnOvercast(mustSwitch(name), runDir);
    },
    stopController: () => stopProcess(controller),
    async startController() {
      spawnOvercast(controller, runDir);
    },
    waitReady,
    stop,
  };
}
