/**
 * One switch's verdict on one frame, in a form both judges can give: the outputs (port, and which
 * header fields differ from the input frame, with their new values) and packet-ins; nothing = drop.
 * Our side comes from the pipeline executor (src/flow/execute.ts) over the FlowEntry tables; Open
 * vSwitch's from the "Datapath actions:" lines of `ofproto/trace` on a bridge holding the same tables
 * (one per pass: a `ct` with a table recirculates, and the trace resumes with the ct state it is
 * given by --ct-next, or trk|new; our judge gives its `ct` actions that same state).
 * An MPLS frame is described by its ethertype, its label stack entries (whole 32-bit words: label,
 * traffic class, bottom of stack, TTL) and the IPv4 packet under the stack (the only payload the fabric
 * labels), so a push or a pop changes exactly the stack fields on both sides.
 */
import { LinearClassifier } from '../../../src/classifier/index.js';
import { createExecResult, createPipelineExecutor, type FlowHandle } from '../../../src/flow/execute.js';
import { vniOfLabels } from '../../../src/compiler/index.js';
import {
  CT_STATE,
  compileMatch,
  ConjunctionClauses,
  createPacketKey,
  extractKey,
  isConjunctionClause,
  K,
  PIPELINE,
  TABLE_COUNT,
  type FlowEntry,
  type PacketKey,
} from '../../../src/flow/index.js';
import { parseIpv4 } from '../../../src/net/ipv4.js';
import { parseMac } from '../../../src/net/mac.js';

/** The header fields compared (the rewrites Overcast's actions can make). */
export const VERDICT_FIELDS = [
  'ethSrc',
  'ethDst',
  'vlanVid',
  'ipSrc',
  'ipDst',
  'ipProto',
  'ipTtl',
  'ipDscp',
  'l4Src',
  'l4Dst',
  'arpSha',
  'arpTha',
  'ethType',
  'mplsDepth',
  'lse0',
  'lse1',
  'lse2',
] as const;
export type VerdictField = (typeof VERDICT_FIELDS)[number];
export type Fields = Record<VerdictField, number>;

export interface Verdict {
  /** Sorted by port; 'controller' for a packet-in. */
  outputs: { port: number | 'controller'; changed: Partial<Fields> }[];
}

const TWO_32 = 0x100000000;

export function fieldsOf(key: PacketKey): Fields {
  return {
    ethSrc: key[K.ETH_SRC_HI] * TWO_32 + key[K.ETH_SRC_LO],
    ethDst: key[K.ETH_DST_HI] * TWO_32 + key[K.ETH_DST_LO],
    vlanVid: key[K.VLAN_VID],
    // ARP's SPA/TPA share these slots, its opcode shares ipProto (as in OVS's struct flow).
    ipSrc: key[K.IP_SRC],
    ipDst: key[K.IP_DST],
    ipProto: key[K.IP_PROTO],
    ipTtl: key[K.IP_TTL],
    ipDscp: key[K.IP_DSCP],
    l4Src: key[K.L4_SRC],
    l4Dst: key[K.L4_DST],
    arpSha: key[K.ARP_SHA_HI] * TWO_32 + key[K.ARP_SHA_LO],
    arpTha: key[K.ARP_THA_HI] * TWO_32 + key[K.ARP_THA_LO],
    ethType: key[K.ETH_TYPE],
    mplsDepth: 0,
    lse0: 0,
    lse1: 0,
    lse2: 0,
  };
}

const LSE_FIELDS = ['lse0', 'lse1', 'lse2'] as const;

/** A frame's fields; for MPLS (untagged, up to three entries), the stack and the IPv4 packet under it. */
export function frameFields(frame: Uint8Array, inPort: number): Fields {
  const key = createPacketKey();
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.length);
  if (b.length >= 18 && b.readUInt16BE(12) === 0x8847) {
    const lses: number[] = [];
    for (let at = 14; at + 4 <= b.length && lses.length < LSE_FIELDS.length; at += 4) {
      lses.push(b.readUInt32BE(at));
      if ((b[at + 2] & 1) === 1) break;
    }
    const inner = Buffer.concat([b.subarray(0, 12), Buffer.from([0x08, 0x00]), b.subarray(14 + 4 * lses.length)]);
    extractKey(inner, inPort, 0, key);
    const f = fieldsOf(key);
    f.ethType = 0x8847;
    f.mplsDepth = lses.length;
    lses.forEach((w, i) => (f[LSE_FIELDS[i]] = w));
    return f;
  }
  extractKey(frame, inPort, 0, key);
  return fieldsOf(key);
}

/** The VNI a frame's (or a verdict output's) two labels carry, if they are a VPC's. */
export function vniOfFields(f: Partial<Fields>): number | undefined {
  if (f.mplsDepth !== 2 || f.lse0 === undefined || f.lse1 === undefined) return undefined;
  return vniOfLabels(f.lse0 >>> 12, f.lse1 >>> 12);
}

function changedFields(now: Fields, before: Fields): Partial<Fields> {
  const out: Partial<Fields> = {};
  for (const f of VERDICT_FIELDS) if (now[f] !== before[f]) out[f] = now[f];
  return out;
}

function sortOutputs(v: Verdict): Verdict {
  const rank = (p: number | 'controller') => (p === 'controller' ? Infinity : p);
  v.outputs.sort((a, b) => rank(a.port) - rank(b.port) || JSON.stringify(a.changed).localeCompare(JSON.stringify(b.changed)));
  return v;
}

/**
 * Our verdict: the shared pipeline executor over one switch's flows, conjunctive matches resolved as
 * the softswitch does. Every `ct` answers `ctState` (default trk|new, what ofproto/trace assumes).
 */
export function createOurJudge(flows: readonly FlowEntry[], ports: readonly number[], ctState: number = CT_STATE.TRK | CT_STATE.NEW) {
  const byTable = new Map<number, LinearClassifier<FlowHandle>>();
  const conj = new Map<number, ConjunctionClauses<FlowHandle>>();
  flows.forEach((flow, id) => {
    const match = compileMatch(flow.match);
    if (isConjunctionClause(flow.actions)) {
      let c = conj.get(flow.table);
      if (!c) conj.set(flow.table, (c = new ConjunctionClauses<FlowHandle>()));
      c.add({ flow }, flow.priority, match, flow.actions);
      return;
    }
    let c = byTable.get(flow.table);
    if (!c) byTable.set(flow.table, (c = new LinearClassifier<FlowHandle>()));
    c.insert({ id, priority: flow.priority, match, payload: { flow } });
  });
  const exec = createPipelineExecutor({
    lookup: (table, key) => {
      const ordinary = (k: PacketKey) => byTable.get(table)?.lookup(k)?.payload;
      const hard = ordinary(key);
      const clauses = conj.get(table);
      return clauses === undefined ? hard : clauses.resolve(key, hard, hard?.flow.priority ?? -1, ordinary);
    },
    ports,
    tableMiss: (table) => PIPELINE[table]?.miss ?? 'drop',
    tableCount: TABLE_COUNT,
    conntrack: {
      track(key, _frame, zone, commit, mark) {
        key[K.CT_STATE] = ctState;
        key[K.CT_ZONE] = zone;
        key[K.CT_MARK] = commit && mark !== undefined ? (mark.value & mark.mask) >>> 0 : 0;
        return true;
      },
    },
  });
  return (frame: Uint8Array, inPort: number): Verdict => {
    const before = frameFields(frame, inPort);
    const r = exec.run(frame, inPort, createExecResult());
    const outputs: Verdict['outputs'] = [];
    for (let i = 0; i < r.outCount; i++) outputs.push({ port: r.outPorts[i], changed: changedFields(frameFields(r.outFrames[i], inPort), before) });
    for (const p of r.packetIns) outputs.push({ port: 'controller', changed: changedFields(frameFields(p.frame, inPort), before) });
    return sortOutputs({ outputs });
  };
}

/** Split at top-level commas (not inside parentheses). */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (start < s.length) out.push(s.slice(start));
  return out.map((x) => x.trim()).filter(Boolean);
}

/** `k=v,k=v` inside a set(...) key; masked values (v/mask) keep the value. */
function keyValues(body: string): Map<string, string> {
  return new Map(splitTopLevel(body).map((kv) => {
    const [k, v = ''] = kv.split('=');
    return [k, v.split('/')[0]];
  }));
}

const SET_FIELDS: Record<string, Record<string, [VerdictField, (v: string) => number]>> = {
  eth: { src: ['ethSrc', (v) => parseMac(v)], dst: ['ethDst', (v) => parseMac(v)] },
  arp: {
    sip: ['ipSrc', (v) => parseIpv4(v)],
    tip: ['ipDst', (v) => parseIpv4(v)],
    op: ['ipProto', Number],
    sha: ['arpSha', (v) => parseMac(v)],
    tha: ['arpTha', (v) => parseMac(v)],
  },
  ipv4: {
    src: ['ipSrc', (v) => parseIpv4(v)],
    dst: ['ipDst', (v) => parseIpv4(v)],
    ttl: ['ipTtl', Number],
    tos: ['ipDscp', (v) => Number(v) >>> 2],
  },
  udp: { src: ['l4Src', Number], dst: ['l4Dst', Number] },
  tcp: { src: ['l4Src', Number], dst: ['l4Dst', Number] },
  icmp: { type: ['l4Src', Number], code: ['l4Dst', Number] },
};

/**
 * OVS's verdict from its trace text. `odpToOf` maps datapath port numbers (what "Datapath actions"
 * names) to OpenFlow port numbers. Throws on an action it does not understand, so a new feature
 * cannot pass unnoticed.
 */
export function ovsVerdict(trace: string, input: Fields, odpToOf: Map<number, number>): Verdict {
  const lines = trace.split('\n').filter((l) => l.startsWith('Datapath actions:'));
  if (lines.length === 0) throw new Error(`no "Datapath actions" in trace:\n${trace}`);
  // One line per pass; a recirculated pass continues from the packet the one before left.
  const actions = lines.flatMap((line) => {
    const text = line.slice('Datapath actions:'.length).trim();
    return text === 'drop' ? [] : splitTopLevel(text);
  });
  const state: Fields = { ...input };
  const outputs: Verdict['outputs'] = [];
  for (const a of actions) {
    // Connection tracking changes no header; its state reaches the next pass (judged by --ct-next).
    if (/^ct(\(.*\))?$/.test(a) || /^recirc\(0x[0-9a-f]+\)$/.test(a)) continue;
    // A flow's meter changes no header; ofproto/trace passes it, as the executor does without a meter table.
    if (/^meter\(\d+\)$/.test(a)) continue;
    if (/^\d+$/.test(a)) {
      const of = odpToOf.get(Number(a));
      if (of === undefined) throw new Error(`datapath port ${a} is not on this bridge`);
      outputs.push({ port: of, changed: changedFields(state, input) });
      continue;
    }
    // To the controller: plain, or through the controller meter (the controller sets OFPM_CONTROLLER).
    if ((a.startsWith('userspace(') || /^sample\(sample=100\.0%,actions\(meter\(\d+\),userspace\(/.test(a)) && a.includes('controller(')) {
      outputs.push({ port: 'controller', changed: changedFields(state, input) });
      continue;
    }
    const set = /^set\((\w+)\((.*)\)\)$/.exec(a);
    if (set) {
      const table = SET_FIELDS[set[1]];
      if (!table) throw new Error(`unmodelled datapath set: ${a}`);
      for (const [k, v] of keyValues(set[2])) {
        const spec = table[k];
        if (spec) state[spec[0]] = spec[1](v);
        else if (!(set[1] === 'ipv4' && (k === 'proto' || k === 'frag'))) throw new Error(`unmodelled datapath set field ${set[1]}.${k}`);
      }
      continue;
    }
    if (a === 'pop_vlan') {
      state.vlanVid = 0;
      continue;
    }
    const pushMpls = /^push_mpls\(label=(\d+),tc=(\d+),ttl=(\d+),bos=(\d+),eth_type=(0x[0-9a-f]+)\)$/.exec(a);
    if (pushMpls) {
      const [label, tc, ttl, bos, type] = pushMpls.slice(1).map(Number);
      state.lse2 = state.lse1;
      state.lse1 = state.lse0;
      state.lse0 = ((label << 12) | (tc << 9) | (bos << 8) | ttl) >>> 0;
      state.mplsDepth++;
      state.ethType = type;
      continue;
    }
    const popMpls = /^pop_mpls\(eth_type=(0x[0-9a-f]+)\)$/.exec(a);
    if (popMpls) {
      state.lse0 = state.lse1;
      state.lse1 = state.lse2;
      state.lse2 = 0;
      state.mplsDepth--;
      state.ethType = Number(popMpls[1]);
      continue;
    }
    const push = /^push_vlan\(vid=(\d+),pcp=(\d+)\)$/.exec(a);
    if (push) {
      state.vlanVid = 0x1000 | Number(push[1]);
      continue;
    }
    throw new Error(`unmodelled datapath action: ${a}`);
  }
  return sortOutputs({ outputs });
}

/** ofport by datapath port, per bridge, from `ovs-appctl dpif/show`. */
export function parseDpifShow(text: string): Map<string, Map<number, number>> {
  const bridges = new Map<string, Map<number, number>>();
  let current: Map<number, number> | undefined;
  for (const line of text.split('\n')) {
    const br = /^ {2}(\S+):$/.exec(line);
    if (br) {
      bridges.set(br[1], (current = new Map()));
      continue;
    }
    const port = /^ {4}\S+ (\d+)\/(\d+):/.exec(line);
    if (port && current) current.set(Number(port[2]), Number(port[1]));
  }
  return bridges;
}
