/** `overcast controller`: the controller process (native channel, REST API), as the lab and containers run it. */
import fs from 'node:fs';
import type { Logger } from 'pino';
import { buildApi } from '../api/server.js';
import { compileFabric } from '../compiler/index.js';
import { Controller, type DesiredTables } from '../controller/controller.js';
import { createLabService } from '../controller/lab-service.js';
import { listenNative } from '../controller/native/native-server.js';
import { parseTopology, type Topology } from '../model/index.js';
import { formatIpv4, formatMac } from '../net/index.js';
import { parseUrlAddress } from './addresses.js';
import type { LabPlan } from './lab-plan.js';

export interface ControllerCommandOptions {
  topology: string;
  listen: string;
  apiPort: number;
  apiHost: string;
  labPlan?: string;
}

export function topologyJson(t: Topology) {
  return {
    name: t.name,
    switches: t.switches.map((s) => ({ name: s.name, dpid: s.dpid, ports: s.ports })),
    links: t.links.map((l) => ({ a: l.a, b: l.b, up: l.up })),
    hosts: t.hosts.map((h) => ({ name: h.name, mac: formatMac(h.mac), ip: `${formatIpv4(h.ip)}/${h.prefixLength}`, attach: h.attach })),
  };
}

export function desiredFromTopology(topology: Topology): Map<number, DesiredTables> {
  const flows = compileFabric(topology);
  return new Map([...flows].map(([dpid, f]) => [dpid, { flows: f, groups: [] }]));
}

export async function runControllerCommand(o: ControllerCommandOptions, logger: Logger): Promise<() => Promise<void>> {
  const topology = parseTopology(fs.readFileSync(o.topology, 'utf8'), o.topology);
  const controller = new Controller({ logger, nowMs: () => performance.now() });
  await controller.setDesired(desiredFromTopology(topology));
  const listen = parseUrlAddress(o.listen, 'tcp');
  const native = await listenNative(controller, listen.host, listen.port, logger);
  const plan = o.labPlan ? (JSON.parse(fs.readFileSync(o.labPlan, 'utf8')) as LabPlan) : undefined;
  const api = await buildApi(
    {
      controller,
      topology: () => topologyJson(topology),
      ...(plan ? { lab: createLabService(topology, plan.hosts) } : {}),
    },
    logger,
  );
  await api.listen({ port: o.apiPort, host: o.apiHost });
  logger.info({ api: `http://${o.apiHost}:${o.apiPort}`, native: native.port, topology: topology.name }, 'controller up');
  return async () => {
    await api.close();
    controller.close();
    await native.close();
  };
}
