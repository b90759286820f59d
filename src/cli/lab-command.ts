/** `overcast lab up|ping|demo|compose`: human-facing wrappers around startLab and the lab REST routes. */
import fs from 'node:fs';
import { parseTopology } from '../model/index.js';
import { composeAddressing, planLab, renderCompose, startLab, type LabHandle, type LabPingResult } from '../lab/index.js';
import { TOKEN_ENV, apiRequest } from './api-client.js';

export async function labPing(apiUrl: string, token: string | undefined, from: string, to: string, count: number, timeoutMs = 1000): Promise<LabPingResult> {
  return apiRequest<LabPingResult>(apiUrl, token, 'POST', '/v1/lab/ping', { from, to, count, timeoutMs });
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

function describe(lab: LabHandle): void {
  console.log(`lab "${lab.topology.name}" is up: ${lab.plan.switches.length} switches, ${lab.plan.hosts.length} hosts`);
  console.log(`  REST API   ${lab.apiUrl}  (OpenAPI at ${lab.apiUrl}/docs)`);
  console.log(`  token      ${lab.token}  (admin; also in ${lab.tokenFile})`);
  console.log(`  logs       ${lab.runDir}`);
  for (const h of lab.plan.hosts) console.log(`  host ${h.name.padEnd(6)} ${h.ip.padEnd(18)} ${h.mac}`);
}

export async function labUp(topologyFile: string, apiPort: number, switches: 'soft' | 'ovs' = 'soft', dataDir?: string): Promise<void> {
  const lab = await startLab({ topologyFile, apiPort, switches, ...(dataDir ? { dataDir } : {}) });
  describe(lab);
  console.log(`try: export ${TOKEN_ENV}=$(cat ${lab.tokenFile})`);
  console.log(`     overcast lab ping ${lab.plan.hosts[0]?.name ?? 'h1'} ${lab.plan.hosts.at(-1)?.name ?? 'h2'} --api ${lab.apiUrl}`);
  console.log('Ctrl-C stops every process the lab started.');
  await stopOnSignal(lab.stop);
}

/** The quick start: bring the demo up, show traffic crossing it, stay up until Ctrl-C (or exit with --exit). */
export async function labDemo(topologyFile: string, apiPort: number, exitAfter: boolean): Promise<number> {
  const lab = await startLab({ topologyFile, apiPort });
  describe(lab);
  let failures = 0;
  const hosts = lab.plan.hosts.map((h) => h.name);
  try {
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        const r = await labPing(lab.apiUrl, lab.token, hosts[i], hosts[j], 2);
        printPing(r);
        if (r.received === 0) failures++;
      }
    }
    const { switches } = await apiRequest<{ switches: { dpid: number; installedFlows: number; packets?: { rx: number; tx: number } }[] }>(lab.apiUrl, lab.token, 'GET', '/v1/switches');
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

export function labCompose(topologyFile: string, image: string): string {
  const topology = parseTopology(fs.readFileSync(topologyFile, 'utf8'), topologyFile);
  const plan = planLab(topology, composeAddressing(8080, 6633));
  return renderCompose(plan, topologyFile, image);
}
