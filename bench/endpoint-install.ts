/**
 * One endpoint added and installed: the latency from the request to the barrier replies of every
 * switch that had to change (issue 4's target: under 5 ms at p99). Everything real except the HTTP
 * hop: the intent service writes the SQLite store (WAL, synchronous=FULL) in a transaction, the
 * incremental compiler computes the delta, the controller sends flow-mods and barriers over TCP to six
 * softswitches (leaf-spine, one process here, native channel) and waits for their replies.
 * Baseline in the same run: the same add with the store in memory (no fsync), to show what durability costs.
 *
 *   npm run bench -- endpoint-install     (or: node scripts/run-bench.js endpoint-install -- --adds 300 --vpcs 100)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Controller } from '../src/controller/controller.js';
import { createIntentService } from '../src/controller/intent/index.js';
import { startIntentRuntime } from '../src/controller/intent-runtime.js';
import { listenNative } from '../src/controller/native/native-server.js';
import { openIntentStore, openIntentStoreInDir } from '../src/controller/store/index.js';
import { parseTopology, type Topology } from '../src/model/index.js';
import { createSoftSwitch } from '../src/switch/index.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const ADDS = Number(flag('adds', '300'));
const VPCS = Number(flag('vpcs', '100'));
const logger = pino({ level: 'silent' });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(topology: Topology, durable: boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overcast-bench-'));
  const store = durable ? openIntentStoreInDir(dir) : openIntentStore(':memory:');
  const intent = await createIntentService({ seedTopology: topology }, { store, logger });
  const controller = new Controller({ logger, nowMs: () => performance.now() });
  const runtime = await startIntentRuntime(intent, controller, logger);
  const server = await listenNative(controller, '127.0.0.1', 0, logger);
  const switches = topology.switches.map((s) =>
    createSoftSwitch(
      { dpid: s.dpid, controller: { host: '127.0.0.1', port: server.port }, ports: s.ports.map((p) => ({ portNo: p.number, name: `p${p.number}`, localHost: '127.0.0.1', localPort: 0 })) },
      { logger },
    ),
  );
  for (const sw of switches) await sw.start();
  await controller.events.waitFor(() => controller.status().every((s) => s.connected && s.installedFlows === s.desiredFlows), 20_000).catch(() => undefined);
  while (!controller.status().every((s) => s.connected && s.installedFlows === s.desiredFlows)) await new Promise((r) => setTimeout(r, 20));

  // Background: VPCS VPCs with 2 subnets each and a few endpoints, so tables are not empty.
  const leaves = topology.switches.filter((s) => s.name.startsWith('leaf'));
  const vpcs: { id: string; subnet: string }[] = [];
  let portCursor = 0;
  const nextPort = () => {
    const leaf = leaves[portCursor % leaves.length];
    const port = 1 + Math.floor(portCursor / leaves.length);
    portCursor++;
    return { dpid: leaf.dpid, port };
  };
  for (let i = 0; i < VPCS; i++) {
    const vpc = await intent.vpcs.create({ name: `v${i}`, cidr: '10.0.0.0/16' });
    const a = await intent.subnets.create(vpc.id, { cidr: '10.0.1.0/24' });
    await intent.subnets.create(vpc.id, { cidr: '10.0.2.0/24' });
    vpcs.push({ id: vpc.id, subnet: a.id });
    if (i % 10 === 0) await intent.endpoints.create({ kind: 'container', vpc: vpc.id, subnet: a.id, ...nextPort() });
  }
  await runtime.settled();
  const flows = controller.status().map((s) => s.installedFlows);

  const samples: number[] = [];
  for (let i = 0; i < ADDS; i++) {
    const v = vpcs[i % vpcs.length];
    const t0 = performance.now();
    const ep = await intent.endpoints.create({ kind: 'function', vpc: v.id, subnet: v.subnet, ...nextPort() });
    await runtime.settled();
    samples.push(performance.now() - t0);
    await intent.endpoints.delete(ep.id);
    await runtime.settled();
    portCursor--; // reuse the port
  }
  for (const sw of switches) await sw.stop();
  controller.close();
  await server.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples[samples.length - 1], flows };
}

const topology = parseTopology(fs.readFileSync('topologies/leaf-spine-vpc.yaml', 'utf8').replace(/ports: \[1, 2, 3, 4, 5, 6\]/g, `ports: [${Array.from({ length: 60 }, (_, i) => i + 1).filter((n) => n !== 5 && n !== 6).join(', ')}, 5, 6]`));
console.log(`add one endpoint, request -> barrier replies from every changed switch (leaf-spine, 6 softswitches over TCP, ${VPCS} VPCs, ${ADDS} adds; load average ${os.loadavg()[0].toFixed(1)})`);
const memory = await run(topology, false);
const durable = await run(topology, true);
console.log(`flows per switch: ${durable.flows.join(', ')}`);
console.log(`store      p50 ms   p99 ms   max ms`);
console.log(`memory   ${memory.p50.toFixed(2).padStart(7)}  ${memory.p99.toFixed(2).padStart(7)}  ${memory.max.toFixed(2).padStart(7)}`);
console.log(`sqlite   ${durable.p50.toFixed(2).padStart(7)}  ${durable.p99.toFixed(2).padStart(7)}  ${durable.max.toFixed(2).padStart(7)}   (x${(durable.p50 / memory.p50).toFixed(2)} p50 for fsync'd durability)`);
console.log(`target: p99 < 5 ms -> ${durable.p99 < 5 ? 'met' : 'not met'}`);
