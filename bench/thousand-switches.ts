/**
 * A controller for a thousand switches: 1,000 softswitches (in a few worker processes,
 * bench/switch-host.lib.ts, each with its own native channel over TCP) on a leaf-spine fabric with
 * VPCs of OVN's workload, then two reconnect storms, each resynced with zero churn:
 *   - the controller restarted (a new Controller on the same port, desired tables recompiled): every
 *     switch reconnects, is read back and gets no flow-mod, since nothing changed;
 *   - every channel cut at once on a running controller: the same.
 * Measured: connect and first sync, each storm's time to every switch synced again, the flow-mods and
 * group-mods sent in each storm (target 0), and GET /v1/switches (one page of 1,000, and every page of
 * 100) against that controller.
 *
 *   node scripts/run-bench.js thousand-switches -- [--switches 1000] [--vpcs 200] [--workers 4]
 */
import fastify from 'fastify';
import os from 'node:os';
import { pino } from 'pino';
import { installErrorHandler } from '../src/api/error-handler.js';
import { registerSwitchRoutes } from '../src/api/routes/switches.js';
import type { ApiServices } from '../src/api/services.js';
import { createIncrementalCompiler } from '../src/compiler/index.js';
import { Controller } from '../src/controller/controller.js';
import type { ControllerEvent } from '../src/controller/events.js';
import { tablesToDesired } from '../src/controller/intent-runtime.js';
import { listenNative, type NativeServer } from '../src/controller/native/native-server.js';
import { ovnTopology, ovnWorkload } from './ovn-workload.lib.js';
import { runSwitchHostIfChild, startSwitchHosts, type SwitchHosts } from './switch-host.lib.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const SWITCHES = Number(flag('switches', '1000'));
const VPCS = Number(flag('vpcs', '200'));
const WORKERS = Number(flag('workers', '4'));
const SPINES = 8;
const logger = pino({ level: 'silent' });

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

interface Running {
  controller: Controller;
  server: NativeServer;
  events: ControllerEvent[];
}

async function startController(desired: ReturnType<typeof tablesToDesired>, port: number): Promise<Running> {
  const controller = new Controller({ logger, nowMs: () => performance.now() });
  const events: ControllerEvent[] = [];
  controller.events.subscribe((e) => events.push(e));
  await controller.setDesired(desired);
  const server = await listenNative(controller, '127.0.0.1', port, logger);
  return { controller, server, events };
}

/** Resolves when every switch is connected and synced; returns the time it took. */
async function allSynced(c: Controller, n: number, since: number, timeoutMs = 600_000): Promise<number> {
  const done = () => {
    const s = c.status();
    return s.length === n && s.every((x) => x.connected && x.installedFlows === x.desiredFlows && (x.counters?.syncs ?? 0) > 0);
  };
  const until = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > until) throw new Error(`not every switch synced after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - since;
}

/** Flow-mods and group-mods the controller's sessions sent since they were created. */
function churn(c: Controller): { flowMods: number; groupMods: number } {
  let flowMods = 0;
  let groupMods = 0;
  for (const s of c.status()) {
    flowMods += s.counters?.flowModsSent ?? 0;
    groupMods += s.counters?.groupModsSent ?? 0;
  }
  return { flowMods, groupMods };
}

async function main(): Promise<void> {
  const topology = ovnTopology(SPINES, SWITCHES - SPINES);
  const work = ovnWorkload(topology, VPCS);
  let t = performance.now();
  const compiler = createIncrementalCompiler(topology, work.intent);
  const desired = tablesToDesired(compiler.tables(), compiler.groups());
  const compileMs = performance.now() - t;
  const flows = [...desired.values()].map((d) => d.flows.length);
  console.log(
    `${SWITCHES} softswitches (leaf-spine ${SPINES}x${SWITCHES - SPINES} + gateway, ${VPCS} VPCs of the OVN workload) in ${WORKERS} worker processes; ` +
      `compile ${compileMs.toFixed(0)} ms; flows per switch ${Math.min(...flows)}..${Math.max(...flows)} (median ${percentile(flows, 50)}), ${flows.reduce((a, b) => a + b, 0)} in all; load ${os.loadavg()[0].toFixed(1)}`,
  );

  let run = await startController(desired, 0);
  const port = run.server.port;
  t = performance.now();
  const hosts: SwitchHosts = await startSwitchHosts({ workers: WORKERS, switches: topology.switches.map((s) => ({ dpid: s.dpid })), controllerPort: port });
  const firstSync = await allSynced(run.controller, SWITCHES, t);
  const installed = await hosts.stats();
  if (installed.some((s) => s.flows !== (desired.get(s.dpid)?.flows.length ?? 0))) throw new Error('a switch holds other flows than desired');
  const failures = (events: ControllerEvent[]) => {
    const failed = events.filter((e): e is Extract<ControllerEvent, { type: 'switch.sync-failed' }> => e.type === 'switch.sync-failed');
    const why = new Map<string, number>();
    for (const e of failed) why.set(e.error.replace(/xid \d+/, 'xid N'), (why.get(e.error.replace(/xid \d+/, 'xid N')) ?? 0) + 1);
    return `${events.filter((e) => e.type === 'switch.connected').length} connects, ${failed.length} failed syncs${failed.length ? ` (${[...why].map(([w, n]) => `${n}x ${w}`).join('; ')})` : ''}`;
  };
  console.log(`connect + first sync of all ${SWITCHES}: ${(firstSync / 1000).toFixed(1)} s (${failures(run.events)})`);

  // The switch list, against a thousand sessions.
  const app = fastify();
  installErrorHandler(app);
  registerSwitchRoutes(app, { controller: run.controller } as unknown as ApiServices);
  await app.ready();
  const listMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const r = await app.inject({ method: 'GET', url: '/v1/switches?limit=1000' });
    listMs.push(performance.now() - t0);
    if ((r.json() as { switches: unknown[] }).switches.length !== Math.min(1000, SWITCHES)) throw new Error('short page');
  }
  const walkMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    let cursor: string | null = '';
    let seen = 0;
    while (cursor !== null) {
      const r = await app.inject({ method: 'GET', url: `/v1/switches?limit=100${cursor ? `&cursor=${cursor}` : ''}` });
      const body = r.json() as { switches: unknown[]; next: string | null };
      seen += body.switches.length;
      cursor = body.next;
    }
    if (seen !== SWITCHES) throw new Error(`walked ${seen} switches`);
    walkMs.push(performance.now() - t0);
  }
  console.log(
    `GET /v1/switches?limit=1000: p50 ${percentile(listMs, 50).toFixed(1)} ms, p99 ${percentile(listMs, 99).toFixed(1)} ms; every page of 100: ${percentile(walkMs, 50).toFixed(1)} ms (no round trip to any switch)`,
  );
  await app.close();

  // Storm 1: the controller restarts; the switches keep their flows and reconnect.
  run.controller.close();
  await run.server.close();
  t = performance.now();
  run = await startController(desired, port);
  const restartMs = await allSynced(run.controller, SWITCHES, t);
  const afterRestart = churn(run.controller);
  console.log(`storm 1, controller restarted: all ${SWITCHES} resynced in ${(restartMs / 1000).toFixed(1)} s; churn ${afterRestart.flowMods} flow-mods, ${afterRestart.groupMods} group-mods (target 0)`);

  // Storm 2: every channel cut at once on the running controller.
  const before = churn(run.controller);
  const sessions = run.controller.status().map((s) => run.controller.session(s.dpid));
  t = performance.now();
  for (const s of sessions) s?.connection.close();
  // Wait for the cut to be seen before waiting for the resync (a session replaced by a new one).
  await new Promise((r) => setTimeout(r, 50));
  const cutMs = await allSynced(run.controller, SWITCHES, t);
  const afterCut = churn(run.controller);
  const reconnects = run.events.filter((e) => e.type === 'switch.connected').length;
  console.log(
    `storm 2, every channel cut: all ${SWITCHES} resynced in ${(cutMs / 1000).toFixed(1)} s (${reconnects - SWITCHES} reconnects seen); churn ${afterCut.flowMods - (sessions.length === 0 ? before.flowMods : 0)} flow-mods, ${afterCut.groupMods} group-mods (target 0)`,
  );
  const still = await hosts.stats();
  if (still.some((s) => !s.connected || s.flows !== (desired.get(s.dpid)?.flows.length ?? 0))) throw new Error('a switch lost flows or its channel');
  console.log(`controller RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB, switch workers RSS ${hosts.rssMb().toFixed(0)} MB`);
  await hosts.stop();
  run.controller.close();
  await run.server.close();
}

if (!runSwitchHostIfChild()) await main();
