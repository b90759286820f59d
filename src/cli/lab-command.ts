/** `overcast lab up|ping|attach|demo|compose`: human-facing wrappers around startLab and the lab REST routes. */
import fs from 'node:fs';
import { parseTopology } from '../model/index.js';
import { composeAddressing, planLab, renderCompose, startLab, writeLabPki, type LabAttachResult, type LabHandle, type LabPingResult, type LabProgress } from '../lab/index.js';
import { TOKEN_ENV, apiClient, type ApiClient } from './api-client.js';
import { createProgressLine, type ProgressLine } from './progress.js';

/** ICMP echo between lab hosts, endpoints' test hosts (by endpoint id) or to an address. */
export async function labPing(api: string | ApiClient, from: string, to: string, count: number, timeoutMs = 1000): Promise<LabPingResult> {
  const client = typeof api === 'string' ? apiClient({ api }) : api;
  return client.post<LabPingResult>('/v1/lab/ping', { from, to, count, timeoutMs });
}

/** Starts a test host on an endpoint's port (`overcast lab attach`). */
export async function labAttach(client: ApiClient, endpoint: string, name?: string): Promise<LabAttachResult> {
  return client.post<LabAttachResult>('/v1/lab/attach', { endpoint, ...(name !== undefined ? { name } : {}) });
}

export function printAttach(r: LabAttachResult, apiUrl: string, out: (line: string) => void = console.log): void {
  out(`attached test host ${r.name} for endpoint ${r.endpoint}: ${r.ip} ${r.mac} on ${r.switch} port ${r.port}`);
  out(`  control ${r.control}`);
  out(`try: overcast lab ping ${r.name} <endpoint id, host or address> --api ${apiUrl}`);
}

const PHASE_TEXT: Record<LabProgress['phase'], string> = {
  controller: 'controller',
  switches: 'switches',
  hosts: 'hosts',
  wiring: 'wiring ports',
  sync: 'switches in sync',
};

/** The start's progress: one line redrawn on a terminal, a line per finished phase elsewhere. */
export function labProgressReporter(topology: string, line: ProgressLine = createProgressLine(), out: (text: string) => void = (t) => process.stderr.write(`${t}\n`)): (p: LabProgress) => void {
  return (p) => {
    const text = `${PHASE_TEXT[p.phase]} ${p.done}/${p.total}${p.detail ? ` (${p.detail})` : ''}`;
    if (line.interactive) line.update(`starting lab ${topology}: ${text}`);
    else if (p.done === p.total) out(`  ${text}`);
    if (p.phase === 'sync' && p.done === p.total) line.done();
  };
}

export function printPing(r: LabPingResult, out: (line: string) => void = console.log): void {
  out(`PING ${r.from} -> ${r.to}  path: ${r.path.join(' -> ')}`);
  for (const rep of r.replies) out(`  reply seq=${rep.seq} ttl=${rep.ttl} time=${rep.rttMs.toFixed(2)} ms`);
  const loss = r.sent === 0 ? 100 : (100 * (r.sent - r.received)) / r.sent;
  out(`  ${r.sent} sent, ${r.received} received, ${loss.toFixed(0)}% loss`);
}

/** Wait for SIGINT/SIGTERM, then run `stop` once. */
export function stopOnSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = () => {
      if (stopping) return;
      stopping = true;
      void stop().finally(() => resolve());
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  });
}

/** What a started lab is and how to use it, as lines. */
export function describeLab(lab: Pick<LabHandle, 'topology' | 'plan' | 'apiUrl' | 'runDir' | 'ovs' | 'pki' | 'token' | 'tokenFile'> & Partial<Pick<LabHandle, 'controllers' | 'etcd'>>): string[] {
  const lines = [
    `lab "${lab.topology.name}" is up: ${lab.plan.switches.length} switches, ${lab.plan.hosts.length} hosts`,
    `  REST API   ${lab.apiUrl}  (OpenAPI at ${lab.apiUrl}/docs, topology page at ${lab.apiUrl}/?token=..., metrics at ${lab.apiUrl}/metrics)`,
    `  token      ${lab.token}  (admin; also in ${lab.tokenFile})`,
    ...(lab.controllers && lab.controllers.length > 1
      ? [
          ...lab.controllers.map((c) => `  ${c.name.padEnd(11)} ${c.apiUrl}  (REST API of a cluster member; GET /v1/cluster)`),
          `  etcd       ${lab.etcd?.url ?? '?'}  (data in ${lab.runDir}/etcd)`,
        ]
      : []),
    `  logs       ${lab.runDir}`,
    `  channels   ${lab.pki ? `mutual TLS (CA and certificates in ${lab.pki.dir})` : 'plain TCP (--insecure-tcp)'}`,
  ];
  if (lab.ovs) {
    const env = Object.entries(lab.ovs.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const first = lab.plan.switches[0]?.name ?? 's1';
    lines.push(
      `  Open vSwitch  ${lab.ovs.dir}`,
      `    export ${env}`,
      `    ovs-vsctl --db=unix:${lab.ovs.dir}/db.sock show`,
      `    ovs-ofctl -O OpenFlow13 dump-flows unix:${lab.ovs.mgmtSocket(first)}`,
    );
  }
  const scraped = lab.plan.switches.filter((s) => s.metrics);
  if (scraped.length > 0) {
    const host = scraped[0].metrics?.host ?? '127.0.0.1';
    lines.push(`  switch metrics  http://${host}:PORT/metrics, PORT per switch: ${scraped.map((s) => `${s.name}=${s.metrics?.port}`).join(' ')}`);
  }
  for (const h of lab.plan.hosts) lines.push(`  host ${h.name.padEnd(6)} ${h.ip.padEnd(18)} ${h.mac}`);
  const api = `--api ${lab.apiUrl}`;
  lines.push(`try: export ${TOKEN_ENV}=$(cat ${lab.tokenFile})`);
  if (lab.plan.hosts.length >= 2) lines.push(`     overcast lab ping ${lab.plan.hosts[0].name} ${lab.plan.hosts.at(-1)?.name} ${api}`);
  else {
    lines.push(
      'this topology has no test hosts: create a VPC, a subnet and endpoints (docs/guide.md), then put a test host on each endpoint:',
      `  overcast lab attach <endpoint-id> ${api}`,
      `  overcast lab ping <endpoint-id> <endpoint-id or address> ${api}`,
    );
  }
  return lines;
}

export async function labUp(topologyFile: string, apiPort: number, switches: 'soft' | 'ovs' = 'soft', dataDir?: string, insecureTcp = false, controllers = 1): Promise<void> {
  const progress = createProgressLine();
  const lab = await startLab({ topologyFile, apiPort, switches, ...(dataDir ? { dataDir } : {}), insecureTcp, controllers, onProgress: labProgressReporter(topologyFile, progress) }).finally(() =>
    progress.done(),
  );
  for (const line of describeLab(lab)) console.log(line);
  console.log('Ctrl-C stops every process the lab started.');
  await stopOnSignal(lab.stop);
}

/** The quick start: bring the demo up, show traffic crossing it, stay up until Ctrl-C (or exit with --exit). */
export async function labDemo(topologyFile: string, apiPort: number, exitAfter: boolean): Promise<number> {
  const progress = createProgressLine();
  const lab = await startLab({ topologyFile, apiPort, onProgress: labProgressReporter(topologyFile, progress) }).finally(() => progress.done());
  for (const line of describeLab(lab)) console.log(line);
  let failures = 0;
  const hosts = lab.plan.hosts.map((h) => h.name);
  const client = apiClient({ api: lab.apiUrl, token: lab.token });
  try {
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        const r = await labPing(client, hosts[i], hosts[j], 2);
        printPing(r);
        if (r.received === 0) failures++;
      }
    }
    const { switches } = await client.get<{ switches: { dpid: number; installedFlows: number; packets?: { rx: number; tx: number } }[] }>('/v1/switches');
    for (const s of switches) console.log(`switch dpid=${s.dpid} flows=${s.installedFlows} rx=${s.packets?.rx ?? 0} tx=${s.packets?.tx ?? 0}`);
  } catch (e) {
    failures++;
    console.error(e instanceof Error ? e.message : e);
  }
  if (exitAfter) {
    await lab.stop();
  } else {
    console.log('the lab stays up; Ctrl-C stops every process it started.');
    await stopOnSignal(lab.stop);
  }
  return failures === 0 ? 0 : 1;
}

/** `overcast lab certs`: a CA, the controller's certificate and one per switch of the topology, in `outDir` (docker/pki for compose). */
export async function labCerts(topologyFile: string, outDir: string): Promise<string[]> {
  const topology = parseTopology(fs.readFileSync(topologyFile, 'utf8'), topologyFile);
  const pki = await writeLabPki(outDir, { switches: topology.switches, ovsDpids: topology.switches.map((s) => s.dpid), controllerHosts: ['controller'] });
  return [pki.ca, pki.controller.cert, ...[...pki.switches.values()].map((f) => f.cert), ...(pki.ovs ? [pki.ovs.cert] : [])];
}

export function labCompose(topologyFile: string, image: string): string {
  const topology = parseTopology(fs.readFileSync(topologyFile, 'utf8'), topologyFile);
  const plan = planLab(topology, composeAddressing(8080, 6633));
  return renderCompose(plan, topologyFile, image);
}
