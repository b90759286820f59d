/**
 * Fixture for elastic IP and load balancer tests: the VPC fixture's leaf-spine with a gateway on leaf1
 * port 11 (public pool 203.0.113.0/28), one VPC with function endpoints, and a frame simulator that
 * runs real frames through the shared executor WITH select groups (the compiler's groups per switch).
 */
import { LinearClassifier } from '../../src/classifier/index.js';
import { compileMatch, PIPELINE, TABLE_COUNT, type FlowEntry, type GroupEntry } from '../../src/flow/index.js';
import { createExecResult, createPipelineExecutor, type FlowHandle, type PipelineExecutor } from '../../src/flow/execute.js';
import type { Endpoint, GatewaySpec, Intent, Topology } from '../../src/model/index.js';
import { ip, linkPeers, subnet, vpc, vpcTopology } from './vpc-fixture.js';

export const GW_MAC = 0x0a00000000fe;
export const ROUTER_MAC = 0x020000000110;
export const OUTSIDE_IP = ip(198, 51, 100, 10);
export const GW_IP = ip(198, 51, 100, 1);
export const GW_DPID = 101;
export const GW_PORT = 11;

export function gatewayTopology(): Topology {
  const gw: GatewaySpec = {
    name: 'gw1',
    attach: { switch: 'leaf1', port: GW_PORT },
    mac: GW_MAC,
    ip: GW_IP,
    prefixLength: 24,
    routerMac: ROUTER_MAC,
    publicPool: { network: ip(203, 0, 113, 0), prefixLength: 28 },
  };
  return { ...vpcTopology(), gateways: [gw] };
}

export const GW2_MAC = 0x0a00000000fd;
export const GW2_DPID = 104;

/** gatewayTopology with a second gateway, gw2 on leaf4 port 11, serving the same pool. */
export function twoGatewayTopology(): Topology {
  const t = gatewayTopology();
  const gw1 = (t.gateways ?? [])[0];
  return { ...t, gateways: [gw1, { ...gw1, name: 'gw2', attach: { switch: 'leaf4', port: GW_PORT }, mac: GW2_MAC }] };
}

export function fnEndpoint(id: string, dpid: number, port: number, n: number, labels: Record<string, string> = {}): Endpoint {
  return { id, kind: 'function', vpcId: 'red', subnetId: 'red-a', dpid, port, mac: 0x020000c00000 + n, ip: ip(10, 0, 0, 10 + n), labels };
}

export function serviceIntent(endpoints: Endpoint[]): Intent {
  return {
    vpcs: new Map([['red', vpc('red', 1)]]),
    subnets: new Map([['red-a', subnet('red-a', 'red', 0)]]),
    endpoints: new Map(endpoints.map((e) => [e.id, e])),
    elasticIps: new Map(),
    loadBalancers: new Map(),
  };
}

export interface Delivered {
  to: string;
  frame: Uint8Array;
}

/** A meter instruction seen by the simulator: may a packet pass meter `meterId` on switch `dpid`? */
export type SimMeter = (dpid: number, meterId: number, bytes: number) => boolean;

/** One executor per switch over its compiled flows (the reference classifier) and groups. */
export function executorsFor(
  topology: Topology,
  tables: ReadonlyMap<number, readonly FlowEntry[]>,
  groups: ReadonlyMap<number, readonly GroupEntry[]>,
  meter?: SimMeter,
): Map<number, PipelineExecutor> {
  const executors = new Map<number, PipelineExecutor>();
  for (const sw of topology.switches) {
    const byTable = new Map<number, LinearClassifier<FlowHandle>>();
    (tables.get(sw.dpid) ?? []).forEach((flow, id) => {
      let c = byTable.get(flow.table);
      if (!c) byTable.set(flow.table, (c = new LinearClassifier<FlowHandle>()));
      c.insert({ id, priority: flow.priority, match: compileMatch(flow.match), payload: { flow } });
    });
    const gs = new Map((groups.get(sw.dpid) ?? []).map((g) => [g.groupId, g]));
    executors.set(
      sw.dpid,
      createPipelineExecutor({
        lookup: (table, key) => byTable.get(table)?.lookup(key)?.payload,
        group: (id) => gs.get(id),
        ...(meter ? { meter: (meterId: number, bytes: number) => meter(sw.dpid, meterId, bytes) } : {}),
        ports: sw.ports.map((p) => p.number),
        tableMiss: (table) => PIPELINE[table]?.miss ?? 'drop',
        tableCount: TABLE_COUNT,
      }),
    );
  }
  return executors;
}

/** Switch-to-switch frame simulator with groups; `at` names what sits on edge ports. */
export function createServiceSim(
  topology: Topology,
  tables: ReadonlyMap<number, readonly FlowEntry[]>,
  groups: ReadonlyMap<number, readonly GroupEntry[]>,
  endpoints: Iterable<Endpoint>,
  meter?: SimMeter,
) {
  const executors = executorsFor(topology, tables, groups, meter);
  const dpidOf = new Map(topology.switches.map((s) => [s.name, s.dpid]));
  const peer = linkPeers(topology);
  const at = new Map<string, string>();
  for (const g of topology.gateways ?? []) at.set(`${dpidOf.get(g.attach.switch)}:${g.attach.port}`, `gateway:${g.name}`);
  for (const e of endpoints) at.set(`${e.dpid}:${e.port}`, `endpoint:${e.id}`);
  let packetIns = 0;
  /** The frames the switches sent to the controller, as sent (after any rewrite before the output). */
  const packetInFrames: { dpid: number; inPort: number; cookie: number; frame: Uint8Array }[] = [];

  function send(dpid: number, port: number, frame: Uint8Array): Delivered[] {
    const out: Delivered[] = [];
    const queue = [{ dpid, port, frame }];
    let hops = 0;
    while (queue.length > 0) {
      if (hops++ > 64) throw new Error('forwarding loop');
      const hop = queue.shift() as (typeof queue)[number];
      const r = (executors.get(hop.dpid) as PipelineExecutor).run(hop.frame, hop.port, createExecResult());
      packetIns += r.packetIns.length;
      for (const pi of r.packetIns) packetInFrames.push({ dpid: hop.dpid, inPort: hop.port, cookie: pi.cookie, frame: Uint8Array.from(pi.frame) });
      for (let i = 0; i < r.outCount; i++) {
        const f = Uint8Array.from(r.outFrames[i]);
        const next = peer.get(`${hop.dpid}:${r.outPorts[i]}`);
        if (next) queue.push({ dpid: next.dpid, port: next.port, frame: f });
        else out.push({ to: at.get(`${hop.dpid}:${r.outPorts[i]}`) ?? `port:${hop.dpid}:${r.outPorts[i]}`, frame: f });
      }
    }
    return out;
  }
  return {
    send,
    get packetIns() {
      return packetIns;
    },
    packetInFrames,
  };
}
