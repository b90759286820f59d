/**
 * Frames through compiled tables with state: each switch is the softswitch's own flow tables (which
 * resolve conjunctive matches) and a connection table, so a test can open a connection, change the
 * intent, install the new tables and see what the same connection's next packet meets.
 */
import { PIPELINE, TABLE_COUNT, ConnTable, type FlowEntry, type GroupEntry } from '../../src/flow/index.js';
import { createExecResult, createPipelineExecutor, type PipelineExecutor } from '../../src/flow/execute.js';
import { FlowTables, createFlowClassifier } from '../../src/switch/index.js';
import { buildTcpFrame, buildUdpFrame } from '../../src/net/index.js';
import { GATEWAY_MAC, type Endpoint, type Intent, type Topology } from '../../src/model/index.js';
import { linkPeers } from './vpc-fixture.js';


export interface StatefulSim {
  /** Replaces every switch's flows and groups (connection tables stay). */
  install(tables: ReadonlyMap<number, readonly FlowEntry[]>, groups?: ReadonlyMap<number, readonly GroupEntry[]>): void;
  /** Sends from an endpoint; returns the ids of the endpoints that received it ([] when dropped). */
  send(from: Endpoint, frame: Uint8Array): string[];
  /**
   * Sends into a switch port (an uplink, say); returns where it left the fabric (an endpoint's id,
   * `gateway:name` or `port:dpid:port`) with the frame as it left.
   */
  sendAt(dpid: number, port: number, frame: Uint8Array): { to: string; frame: Uint8Array }[];
  /** A switch's connection table. */
  conntrack(dpid: number): ConnTable;
}

export function createStatefulSim(topology: Topology, intent: Intent): StatefulSim {
  const switches = new Map<number, { exec: PipelineExecutor; conntrack: ConnTable }>();
  const install = (all: ReadonlyMap<number, readonly FlowEntry[]>, groups?: ReadonlyMap<number, readonly GroupEntry[]>) => {
    for (const sw of topology.switches) {
      const gs = new Map((groups?.get(sw.dpid) ?? []).map((g) => [g.groupId, g]));
      const conntrack = switches.get(sw.dpid)?.conntrack ?? new ConnTable({}, () => 0);
      const tables = new FlowTables(TABLE_COUNT, createFlowClassifier, () => 0);
      for (const flow of all.get(sw.dpid) ?? []) tables.apply({ command: 'add', flow });
      const exec = createPipelineExecutor({
        lookup: (t, k) => tables.lookup(t, k),
        group: (id) => gs.get(id),
        ports: sw.ports.map((p) => p.number),
        tableMiss: (t) => PIPELINE[t]?.miss ?? 'drop',
        tableCount: TABLE_COUNT,
        conntrack,
      });
      switches.set(sw.dpid, { exec, conntrack });
    }
  };
  const peer = linkPeers(topology);
  const at = new Map<string, string>();
  for (const e of intent.endpoints.values()) at.set(`${e.dpid}:${e.port}`, e.id);
  const dpidOf = new Map(topology.switches.map((s) => [s.name, s.dpid]));
  for (const g of topology.gateways ?? []) at.set(`${dpidOf.get(g.attach.switch)}:${g.attach.port}`, `gateway:${g.name}`);
  return {
    install,
    conntrack: (dpid) => {
      const sw = switches.get(dpid);
      if (!sw) throw new Error(`no switch ${dpid}`);
      return sw.conntrack;
    },
    send: (from, frame) => sendAt(from.dpid, from.port, frame).map((d) => d.to),
    sendAt,
  };

  function sendAt(dpid: number, port: number, frame: Uint8Array): { to: string; frame: Uint8Array }[] {
    const received: { to: string; frame: Uint8Array }[] = [];
    const queue = [{ dpid, port, frame }];
    for (let hops = 0; queue.length > 0; hops++) {
      if (hops > 64) throw new Error('forwarding loop');
      const hop = queue.shift() as (typeof queue)[number];
      const sw = switches.get(hop.dpid) as { exec: PipelineExecutor };
      const r = sw.exec.run(hop.frame, hop.port, createExecResult());
      for (let i = 0; i < r.outCount; i++) {
        const out = Uint8Array.from(r.outFrames[i]);
        const next = peer.get(`${hop.dpid}:${r.outPorts[i]}`);
        if (next) queue.push({ dpid: next.dpid, port: next.port, frame: out });
        else received.push({ to: at.get(`${hop.dpid}:${r.outPorts[i]}`) ?? `port:${hop.dpid}:${r.outPorts[i]}`, frame: out });
      }
    }
    return received;
  }
}

/** TCP flags (OpenFlow's tcp_flags bits). */
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const ACK = 0x10;

/** A TCP segment from `a` to `b` (routed through the gateway MAC when their subnets differ). */
export function tcp(a: Endpoint, b: Endpoint, o: { srcPort: number; dstPort: number; flags: number; seq?: number; ack?: number; payload?: Buffer }): Buffer {
  const dstMac = a.subnetId === b.subnetId ? b.mac : GATEWAY_MAC;
  return buildTcpFrame({ srcMac: a.mac, dstMac, srcIp: a.ip, dstIp: b.ip, srcPort: o.srcPort, dstPort: o.dstPort, flags: o.flags, seq: o.seq ?? 0, ack: o.ack ?? 0, payload: o.payload });
}

export function udp(a: Endpoint, b: Endpoint, srcPort: number, dstPort: number): Buffer {
  const dstMac = a.subnetId === b.subnetId ? b.mac : GATEWAY_MAC;
  return buildUdpFrame({ srcMac: a.mac, dstMac, srcIp: a.ip, dstIp: b.ip, srcPort, dstPort, payload: Buffer.from('x') });
}

/**
 * A whole TCP handshake and one data segment each way from `a`:`srcPort` to `b`:`dstPort`; returns
 * who received each of the five segments and a function to send one more data segment from `a`.
 */
export function handshake(sim: StatefulSim, a: Endpoint, b: Endpoint, srcPort: number, dstPort: number) {
  const seqA = 1000;
  const seqB = 5000;
  const got = [
    sim.send(a, tcp(a, b, { srcPort, dstPort, flags: SYN, seq: seqA })),
    sim.send(b, tcp(b, a, { srcPort: dstPort, dstPort: srcPort, flags: SYN | ACK, seq: seqB, ack: seqA + 1 })),
    sim.send(a, tcp(a, b, { srcPort, dstPort, flags: ACK, seq: seqA + 1, ack: seqB + 1 })),
    sim.send(a, tcp(a, b, { srcPort, dstPort, flags: ACK, seq: seqA + 1, ack: seqB + 1, payload: Buffer.from('GET') })),
    sim.send(b, tcp(b, a, { srcPort: dstPort, dstPort: srcPort, flags: ACK, seq: seqB + 1, ack: seqA + 4, payload: Buffer.from('OK') })),
  ];
  let sent = 3;
  return {
    got,
    more: () => {
      const r = sim.send(a, tcp(a, b, { srcPort, dstPort, flags: ACK, seq: seqA + 4 + sent, ack: seqB + 3, payload: Buffer.from('x') }));
      sent += 1;
      return r;
    },
  };
}
