import { describe, expect, it } from 'vitest';
import { createExecResult, createPipelineExecutor, trimResult, type PipelineEnv, type TraceStep } from '../../src/flow/execute.js';
import {
  CT_STATE,
  ConnTable,
  conjunction,
  createPacketKey,
  ct,
  extractKey,
  group,
  output,
  setField,
  type FlowEntry,
  type Match,
} from '../../src/flow/index.js';
import { TCP_ACK, TCP_SYN, buildTcpFrame, buildUdpFrame } from '../../src/net/index.js';
import { FlowTables, createFlowClassifier, type InstalledFlow } from '../../src/switch/index.js';

const { NEW, EST, TRK } = CT_STATE;
const flow = (table: number, priority: number, match: Match, actions: FlowEntry['actions']): FlowEntry => ({ table, priority, match, actions, cookie: 0 });
const IP = { ethType: 0x0800 };

/**
 * A two-port stateful firewall: port 1 may open TCP connections to port 80 behind port 2; port 2's
 * traffic passes only as replies. Table 0 sends IP through ct (zone 5) into table 1.
 */
function firewall(conntrack: ConnTable | undefined) {
  const tables = new FlowTables(4, createFlowClassifier, () => 0);
  const add = (f: FlowEntry) => tables.apply({ command: 'add', flow: f });
  add(flow(0, 10, IP, [ct(5, { table: 1 })]));
  add(flow(1, 30, { ...IP, inPort: 1, ipProto: 6, tcpDst: 80, ctState: { value: TRK | NEW, mask: TRK | NEW } }, [ct(5, { commit: true, mark: { value: 1, mask: 1 } }), output(2)]));
  add(flow(1, 20, { inPort: 1, ctState: { value: TRK | EST, mask: TRK | EST } }, [output(2)]));
  add(flow(1, 20, { inPort: 2, ctState: { value: TRK | EST, mask: TRK | EST } }, [output(1)]));
  const env: PipelineEnv<InstalledFlow> = { lookup: (t, k) => tables.lookup(t, k), ports: [1, 2], tableMiss: 'drop', tableCount: 4 };
  if (conntrack) env.conntrack = conntrack;
  const exec = createPipelineExecutor(env);
  const send = (frame: Uint8Array, inPort: number, trace?: TraceStep[]) => {
    const r = trimResult(exec.run(frame, inPort, createExecResult(), trace ? { trace } : {}));
    return { out: r.outPorts, drop: r.drop };
  };
  return { tables, send };
}

const segment = (fromClient: boolean, flags: number, seq: number, ack: number, port = 80) =>
  buildTcpFrame({
    srcMac: fromClient ? 1 : 2,
    dstMac: fromClient ? 2 : 1,
    srcIp: fromClient ? 0x0a000001 : 0x0a000002,
    dstIp: fromClient ? 0x0a000002 : 0x0a000001,
    srcPort: fromClient ? 40000 : port,
    dstPort: fromClient ? port : 40000,
    seq,
    ack,
    flags,
  });

describe('ct in the pipeline', () => {
  it('commits an allowed connection; its replies pass, unsolicited traffic does not', () => {
    const table = new ConnTable({}, () => 0);
    const fw = firewall(table);
    expect(fw.send(segment(false, TCP_SYN, 1, 0), 2)).toEqual({ out: [], drop: 'tableMiss' });
    expect(fw.send(segment(true, TCP_SYN, 100, 0), 1).out).toEqual([2]);
    expect(fw.send(segment(false, TCP_SYN | TCP_ACK, 7000, 101), 2).out).toEqual([1]);
    expect(fw.send(segment(true, TCP_ACK, 101, 7001), 1).out).toEqual([2]);
    // A port the rules do not allow: never committed, so its reply is invalid and dropped.
    expect(fw.send(segment(true, TCP_SYN, 100, 0, 81), 1).drop).toBe('tableMiss');
    expect(fw.send(segment(false, TCP_SYN | TCP_ACK, 7000, 101, 81), 2).drop).toBe('tableMiss');
    expect([...table.connections()]).toEqual([expect.objectContaining({ zone: 5, mark: 1, dstPort: 80 })]);
  });

  it('traces the ct fields and the recirculation', () => {
    const fw = firewall(new ConnTable({}, () => 0));
    const steps: TraceStep[] = [];
    fw.send(segment(true, TCP_SYN, 100, 0), 1, steps);
    expect(steps.filter((s) => s.kind === 'conntrack' || s.kind === 'recirculate')).toEqual([
      { kind: 'conntrack', zone: 5, state: TRK | NEW, mark: 0 },
      { kind: 'recirculate', table: 1 },
      { kind: 'conntrack', zone: 5, state: TRK | NEW, mark: 1 },
    ]);
  });

  it('without a connection table, ct answers a new connection (as ofproto/trace assumes)', () => {
    const fw = firewall(undefined);
    expect(fw.send(segment(true, TCP_SYN, 100, 0), 1).out).toEqual([2]);
    expect(fw.send(segment(false, TCP_SYN | TCP_ACK, 7000, 101), 2).drop).toBe('tableMiss');
  });

  it('drops a commit over the zone limit as conntrackLimit', () => {
    const fw = firewall(new ConnTable({ zoneLimit: 1 }, () => 0));
    expect(fw.send(segment(true, TCP_SYN, 100, 0), 1).out).toEqual([2]);
    const other = buildTcpFrame({ srcMac: 1, dstMac: 2, srcIp: 0x0a000001, dstIp: 0x0a000002, srcPort: 40001, dstPort: 80, seq: 5, flags: TCP_SYN });
    expect(fw.send(other, 1)).toEqual({ out: [], drop: 'conntrackLimit' });
  });

  it('bounds recirculation', () => {
    const tables = new FlowTables(2, createFlowClassifier, () => 0);
    tables.apply({ command: 'add', flow: flow(0, 1, IP, [ct(1, { table: 0 })]) });
    const exec = createPipelineExecutor({ lookup: (t, k) => tables.lookup(t, k), ports: [1], tableMiss: 'drop', tableCount: 2 });
    const r = exec.run(buildUdpFrame({ srcMac: 1, dstMac: 2, srcIp: 3, dstIp: 4, srcPort: 5, dstPort: 6 }), 1, createExecResult());
    expect(r.drop).toBe('recirculationLimit');
  });

  it('a select bucket\'s ct with a table recirculates with the bucket\'s packet (a load balancer\'s local backend)', () => {
    // Table 0: to the VIP (10.0.0.100) -> select group 1, whose bucket rewrites to the backend and
    // recirculates into table 1 (tracked in zone 7), which lets the backend's port 80 through only.
    const tables = new FlowTables(2, createFlowClassifier, () => 0);
    tables.apply({ command: 'add', flow: { ...flow(0, 10, { ...IP, ipv4Dst: 0x0a000064 }, [group(1)]), writeMetadata: { value: 9, mask: 0xff } } });
    tables.apply({ command: 'add', flow: flow(1, 20, { ...IP, ipv4Dst: 0x0a000002, ipProto: 6, tcpDst: 80, ctZone: 7, ctState: { value: TRK | NEW, mask: TRK | NEW } }, [output(2)]) });
    const groups = new Map([[1, { groupId: 1, type: 'select' as const, buckets: [{ weight: 1, actions: [setField('ipv4Dst', 0x0a000002), ct(7, { table: 1 })] }] }]]);
    const trace: TraceStep[] = [];
    const exec = createPipelineExecutor({ lookup: (t, k) => tables.lookup(t, k), group: (id) => groups.get(id), ports: [1, 2], tableMiss: 'drop', tableCount: 2, conntrack: new ConnTable({}, () => 0) });
    const to = (dstPort: number) => buildTcpFrame({ srcMac: 1, dstMac: 2, srcIp: 0x0a000001, dstIp: 0x0a000064, srcPort: 40000, dstPort, seq: 1, flags: TCP_SYN });
    const r = trimResult(exec.run(to(80), 1, createExecResult(), { trace }));
    expect(r.outPorts).toEqual([2]);
    expect(Buffer.from(r.outFrames[0]).readUInt32BE(30)).toBe(0x0a000002);
    // The recirculated pass carries the metadata as it was at the ct: the flow's write_metadata
    // comes after its actions (Open vSwitch's instruction order).
    expect(trace.filter((t) => t.kind === 'metadata')).toEqual([]);
    expect(trimResult(exec.run(to(22), 1, createExecResult())).drop).toBe('tableMiss');
  });
});

describe('conjunctive match in the flow tables', () => {
  const udp = (src: number, dstPort: number) => {
    const key = createPacketKey();
    extractKey(buildUdpFrame({ srcMac: 1, dstMac: 2, srcIp: src, dstIp: 0x0a000063, srcPort: 1000, dstPort }), 1, 0, key);
    return key;
  };
  // Sources {.1, .2} x ports {53, 80} as conjunction 7; .3 is allowed everywhere at a lower priority.
  function conjTables() {
    const t = new FlowTables(1, createFlowClassifier, () => 0);
    const add = (f: FlowEntry) => t.apply({ command: 'add', flow: f });
    add(flow(0, 100, { ...IP, ipv4Src: 0x0a000001 }, [conjunction(7, 1, 2)]));
    add(flow(0, 100, { ...IP, ipv4Src: 0x0a000002 }, [conjunction(7, 1, 2), conjunction(8, 1, 2)]));
    add(flow(0, 100, { ...IP, ipProto: 17, udpDst: 53 }, [conjunction(7, 2, 2)]));
    add(flow(0, 100, { ...IP, ipProto: 17, udpDst: 80 }, [conjunction(7, 2, 2)]));
    add(flow(0, 100, { conjId: 7 }, [output(9)]));
    add(flow(0, 10, { ...IP, ipv4Src: 0x0a000003 }, [output(3)]));
    add(flow(0, 0, {}, []));
    return t;
  }
  const outOf = (f: InstalledFlow | undefined) => (f?.flow.actions[0]?.type === 'output' ? f.flow.actions[0].port : 'drop');

  it('runs the conj_id flow when every clause matched, and only then', () => {
    const t = conjTables();
    expect(outOf(t.lookup(0, udp(0x0a000001, 53)))).toBe(9);
    expect(outOf(t.lookup(0, udp(0x0a000002, 80)))).toBe(9);
    expect(outOf(t.lookup(0, udp(0x0a000001, 81)))).toBe('drop');
    expect(outOf(t.lookup(0, udp(0x0a000003, 53)))).toBe(3);
    // Conjunction 8 has no second clause: never complete.
    expect(outOf(t.lookup(0, udp(0x0a000002, 81)))).toBe('drop');
    // The key comes back with conjId zero.
    const key = udp(0x0a000001, 53);
    t.lookup(0, key);
    expect(key.every((w, i) => w === udp(0x0a000001, 53)[i])).toBe(true);
  });

  it('an ordinary flow above the conjunction wins; removing a clause breaks the conjunction', () => {
    const t = conjTables();
    t.apply({ command: 'add', flow: flow(0, 200, { ...IP, ipProto: 17, udpDst: 80 }, [output(4)]) });
    expect(outOf(t.lookup(0, udp(0x0a000001, 80)))).toBe(4);
    expect(outOf(t.lookup(0, udp(0x0a000001, 53)))).toBe(9);
    t.apply({ command: 'deleteStrict', flow: flow(0, 100, { ...IP, ipProto: 17, udpDst: 53 }, []) });
    expect(outOf(t.lookup(0, udp(0x0a000001, 53)))).toBe('drop');
    expect(t.size).toBe(7);
  });

  it('a modify that turns a clause into an ordinary flow moves it', () => {
    const t = conjTables();
    t.apply({ command: 'modifyStrict', flow: flow(0, 100, { ...IP, ipv4Src: 0x0a000001 }, [output(5)]) });
    expect(outOf(t.lookup(0, udp(0x0a000001, 81)))).toBe(5);
    expect(outOf(t.lookup(0, udp(0x0a000002, 53)))).toBe(9);
  });
});
