/**
 * The softswitch pipeline with connection tracking against the same pipeline without it, in the same
 * run: frames/s through the executor and the switch's flow tables, in process (no sockets, so the ct
 * cost is not hidden behind the socket path's). The pipeline is a security-group shape: ingress tables,
 * then `ct(zone, table=T)`, a rule stage that commits allowed new connections and passes established
 * ones, then output; the baseline replaces ct by a goto and matches the same rules without ct_state.
 * Traffic: --connections TCP connections set up first (handshake through the pipeline), then their
 * segments in both directions, round robin.
 *
 *   node scripts/run-bench.js conntrack -- [--connections 10000] [--frames 200000] [--rounds 5]
 *
 * Rounds alternate and the best of each is kept (a shared machine only ever slows a run down); the
 * ratio with/without is the figure docs/conntrack.md holds (target >= 0.8).
 */
import { createExecResult, createPipelineExecutor, type ExecResult } from '../src/flow/execute.js';
import { CT_STATE, ConnTable, createPacketKey, ct, extractKey, output, type FlowEntry, type Match } from '../src/flow/index.js';
import { TCP_ACK, TCP_SYN, buildTcpFrame } from '../src/net/index.js';
import { FlowTables, createFlowClassifier, type InstalledFlow } from '../src/switch/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}

const TABLES = 8;
const ZONE = 1;
const IP: Match = { ethType: 0x0800 };
const { TRK, NEW, EST } = CT_STATE;
const flow = (table: number, priority: number, match: Match, actions: FlowEntry['actions'], gotoTable?: number): FlowEntry => ({
  table,
  priority,
  match,
  actions,
  cookie: table + 1,
  ...(gotoTable === undefined ? {} : { gotoTable }),
});

/** Tables 0-3 pass IP on (ingress, routing stand-ins); 4 tracks; 5 is the rule stage; 6 outputs. */
function pipeline(withCt: boolean): FlowEntry[] {
  const flows: FlowEntry[] = [];
  for (let t = 0; t < 4; t++) flows.push(flow(t, 10, { ...IP, inPort: 1 }, [], t + 1), flow(t, 10, { ...IP, inPort: 2 }, [], t + 1));
  const est = { value: TRK | EST, mask: TRK | EST };
  const neu = { value: TRK | NEW, mask: TRK | NEW };
  if (withCt) {
    flows.push(flow(4, 10, IP, [ct(ZONE, { table: 5 })]));
    flows.push(flow(5, 30, { ...IP, inPort: 1, ipProto: 6, tcpDst: 80, ctState: neu }, [ct(ZONE, { commit: true })], 6));
    flows.push(flow(5, 20, { ...IP, ctState: est }, [], 6));
  } else {
    flows.push(flow(4, 10, IP, [], 5));
    flows.push(flow(5, 30, { ...IP, inPort: 1, ipProto: 6, tcpDst: 80 }, [], 6));
    flows.push(flow(5, 20, { ...IP, inPort: 2, ipProto: 6, tcpSrc: 80 }, [], 6));
  }
  flows.push(flow(6, 10, { inPort: 1 }, [output(2)]), flow(6, 10, { inPort: 2 }, [output(1)]));
  return flows;
}

interface Rig {
  run(frame: Uint8Array, inPort: number): ExecResult<InstalledFlow>;
}

function rig(withCt: boolean): Rig {
  const tables = new FlowTables(TABLES, createFlowClassifier, () => 0);
  for (const f of pipeline(withCt)) tables.apply({ command: 'add', flow: f });
  const conntrack = new ConnTable({ zoneLimit: 0 }, () => 0);
  const exec = createPipelineExecutor<InstalledFlow>({
    lookup: (t, k) => tables.lookup(t, k),
    ports: [1, 2],
    tableMiss: 'drop',
    tableCount: TABLES,
    ...(withCt ? { conntrack } : {}),
  });
  const result = createExecResult<InstalledFlow>();
  return { run: (frame, inPort) => exec.run(frame, inPort, result, { mutable: false }) };
}

const CLIENT = 0x0a000001;
const SERVER_BASE = 0x0a010000;

/** Connection i: client port and server address (spread so the 5-tuples differ in several fields). */
function tcp(i: number, fromClient: boolean, flags: number, seq: number, ack: number): Buffer {
  const cport = 10000 + (i % 50000);
  const server = (SERVER_BASE + Math.floor(i / 50000)) >>> 0;
  return buildTcpFrame({
    srcMac: fromClient ? 1 : 2,
    dstMac: fromClient ? 2 : 1,
    srcIp: fromClient ? CLIENT : server,
    dstIp: fromClient ? server : CLIENT,
    srcPort: fromClient ? cport : 80,
    dstPort: fromClient ? 80 : cport,
    seq,
    ack,
    flags,
  });
}

function main(): void {
  const connections = arg('connections', 10000);
  const frames = arg('frames', 200_000);
  const rounds = arg('rounds', 5);
  const rigs = { ct: rig(true), plain: rig(false) };
  // Handshakes through both pipelines (the plain one simply forwards them).
  const traffic: { frame: Buffer; inPort: number }[] = [];
  for (let i = 0; i < connections; i++) {
    const syn = tcp(i, true, TCP_SYN, 1000, 0);
    const synAck = tcp(i, false, TCP_SYN | TCP_ACK, 5000, 1001);
    const ack = tcp(i, true, TCP_ACK, 1001, 5001);
    for (const r of Object.values(rigs)) {
      r.run(syn, 1);
      r.run(synAck, 2);
      r.run(ack, 1);
    }
    traffic.push({ frame: tcp(i, true, TCP_ACK, 1001, 5001), inPort: 1 }, { frame: tcp(i, false, TCP_ACK, 5001, 1001), inPort: 2 });
  }
  for (const [name, r] of Object.entries(rigs)) {
    const res = r.run(traffic[1].frame, traffic[1].inPort);
    if (res.outCount !== 1) throw new Error(`${name}: an established reply did not pass (${res.drop})`);
  }
  const best = { ct: Infinity, plain: Infinity };
  for (let round = 0; round < rounds; round++) {
    for (const name of ['plain', 'ct'] as const) {
      const r = rigs[name];
      let out = 0;
      const t0 = process.hrtime.bigint();
      for (let n = 0; n < frames; n++) {
        const p = traffic[n % traffic.length];
        out += r.run(p.frame, p.inPort).outCount;
      }
      const ns = Number(process.hrtime.bigint() - t0) / frames;
      if (out !== frames) throw new Error(`${name}: ${frames - out} frames dropped`);
      best[name] = Math.min(best[name], ns);
    }
  }
  // The connection table alone: key extraction plus track, against key extraction alone.
  const table = new ConnTable({ zoneLimit: 0 }, () => 0);
  const key = createPacketKey();
  for (let i = 0; i < connections; i++) {
    for (const [frame, commit] of [
      [tcp(i, true, TCP_SYN, 1000, 0), true],
      [tcp(i, false, TCP_SYN | TCP_ACK, 5000, 1001), false],
      [tcp(i, true, TCP_ACK, 1001, 5001), false],
    ] as const) {
      extractKey(frame, 1, 0, key);
      table.track(key, frame, ZONE, commit, undefined);
    }
  }
  const perFrame = (fn: (frame: Buffer, inPort: number) => void): number => {
    let b = Infinity;
    for (let round = 0; round < rounds; round++) {
      const t0 = process.hrtime.bigint();
      for (let n = 0; n < frames; n++) {
        const p = traffic[n % traffic.length];
        fn(p.frame, p.inPort);
      }
      b = Math.min(b, Number(process.hrtime.bigint() - t0) / frames);
    }
    return b;
  };
  const extractOnly = perFrame((f, port) => extractKey(f, port, 0, key));
  const tracked = perFrame((f, port) => {
    extractKey(f, port, 0, key);
    table.track(key, f, ZONE, false, undefined);
  });
  const fps = (ns: number) => Math.round(1e9 / ns);
  console.log(`connections ${connections}, ${frames} frames per round, best of ${rounds} rounds (in process, no sockets)`);
  console.log(`without ct: ${fps(best.plain).toLocaleString('en-US')} frames/s (${best.plain.toFixed(0)} ns/frame)`);
  console.log(`with ct:    ${fps(best.ct).toLocaleString('en-US')} frames/s (${best.ct.toFixed(0)} ns/frame)`);
  console.log(`ratio with/without: ${(best.plain / best.ct).toFixed(2)}x (target >= 0.80)`);
  console.log(`the connection table alone: ${(tracked - extractOnly).toFixed(0)} ns per tracked frame (${table.size} connections)`);
}

main();
