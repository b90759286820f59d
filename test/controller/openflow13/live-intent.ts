/**
 * A topology on Open vSwitch bridges programmed by our controller with intent tables (flows, groups
 * and meters, as the incremental compiler returns them), for the intent differential tests.
 */
import { Controller, type DesiredTables } from '../../../src/controller/controller.js';
import type { ControllerEvent } from '../../../src/controller/events.js';
import { listenOpenFlow, type OpenFlowServer } from '../../../src/controller/openflow13/index.js';
import type { FlowEntry, GroupEntry, MeterEntry } from '../../../src/flow/index.js';
import type { Topology } from '../../../src/model/index.js';
import { startOvsLab, type OvsLab } from '../../../src/lab/lab-ovs.js';
import { silent, waitSynced } from './helpers.js';

export interface LiveIntent {
  lab: OvsLab;
  controller: Controller;
  server: OpenFlowServer;
  events: ControllerEvent[];
  stop(): Promise<void>;
}

export async function startLiveIntent(
  topology: Topology,
  tables: ReadonlyMap<number, readonly FlowEntry[]>,
  groups: ReadonlyMap<number, readonly GroupEntry[]>,
  meters: ReadonlyMap<number, readonly MeterEntry[]> = new Map(),
): Promise<LiveIntent> {
  const controller = new Controller({ logger: silent, nowMs: () => performance.now() });
  const events: ControllerEvent[] = [];
  controller.events.subscribe((e) => events.push(e));
  const desired = new Map<number, DesiredTables>(
    topology.switches.map((s) => [s.dpid, { flows: [...(tables.get(s.dpid) ?? [])], groups: [...(groups.get(s.dpid) ?? [])], meters: [...(meters.get(s.dpid) ?? [])] }]),
  );
  await controller.setDesired(desired);
  const server = await listenOpenFlow(controller, '127.0.0.1', 0, silent);
  let lab: OvsLab;
  try {
    lab = await startOvsLab({ topology, controller: `tcp:127.0.0.1:${server.port}`, controllerMaxBackoffMs: 1000 });
  } catch (e) {
    controller.close();
    await server.close();
    throw e;
  }
  try {
    await waitSynced(events, topology.switches.map((s) => s.dpid));
  } catch (e) {
    controller.close();
    await server.close();
    await lab.stop();
    throw e;
  }
  return {
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
