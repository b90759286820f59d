/**
 * A controller with its intent runtime and native channel, and the topology's softswitches in worker
 * processes (switch-host.lib.ts) connected to it, started and waited on until every switch holds its
 * desired tables: what the install-latency benches (endpoint-install, volumes, security-groups) measure
 * against. Everything real except the HTTP hop.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Controller } from '../src/controller/controller.js';
import type { IntentService } from '../src/controller/intent/index.js';
import { startIntentRuntime, type IntentRuntime } from '../src/controller/intent-runtime.js';
import { listenNative } from '../src/controller/native/native-server.js';
import type { Topology } from '../src/model/index.js';
import { startSwitchHosts, type SwitchHosts } from './switch-host.lib.js';

export interface InstalledController {
  controller: Controller;
  runtime: IntentRuntime;
  hosts: SwitchHosts;
  /** From the runtime's start to every switch in sync. */
  firstSyncMs: number;
  /** CPU time (s) spent over firstSyncMs: the controller's process, and the switch workers' (their start included). */
  firstSyncCpuSec: { controller: number; switches: number };
  /** Reconciles run during the first sync, over all switches: one each when no push failed and had to be retried. */
  firstSyncReconciles: number;
  /** Flows each switch acknowledged, in status order. */
  installedFlows(): number[];
  /** Throws when a switch lost its channel during the run, then stops everything. */
  stop(): Promise<void>;
}

export async function startInstalledController(
  intent: IntentService,
  topology: Topology,
  o: { workers: number; logger: Logger; syncTimeoutMs?: number; switchHeapMb?: number },
): Promise<InstalledController> {
  const controller = new Controller({ logger: o.logger, nowMs: () => performance.now() });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const runtime = await startIntentRuntime(intent, controller, o.logger);
  const server = await listenNative(controller, '127.0.0.1', 0, o.logger);
  const hosts = await startSwitchHosts({ workers: o.workers, switches: topology.switches.map((s) => ({ dpid: s.dpid })), controllerPort: server.port, heapMb: o.switchHeapMb });
  const inSync = () => controller.status().every((s) => s.connected && s.installedFlows === s.desiredFlows);
  await controller.events.waitFor(inSync, o.syncTimeoutMs ?? 600_000).catch(() => undefined);
  while (!inSync()) await new Promise((r) => setTimeout(r, 50));
  const firstSyncMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await hosts.stats();
  const firstSyncCpuSec = { controller: (cpu.user + cpu.system) / 1e6, switches: hosts.cpuSec() };
  const firstSyncReconciles = controller.status().reduce((n, s) => n + (s.counters?.syncs ?? 0), 0);
  return {
    controller,
    runtime,
    hosts,
    firstSyncMs,
    firstSyncCpuSec,
    firstSyncReconciles,
    installedFlows: () => controller.status().map((s) => s.installedFlows),
    async stop() {
      const stats = await hosts.stats();
      await hosts.stop();
      runtime.stop();
      controller.close();
      await server.close();
      if (stats.some((s) => !s.connected)) throw new Error('a switch lost its channel');
    },
  };
}
