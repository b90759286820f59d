/**
 * One switch's verdict on one frame, in a form both judges can give: the outputs (port, and which
 * header fields differ from the input frame, with their new values) and packet-ins; nothing = drop.
 * Our side comes from the pipeline executor (src/flow/execute.ts) over the FlowEntry tables; Open
 * vSwitch's from the "Datapath actions:" line of `ofproto/trace` on a bridge holding the same tables.
 */
import { LinearClassifier } from '../../../src/classifier/index.js';
import { createExecResult, createPipelineExecutor, type FlowHandle } from '../../../src/flow/execute.js';
import { compileMatch, createPacketKey, extractKey, K, PIPELINE, TABLE_COUNT, type FlowEntry, type PacketKey } from '../../../src/flow/index.js';
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
  };
}

export function frameFields(frame: Uint8Array, inPort: number): Fields {
  const key = createPacketKey();
  extractKey(frame, inPort, 0, key);
  return fieldsOf(key);
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

/** Our verdict: the shared pipeline executor over one switch's flows. */
export function createOurJudge(flows: readonly FlowEntry[], ports: readonly number[]) {
  const byTable = new Map<number, LinearClassifier<FlowHandle>>();
  flows.forEach((flow, id) => {
    let c = byTable.get(flow.table);
    if (!c) byTable.set(flow.table, (c = new LinearClassifier<FlowHandle>()));
    c.insert({ id, priority: flow.priority, match: compileMatch(flow.match), payload: { flow } });
  });
  const exec = createPipelineExecutor({
    lookup: (table, key) => byTable.get(table)?.lookup(key)?.payload,
    ports,
    tableMiss: (table) => PIPELINE[table]?.miss ?? 'drop',
    tableCount: TABLE_COUNT,
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
  const line = trace.split('\n').find((l) => l.startsWith('Datapath actions:'));
  if (!line) throw new Error(`no "Datapath actions" in trace:\n${trace}`);
  const actions = line.slice('Datapath actions:'.length).trim();
  const state: Fields = { ...input };
  const outputs: Verdict['outputs'] = [];
  if (actions === 'drop') return { outputs };
  for (const a of splitTopLevel(actions)) {
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
