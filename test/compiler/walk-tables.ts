/**
 * A small table walker for compiler tests: follows a packet KEY (no bytes) through the compiled flow
 * tables switch by switch, over the topology's links, and says where it leaves the fabric. Lookup is
 * src/classifier's LinearClassifier (the reference classifier); actions are applied to the key only.
 * OpenFlow semantics kept: apply-actions then goto-table; an output to the port the packet came in on is
 * not sent (only PORT.IN_PORT does that); no flow = table-miss drop; write-metadata.
 *
 * MPLS is modelled on the key too: a push saves the headers it covers (the L3 slots, which an MPLS key
 * reuses for its top entry, as src/flow/packet-key.ts does) on a stack that travels with the key, and
 * a pop brings them back; the stack's depth is reported with every output.
 */
import { LinearClassifier } from '../../src/classifier/index.js';
import {
  compileMatch,
  createPacketKey,
  FIELDS,
  K,
  PORT,
  TABLE,
  type FieldName,
  type FlowEntry,
  type PacketKey,
} from '../../src/flow/index.js';
import { macFromHiLo, macHi, macLo } from '../../src/net/mac.js';
import { ETH_TYPE_ARP, ETH_TYPE_IPV4, ETH_TYPE_MPLS, IP_PROTO_UDP } from '../../src/net/packet/constants.js';
import { neighbourOnPort, type HostSpec, type TopologyGraph } from '../../src/model/index.js';

export function readField(key: PacketKey, field: FieldName): number {
  const slots = FIELDS[field].slots;
  return slots.length === 2 ? macFromHiLo(key[slots[0]], key[slots[1]]) : key[slots[0]];
}

export function writeField(key: PacketKey, field: FieldName, value: number): void {
  const slots = FIELDS[field].slots;
  if (slots.length === 2) {
    key[slots[0]] = macHi(value);
    key[slots[1]] = macLo(value);
  } else key[slots[0]] = value >>> 0;
}

/** The key slots an MPLS push covers and a pop uncovers: everything after the Ethernet type and VLAN. */
const L3_SLOTS = [K.IP_SRC, K.IP_DST, K.IP_PROTO, K.IP_DSCP, K.IP_TTL, K.L4_SRC, K.L4_DST, K.TCP_FLAGS, K.ARP_SHA_HI, K.ARP_SHA_LO, K.ARP_THA_HI, K.ARP_THA_LO];

/** Label stack entries under the top one, as saved key slots (L3_SLOTS order, then the ethertype), top first. */
export type LabelStack = readonly Uint32Array[];

function pushLabel(key: PacketKey, stack: Uint32Array[]): void {
  const saved = new Uint32Array(L3_SLOTS.length + 1);
  L3_SLOTS.forEach((s, i) => (saved[i] = key[s]));
  saved[L3_SLOTS.length] = key[K.ETH_TYPE];
  const wasMpls = key[K.ETH_TYPE] === ETH_TYPE_MPLS;
  stack.unshift(saved);
  const label = wasMpls ? key[K.MPLS_LABEL] : 0;
  for (const s of L3_SLOTS) key[s] = 0;
  key[K.ETH_TYPE] = ETH_TYPE_MPLS;
  key[K.MPLS_LABEL] = label;
  key[K.MPLS_BOS] = wasMpls ? 0 : 1;
}

function popLabel(key: PacketKey, stack: Uint32Array[], ethType: number): void {
  if (key[K.ETH_TYPE] !== ETH_TYPE_MPLS) return;
  const saved = stack.shift();
  if (!saved) throw new Error('popped an MPLS entry the walker never pushed');
  L3_SLOTS.forEach((s, i) => (key[s] = saved[i]));
  key[K.ETH_TYPE] = ethType;
}

export interface SwitchVerdict {
  outputs: { port: number; key: PacketKey; stack: LabelStack }[];
  /** Set when the packet stopped without output: the table, and the flow that dropped it (undefined = table miss). */
  drop?: { table: number; flow?: FlowEntry };
}

/** Per-switch classifiers, one per table. */
export class SwitchTablesWalker {
  private readonly tables = new Map<number, LinearClassifier<FlowEntry>>();

  constructor(flows: readonly FlowEntry[]) {
    flows.forEach((flow, id) => {
      let c = this.tables.get(flow.table);
      if (!c) this.tables.set(flow.table, (c = new LinearClassifier<FlowEntry>()));
      c.insert({ id, priority: flow.priority, match: compileMatch(flow.match), payload: flow });
    });
  }

  run(input: PacketKey, inputStack: LabelStack = []): SwitchVerdict {
    const key = input.slice();
    const stack = inputStack.map((s) => s.slice());
    const outputs: SwitchVerdict['outputs'] = [];
    let table: number = TABLE.INGRESS;
    for (;;) {
      const flow = this.tables.get(table)?.lookup(key)?.payload;
      if (!flow) return outputs.length > 0 ? { outputs } : { outputs, drop: { table } };
      for (const a of flow.actions) {
        switch (a.type) {
          case 'setField':
            writeField(key, a.field, a.value);
            break;
          case 'copyField':
            writeField(key, a.dst, readField(key, a.src));
            break;
          case 'output': {
            const inPort = key[K.IN_PORT];
            const copy = { key: key.slice(), stack: stack.map((s) => s.slice()) };
            if (a.port === PORT.IN_PORT) outputs.push({ port: inPort, ...copy });
            else if (a.port !== inPort) outputs.push({ port: a.port, ...copy });
            break;
          }
          case 'pushMpls':
            pushLabel(key, stack);
            break;
          case 'popMpls':
            popLabel(key, stack, a.ethType);
            break;
          default:
            throw new Error(`walker does not model action ${a.type}`);
        }
      }
      if (flow.writeMetadata) key[K.METADATA] = ((key[K.METADATA] & ~flow.writeMetadata.mask) | (flow.writeMetadata.value & flow.writeMetadata.mask)) >>> 0;
      if (flow.gotoTable === undefined) return outputs.length > 0 ? { outputs } : { outputs, drop: { table, flow } };
      table = flow.gotoTable;
    }
  }
}

export interface FabricWalk {
  /** Where copies of the packet left the fabric towards hosts (`labels`: MPLS entries still on it, 0 when clean). */
  delivered: { host: HostSpec; key: PacketKey; labels: number }[];
  /** Where copies stopped inside a switch. */
  dropped: { switch: string; table: number; flow?: FlowEntry }[];
  /** Switches visited, in order. */
  path: string[];
}

/** Walks a packet that enters `startSwitch` on `inPort` through the whole fabric. */
export function walkFabric(
  graph: TopologyGraph,
  tables: Map<number, FlowEntry[]>,
  startSwitch: string,
  key: PacketKey,
  maxHops = 64,
): FabricWalk {
  const walkers = new Map<string, SwitchTablesWalker>();
  const walker = (sw: string) => {
    let w = walkers.get(sw);
    if (!w) {
      const dpid = graph.getNodeAttributes(sw);
      if (dpid.kind !== 'switch') throw new Error(`${sw} is not a switch`);
      walkers.set(sw, (w = new SwitchTablesWalker(tables.get(dpid.switch.dpid) ?? [])));
    }
    return w;
  };
  const result: FabricWalk = { delivered: [], dropped: [], path: [] };
  const queue: { sw: string; key: PacketKey; stack: LabelStack }[] = [{ sw: startSwitch, key, stack: [] }];
  while (queue.length > 0) {
    const { sw, key: k, stack } = queue.shift() as (typeof queue)[number];
    result.path.push(sw);
    if (result.path.length > maxHops) throw new Error(`forwarding loop: ${result.path.join(' > ')}`);
    const verdict = walker(sw).run(k, stack);
    if (verdict.drop) result.dropped.push({ switch: sw, ...verdict.drop });
    for (const out of verdict.outputs) {
      const n = neighbourOnPort(graph, sw, out.port);
      if (!n) throw new Error(`${sw} sent out of port ${out.port}, which has nothing attached`);
      if (n.kind === 'host') result.delivered.push({ host: n.host, key: out.key, labels: out.key[K.ETH_TYPE] === ETH_TYPE_MPLS ? out.stack.length : 0 });
      else {
        if (!n.up) throw new Error(`${sw} sent out of port ${out.port}, whose link is down`);
        out.key[K.IN_PORT] = n.port;
        // A switch starts every frame at metadata 0.
        out.key[K.METADATA] = 0;
        queue.push({ sw: n.switch, key: out.key, stack: out.stack });
      }
    }
  }
  return result;
}

/** A UDP/IPv4 packet key from host `from` to (MAC, IP), entering on from's port. */
export function ipv4Key(from: HostSpec, dstMac: number, dstIp: number, overrides: { ethSrc?: number; ipv4Src?: number } = {}): PacketKey {
  const key = createPacketKey();
  key[K.IN_PORT] = from.attach.port;
  writeField(key, 'ethSrc', overrides.ethSrc ?? from.mac);
  writeField(key, 'ethDst', dstMac);
  key[K.ETH_TYPE] = ETH_TYPE_IPV4;
  key[K.IP_SRC] = overrides.ipv4Src ?? from.ip;
  key[K.IP_DST] = dstIp;
  key[K.IP_PROTO] = IP_PROTO_UDP;
  key[K.IP_TTL] = 64;
  key[K.L4_SRC] = 40000;
  key[K.L4_DST] = 7;
  return key;
}

export const BROADCAST = 0xffffffffffff;

/** A broadcast ARP request from host `from` for `targetIp`. */
export function arpRequestKey(from: HostSpec, targetIp: number, overrides: { arpSpa?: number; arpSha?: number; ethSrc?: number } = {}): PacketKey {
  const key = createPacketKey();
  key[K.IN_PORT] = from.attach.port;
  writeField(key, 'ethSrc', overrides.ethSrc ?? from.mac);
  writeField(key, 'ethDst', BROADCAST);
  key[K.ETH_TYPE] = ETH_TYPE_ARP;
  writeField(key, 'arpOp', 1);
  writeField(key, 'arpSha', overrides.arpSha ?? from.mac);
  writeField(key, 'arpSpa', overrides.arpSpa ?? from.ip);
  writeField(key, 'arpTha', 0);
  writeField(key, 'arpTpa', targetIp);
  return key;
}
