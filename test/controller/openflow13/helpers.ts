/** Shared setup of the live Open vSwitch controller tests: a topology on OVS bridges, our controller. */
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { giveUp, notYet, waitFor } from '../../support/wait-for.js';
import { compileFabric } from '../../../src/compiler/index.js';
import { Controller, type DesiredTables } from '../../../src/controller/controller.js';
import type { ControllerEvent } from '../../../src/controller/events.js';
import { listenOpenFlow, ofctlFlow, stableDump, type OpenFlowServer } from '../../../src/controller/openflow13/index.js';
import type { FlowEntry } from '../../../src/flow/index.js';
import type { Topology } from '../../../src/model/index.js';
import { startOvsLab, type OvsLab } from '../../../src/lab/lab-ovs.js';

export const silent = pino({ level: 'silent' });

export function desiredOf(tables: Map<number, FlowEntry[]>): Map<number, DesiredTables> {
  return new Map([...tables].map(([dpid, flows]) => [dpid, { flows, groups: [] }]));
}

export interface LiveFabric {
  topology: Topology;
  tables: Map<number, FlowEntry[]>;
  lab: OvsLab;
  controller: Controller;
  server: OpenFlowServer;
  events: ControllerEvent[];
  stop(): Promise<void>;
}

/** Waits until every switch of the topology has connected and synced once (after `since` events). */
export async function waitSynced(events: ControllerEvent[], dpids: number[], since = 0, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    `${dpids.length} switches to sync`,
    () => {
      const failed = events.slice(since).find((e) => e.type === 'switch.sync-failed');
      if (failed) return giveUp(failed);
      const synced = new Set(events.slice(since).flatMap((e) => (e.type === 'switch.synced' ? [e.dpid] : [])));
      return dpids.every((d) => synced.has(d)) || notYet({ synced: [...synced] });
    },
    { timeoutMs },
  );
}

export async function startLiveFabric(topology: Topology): Promise<LiveFabric> {
  const tables = compileFabric(topology);
  const controller = new Controller({ logger: silent, nowMs: () => performance.now() });
  const events: ControllerEvent[] = [];
  controller.events.subscribe((e) => events.push(e));
  await controller.setDesired(desiredOf(tables));
  const server = await listenOpenFlow(controller, '127.0.0.1', 0, silent);
  const lab = await startOvsLab({ topology, controller: `tcp:127.0.0.1:${server.port}`, controllerMaxBackoffMs: 1000 });
  await waitSynced(events, topology.switches.map((s) => s.dpid));
  return {
    topology,
    tables,
    lab,
    controller,
    server,
    events,
    async stop() {
      controller.close();
      await server.close();
      await lab.stop();
    },
  };
}

/**
 * What OVS itself makes of our desired flows as ovs-ofctl text: loaded into a scratch bridge with
 * `ovs-ofctl add-flows` and dumped. Independent of our binary codec.
 */
export async function referenceDump(lab: OvsLab, flows: readonly FlowEntry[], scratch = 'ref'): Promise<string[]> {
  const { ovs } = lab;
  await ovs.vsctl('--may-exist', 'add-br', scratch, '--', 'set', 'bridge', scratch, 'datapath_type=dummy', 'fail-mode=secure', 'protocols=OpenFlow13');
  await ovs.ofctl('-O', 'OpenFlow13', 'del-flows', scratch);
  const file = `${ovs.dir}/ref-flows.txt`;
  writeFileSync(file, flows.map(ofctlFlow).join('\n') + '\n');
  await ovs.ofctl('-O', 'OpenFlow13', 'add-flows', scratch, file);
  return stableDump(await ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', scratch));
}

export async function bridgeDump(lab: OvsLab, bridge: string): Promise<string[]> {
  return stableDump(await lab.ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', bridge));
}
