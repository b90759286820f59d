/**
 * ovn-trace for Overcast: one packet through the compiled tables, switch after switch over the
 * topology's links, with the shared pipeline executor (src/flow/execute.ts) in trace mode, so the trace
 * shows exactly what a softswitch would do. Pure: tables, topology and the packet in, the story out:
 * per switch the tables hit, the flows matched (with their owner), rewrites, and where every copy of
 * the packet leaves the fabric or is dropped. Backs POST /v1/trace.
 */
import {
  compileMatch,
  ConjunctionClauses,
  CT_STATE,
  formatCtState,
  isConjunctionClause,
  createPacketKey,
  extractKey,
  EXTRACT_OK,
  FIELDS,
  formatFlow,
  K,
  keyMatches,
  mplsOffset,
  PIPELINE,
  TABLE_COUNT,
  tableName,
  type CompiledMatch,
  type FieldName,
  type FlowEntry,
  type GroupEntry,
} from '../flow/index.js';
import { createExecResult, PipelineExecutor, trimResult, type ConntrackHook, type DropReason, type FlowHandle, type TraceStep } from '../flow/execute.js';
import type { Intent, Topology } from '../model/index.js';
import { ETH_TYPE_ARP, ETH_TYPE_IPV4, ETH_TYPE_MPLS, MPLS_LSE_LEN } from '../net/packet/constants.js';
import { buildArpReply, buildArpRequest } from '../net/packet/arp.js';
import { buildIcmpEchoFrame } from '../net/packet/icmp.js';
import { buildTcpFrame } from '../net/packet/tcp.js';
import { buildUdpFrame } from '../net/packet/udp.js';
import type { OwnerName } from './owner-registry.js';
import { explainSecurityFlow } from './trace-security.js';
import { vniOfLabels } from './vpc-encoding.js';

/** A packet to trace, described by its headers (the API's JSON body, addresses as numbers). */
export type TracePacket =
  | {
      kind: 'udp' | 'tcp' | 'icmp';
      ethSrc: number;
      ethDst: number;
      ipv4Src: number;
      ipv4Dst: number;
      ttl?: number;
      /** UDP/TCP ports (default 40000 -> 7). */
      l4Src?: number;
      l4Dst?: number;
      /** An 802.1Q VLAN id (0..4095) to tag the frame with. */
      vlan?: number;
    }
  | {
      kind: 'arp';
      op: 'request' | 'reply';
      ethSrc: number;
      /** Default broadcast for a request, arpTha for a reply. */
      ethDst?: number;
      arpSha: number;
      arpSpa: number;
      arpTpa: number;
      /** Replies only (requests carry zero). */
      arpTha?: number;
      vlan?: number;
    };

export interface TraceStart {
  dpid: number;
  inPort: number;
  /** The packet by description, or raw Ethernet bytes. */
  packet: TracePacket | Uint8Array;
}

export interface TraceOptions {
  /** Names a cookie's owner (IncrementalCompiler.describeCookie). */
  describeCookie?: (cookie: number) => OwnerName | undefined;
  /** Names the endpoint behind an exit port. */
  intent?: Intent;
  /** Each switch's groups (load balancers' select groups), so the walk follows their buckets. */
  groups?: ReadonlyMap<number, readonly GroupEntry[]>;
  /** Bound on switches visited (a forwarding loop is reported, not followed forever). Default 64. */
  maxHops?: number;
  /**
   * What every `ct` finds (CT_STATE bits; default TRK | NEW, a new connection, as ofproto/trace
   * assumes): trace TRK | EST | RPL to follow a reply of an allowed connection.
   */
  ctState?: number;
}

export interface TraceTableStep {
  table: string;
  /** The matched flow, or undefined on a table miss. */
  flow?: { cookie: number; priority: number; owner?: OwnerName; text: string };
  miss?: string;
  /** At a security-group or network-ACL verdict: the rule that allowed or dropped the packet. */
  rule?: string;
}

/**
 * The headers of a frame where it leaves (numbers, as in a flow match). An MPLS frame shows its top
 * entry, its depth (`mplsDepth`) and, when the stack is a VPC's two labels, the VNI they carry.
 */
export type HeaderSummary = Partial<Record<FieldName | 'ipTtl' | 'mplsDepth' | 'vni', number>>;

export type ExitTarget =
  | { kind: 'switch'; switch: string; dpid: number; port: number }
  | { kind: 'host'; host: string }
  | { kind: 'endpoint'; endpoint: string }
  | { kind: 'port' };

export interface TraceHop {
  dpid: number;
  switch: string;
  inPort: number;
  tables: TraceTableStep[];
  rewrites: { field: string; from: number; to: number }[];
  /** Each `ct` the packet went through: its zone, the state it found (`+new+trk`) and the mark. */
  conntrack: { zone: number; state: string; mark: number }[];
  outputs: { port: number; to: ExitTarget; headers: HeaderSummary }[];
  /** Why this copy stopped here without an output. */
  drop?: DropReason;
}

export interface IntentTrace {
  hops: TraceHop[];
  /** Where copies of the packet left the fabric (to a host, an endpoint or an unknown port). */
  exits: { dpid: number; switch: string; port: number; to: ExitTarget; headers: HeaderSummary; frame: Uint8Array }[];
  /** 'linkDown': output onto a link that is down (the compiler never does that; stale tables might). */
  drops: { dpid: number; switch: string; reason: DropReason | 'linkDown'; table?: string; owner?: OwnerName; rule?: string }[];
  /** True when the walk hit maxHops (a loop). */
  truncated: boolean;
}

export function buildTraceFrame(p: TracePacket): Uint8Array {
  const vlan = p.vlan === undefined ? undefined : { vid: p.vlan };
  if (p.kind === 'arp') {
    return p.op === 'request'
      ? buildArpRequest({ srcMac: p.ethSrc, srcIp: p.arpSpa, targetIp: p.arpTpa, dstMac: p.ethDst, vlan })
      : buildArpReply({ srcMac: p.arpSha, srcIp: p.arpSpa, dstMac: p.arpTha ?? p.ethDst ?? 0, dstIp: p.arpTpa, vlan });
  }
  const ip = { srcMac: p.ethSrc, dstMac: p.ethDst, srcIp: p.ipv4Src, dstIp: p.ipv4Dst, ttl: p.ttl, vlan };
  if (p.kind === 'udp') return buildUdpFrame({ ...ip, srcPort: p.l4Src ?? 40000, dstPort: p.l4Dst ?? 7 });
  if (p.kind === 'tcp') return buildTcpFrame({ ...ip, srcPort: p.l4Src ?? 40000, dstPort: p.l4Dst ?? 7 });
  return buildIcmpEchoFrame({ ...ip, type: 'request', id: 1, seq: 1 });
}

interface Compiled {
  flow: FlowEntry;
  match: CompiledMatch;
}

/** Compiled matches per flow object: engine flows keep their identity, so repeated traces reuse them. */
const compiledMatches = new WeakMap<FlowEntry, CompiledMatch>();

/** A connection tracker that finds `state` for every packet (the trace follows one assumed state). */
function fixedConntrack(state: number): ConntrackHook {
  return {
    track(key, _frame, zone, commit, mark) {
      key[K.CT_STATE] = state;
      key[K.CT_ZONE] = zone;
      key[K.CT_MARK] = commit && mark !== undefined ? (mark.value & mark.mask) >>> 0 : 0;
      return true;
    },
  };
}

function lookupFor(flows: readonly FlowEntry[]): (table: number, key: Uint32Array) => FlowHandle | undefined {
  const byTable: Compiled[][] = Array.from({ length: TABLE_COUNT }, () => []);
  for (const flow of flows) {
    let match = compiledMatches.get(flow);
    if (!match) compiledMatches.set(flow, (match = compileMatch(flow.match)));
    byTable[flow.table]?.push({ flow, match });
  }
  for (const t of byTable) t.sort((x, y) => y.flow.priority - x.flow.priority);
  const conj = byTable.map((t) => {
    const clauses = new ConjunctionClauses<Compiled>();
    for (const c of t) if (isConjunctionClause(c.flow.actions)) clauses.add(c, c.flow.priority, c.match, c.flow.actions);
    return clauses;
  });
  const ordinary = (table: number, key: Uint32Array): Compiled | undefined => {
    for (const c of byTable[table] ?? []) if (keyMatches(key, c.match) && !isConjunctionClause(c.flow.actions)) return c;
    return undefined;
  };
  return (table, key) => {
    const hard = ordinary(table, key);
    const clauses = conj[table];
    if (clauses === undefined || clauses.size === 0) return hard;
    return clauses.resolve(key, hard, hard === undefined ? -1 : hard.flow.priority, (k) => ordinary(table, k));
  };
}

function summarize(frame: Uint8Array): HeaderSummary {
  const key = createPacketKey();
  if (extractKey(frame, 0, 0, key) !== EXTRACT_OK) return {};
  const read = (f: FieldName) => {
    const slots = FIELDS[f].slots;
    return slots.length === 2 ? key[slots[0]] * 2 ** 32 + key[slots[1]] : key[slots[0]];
  };
  const fields: FieldName[] = ['ethSrc', 'ethDst', 'vlanVid', 'ethType'];
  if (read('ethType') === ETH_TYPE_IPV4) fields.push('ipv4Src', 'ipv4Dst', 'ipProto');
  if (read('ethType') === ETH_TYPE_ARP) fields.push('arpOp', 'arpSha', 'arpSpa', 'arpTha', 'arpTpa');
  if (read('ethType') === ETH_TYPE_MPLS) fields.push('mplsLabel', 'mplsBos');
  const out: HeaderSummary = {};
  for (const f of fields) out[f] = read(f);
  if (read('ethType') === ETH_TYPE_IPV4) out.ipTtl = key[K.IP_TTL];
  if (read('ethType') === ETH_TYPE_MPLS) {
    const top = key[K.L3_OFFSET] - MPLS_LSE_LEN * 2;
    out.mplsDepth = (key[K.L3_OFFSET] - mplsOffset(key)) / MPLS_LSE_LEN;
    if (out.mplsDepth === 2) {
      const bottom = (frame[top + 4] << 12) | (frame[top + 5] << 4) | (frame[top + 6] >>> 4);
      const vni = vniOfLabels(key[K.MPLS_LABEL], bottom);
      if (vni !== undefined) out.vni = vni;
    }
  }
  return out;
}

export function traceIntent(tables: ReadonlyMap<number, readonly FlowEntry[]>, topology: Topology, start: TraceStart, opts: TraceOptions = {}): IntentTrace {
  const byDpid = new Map(topology.switches.map((s) => [s.dpid, s]));
  const byName = new Map(topology.switches.map((s) => [s.name, s]));
  const peer = new Map<string, { switch: string; port: number; up: boolean }>();
  for (const l of topology.links) {
    peer.set(`${l.a.switch}:${l.a.port}`, { switch: l.b.switch, port: l.b.port, up: l.up });
    peer.set(`${l.b.switch}:${l.b.port}`, { switch: l.a.switch, port: l.a.port, up: l.up });
  }
  const hostOn = new Map(topology.hosts.map((h) => [`${h.attach.switch}:${h.attach.port}`, h.name]));
  const endpointOn = new Map<string, string>();
  for (const e of opts.intent?.endpoints.values() ?? []) endpointOn.set(`${e.dpid}:${e.port}`, e.id);
  const executors = new Map<number, PipelineExecutor>();
  const executor = (dpid: number) => {
    let ex = executors.get(dpid);
    if (!ex) {
      const sw = byDpid.get(dpid);
      const groups = new Map((opts.groups?.get(dpid) ?? []).map((g) => [g.groupId, g]));
      ex = new PipelineExecutor({
        lookup: lookupFor(tables.get(dpid) ?? []),
        group: (id) => groups.get(id),
        ports: sw?.ports.map((p) => p.number) ?? [],
        tableMiss: (t) => PIPELINE[t]?.miss ?? 'drop',
        tableCount: TABLE_COUNT,
        conntrack: fixedConntrack(opts.ctState ?? CT_STATE.TRK | CT_STATE.NEW),
      });
      executors.set(dpid, ex);
    }
    return ex;
  };
  const describe = opts.describeCookie ?? (() => undefined);
  const result: IntentTrace = { hops: [], exits: [], drops: [], truncated: false };
  const frame = start.packet instanceof Uint8Array ? start.packet : buildTraceFrame(start.packet);
  const queue: { dpid: number; inPort: number; frame: Uint8Array }[] = [{ dpid: start.dpid, inPort: start.inPort, frame }];
  const maxHops = opts.maxHops ?? 64;
  while (queue.length > 0) {
    if (result.hops.length >= maxHops) {
      result.truncated = true;
      break;
    }
    const { dpid, inPort, frame: f } = queue.shift() as (typeof queue)[number];
    const name = byDpid.get(dpid)?.name ?? `dpid ${dpid}`;
    const steps: TraceStep[] = [];
    const r = trimResult(executor(dpid).run(f, inPort, createExecResult(), { trace: steps, mutable: false }));
    const hop: TraceHop = { dpid, switch: name, inPort, tables: [], rewrites: [], conntrack: [], outputs: [] };
    let lastFlow: FlowEntry | undefined;
    let lastTable = -1;
    for (const s of steps) {
      if (s.kind === 'table') {
        lastTable = s.table;
        lastFlow = s.flow;
        const owner = s.flow && describe(s.flow.cookie);
        const rule = s.flow && explainSecurityFlow(s.flow, owner, opts.intent);
        hop.tables.push(
          s.flow
            ? { table: tableName(s.table), flow: { cookie: s.flow.cookie, priority: s.flow.priority, owner, text: formatFlow(s.flow) }, ...(rule ? { rule } : {}) }
            : { table: tableName(s.table), miss: s.miss },
        );
      } else if (s.kind === 'rewrite') hop.rewrites.push({ field: s.field, from: s.from, to: s.to });
      else if (s.kind === 'conntrack') hop.conntrack.push({ zone: s.zone, state: formatCtState(s.state, s.state), mark: s.mark });
    }
    for (let i = 0; i < r.outCount; i++) {
      const port = r.outPorts[i];
      const out = Uint8Array.from(r.outFrames[i]);
      const headers = summarize(out);
      const far = peer.get(`${name}:${port}`);
      const farSwitch = far && byName.get(far.switch);
      let to: ExitTarget;
      if (far && farSwitch) {
        to = { kind: 'switch', switch: far.switch, dpid: farSwitch.dpid, port: far.port };
        if (far.up) queue.push({ dpid: farSwitch.dpid, inPort: far.port, frame: out });
        else result.drops.push({ dpid, switch: name, reason: 'linkDown' });
      } else {
        const host = hostOn.get(`${name}:${port}`);
        const ep = endpointOn.get(`${dpid}:${port}`);
        to = host ? { kind: 'host', host } : ep ? { kind: 'endpoint', endpoint: ep } : { kind: 'port' };
        result.exits.push({ dpid, switch: name, port, to, headers, frame: out });
      }
      hop.outputs.push({ port, to, headers });
    }
    if (r.drop !== undefined && r.outCount === 0) {
      hop.drop = r.drop;
      const owner = lastFlow ? describe(lastFlow.cookie) : undefined;
      const rule = lastFlow && explainSecurityFlow(lastFlow, owner, opts.intent);
      result.drops.push({
        dpid,
        switch: name,
        reason: r.drop,
        table: lastTable >= 0 ? tableName(lastTable) : undefined,
        owner,
        ...(rule ? { rule } : {}),
      });
    }
    result.hops.push(hop);
  }
  return result;
}

