/**
 * A leaf-spine fabric with VPCs for the compiler's behaviour tests: 2 spines, 4 leaves; leaf ports 1-4
 * carry the topology's own hosts (the underlay), 5-6 the uplinks, 7-12 are free for VPC endpoints.
 * Two VPCs, "red" and "blue", use the SAME address plan (10.0.0.0/16: subnets 10.0.0.0/24 and
 * 10.0.1.0/24, gateways .1) and even share one endpoint MAC, with endpoints on several leaves.
 * A frame simulator moves real frames (src/net) through the reference classifier and the shared
 * pipeline executor, switch to switch.
 */
import { LinearClassifier } from '../../src/classifier/index.js';
import { compileMatch, PIPELINE, TABLE_COUNT, type FlowEntry } from '../../src/flow/index.js';
import { createExecResult, createPipelineExecutor, type FlowHandle, type PipelineExecutor } from '../../src/flow/execute.js';
import { blockLabel, vniBlock, vniLabel } from '../../src/compiler/index.js';
import { generateLeafSpine, type Endpoint, type Intent, type Subnet, type Topology, type Vpc } from '../../src/model/index.js';

/** Each up link's far end, by "dpid:port" of its near end (the simulators hand frames across with it). */
export function linkPeers(topology: Topology): Map<string, { dpid: number; port: number }> {
  const dpidOf = new Map(topology.switches.map((s) => [s.name, s.dpid]));
  const peer = new Map<string, { dpid: number; port: number }>();
  for (const l of topology.links) {
    if (!l.up) continue;
    peer.set(`${dpidOf.get(l.a.switch)}:${l.a.port}`, { dpid: dpidOf.get(l.b.switch) ?? 0, port: l.b.port });
    peer.set(`${dpidOf.get(l.b.switch)}:${l.b.port}`, { dpid: dpidOf.get(l.a.switch) ?? 0, port: l.a.port });
  }
  return peer;
}

export function vpcTopology(): Topology {
  const t = generateLeafSpine(2, 4, 4);
  return {
    ...t,
    switches: t.switches.map((s) => (s.name.startsWith('leaf') ? { ...s, ports: Array.from({ length: 12 }, (_, i) => ({ number: i + 1 })) } : s)),
  };
}

export const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

export function vpc(id: string, vni: number): Vpc {
  return { id, name: id, vni, cidr: { network: ip(10, 0, 0, 0), prefixLength: 16 } };
}

export function subnet(id: string, vpcId: string, third: number): Subnet {
  return { id, vpcId, name: id, cidr: { network: ip(10, 0, third, 0), prefixLength: 24 }, gateway: ip(10, 0, third, 1) };
}

export function endpoint(id: string, vpcId: string, subnetId: string, dpid: number, port: number, mac: number, address: number): Endpoint {
  return { id, kind: 'container', vpcId, subnetId, dpid, port, mac, ip: address, labels: {} };
}

/** An untagged frame with MPLS label stack entries (top first) between its Ethernet header and its payload. */
export function withLabels(frame: Uint8Array, labels: readonly number[], ttl = 64): Buffer {
  const b = Buffer.alloc(frame.length + 4 * labels.length);
  Buffer.from(frame).copy(b, 0, 0, 12);
  b.writeUInt16BE(0x8847, 12);
  labels.forEach((label, i) => b.writeUInt32BE(((label << 12) | (i === labels.length - 1 ? 0x100 : 0) | ttl) >>> 0, 14 + 4 * i));
  Buffer.from(frame).copy(b, 14 + 4 * labels.length, 14);
  return b;
}

/** The label stack (top first) that carries a VNI between switches. */
export function vpcLabels(vni: number): number[] {
  return [blockLabel(vniBlock(vni)), vniLabel(vni)];
}

/** red and blue: same CIDRs, same IPs on different leaves, one MAC in both (VNIs 1 and 2 unless given). */
export function twoVpcIntent(vnis: { red: number; blue: number } = { red: 1, blue: 2 }): Intent {
  const vpcs = [vpc('red', vnis.red), vpc('blue', vnis.blue)];
  const subnets = [subnet('red-a', 'red', 0), subnet('red-b', 'red', 1), subnet('blue-a', 'blue', 0), subnet('blue-b', 'blue', 1)];
  const endpoints = [
    endpoint('r1', 'red', 'red-a', 101, 7, 0x0200000a0001, ip(10, 0, 0, 10)),
    endpoint('r2', 'red', 'red-a', 102, 7, 0x0200000a0002, ip(10, 0, 0, 11)),
    endpoint('r3', 'red', 'red-a', 101, 8, 0x0200000a0003, ip(10, 0, 0, 12)),
    endpoint('r4', 'red', 'red-b', 103, 7, 0x0200000a0004, ip(10, 0, 1, 10)),
    endpoint('r5', 'red', 'red-b', 104, 7, 0x0200000a0005, ip(10, 0, 1, 11)),
    // blue: the same IPs, on other leaves and ports; b1 shares r1's MAC.
    endpoint('b1', 'blue', 'blue-a', 102, 8, 0x0200000a0001, ip(10, 0, 0, 10)),
    endpoint('b2', 'blue', 'blue-a', 101, 9, 0x0200000b0002, ip(10, 0, 0, 11)),
    endpoint('b3', 'blue', 'blue-a', 103, 8, 0x0200000b0003, ip(10, 0, 0, 12)),
    endpoint('b4', 'blue', 'blue-b', 104, 8, 0x0200000b0004, ip(10, 0, 1, 10)),
    endpoint('b5', 'blue', 'blue-b', 101, 10, 0x0200000b0005, ip(10, 0, 1, 11)),
  ];
  return {
    vpcs: new Map(vpcs.map((v) => [v.id, v])),
    subnets: new Map(subnets.map((s) => [s.id, s])),
    endpoints: new Map(endpoints.map((e) => [e.id, e])),
  };
}

export interface Received {
  /** `endpoint:<id>`, `host:<name>` or `port:<dpid>:<port>`. */
  to: string;
  frame: Uint8Array;
}

/** Moves frames through per-switch tables; says who received what and which switches were visited. */
export function createFrameSim(topology: Topology, tables: ReadonlyMap<number, readonly FlowEntry[]>, intent: Intent) {
  const executors = new Map<number, PipelineExecutor>();
  for (const sw of topology.switches) {
    const byTable = new Map<number, LinearClassifier<FlowHandle>>();
    (tables.get(sw.dpid) ?? []).forEach((flow, id) => {
      let c = byTable.get(flow.table);
      if (!c) byTable.set(flow.table, (c = new LinearClassifier<FlowHandle>()));
      c.insert({ id, priority: flow.priority, match: compileMatch(flow.match), payload: { flow } });
    });
    executors.set(
      sw.dpid,
      createPipelineExecutor({
        lookup: (table, key) => byTable.get(table)?.lookup(key)?.payload,
        ports: sw.ports.map((p) => p.number),
        tableMiss: (table) => PIPELINE[table]?.miss ?? 'drop',
        tableCount: TABLE_COUNT,
      }),
    );
  }
  const dpidOf = new Map(topology.switches.map((s) => [s.name, s.dpid]));
  const nameOf = new Map(topology.switches.map((s) => [s.dpid, s.name]));
  const peer = linkPeers(topology);
  const at = new Map<string, string>();
  for (const h of topology.hosts) at.set(`${dpidOf.get(h.attach.switch)}:${h.attach.port}`, `host:${h.name}`);
  for (const e of intent.endpoints.values()) at.set(`${e.dpid}:${e.port}`, `endpoint:${e.id}`);

  function send(dpid: number, port: number, frame: Uint8Array): { received: Received[]; path: string[] } {
    const received: Received[] = [];
    const path: string[] = [];
    const queue = [{ dpid, port, frame }];
    while (queue.length > 0) {
      if (path.length > 64) throw new Error(`forwarding loop: ${path.join(' > ')}`);
      const hop = queue.shift() as (typeof queue)[number];
      path.push(nameOf.get(hop.dpid) ?? `${hop.dpid}`);
      const r = (executors.get(hop.dpid) as PipelineExecutor).run(hop.frame, hop.port, createExecResult());
      for (let i = 0; i < r.outCount; i++) {
        const out = Uint8Array.from(r.outFrames[i]);
        const next = peer.get(`${hop.dpid}:${r.outPorts[i]}`);
        if (next) queue.push({ dpid: next.dpid, port: next.port, frame: out });
        else received.push({ to: at.get(`${hop.dpid}:${r.outPorts[i]}`) ?? `port:${hop.dpid}:${r.outPorts[i]}`, frame: out });
      }
    }
    return { received, path };
  }

  return {
    send,
    fromEndpoint(e: Endpoint, frame: Uint8Array) {
      return send(e.dpid, e.port, frame);
    },
  };
}
