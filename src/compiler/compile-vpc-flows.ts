/**
 * The flows of the three VPC owner kinds, as pure builders: one endpoint, one subnet, one VPC. The
 * incremental compiler decides which switches each owner reaches (the plans below); these functions
 * only spell the flows. A flow that is the same on several switches is ONE object on all of them
 * (flows are immutable), which keeps a 1000-VPC compile cheap.
 *
 * The pipeline (docs/vpc.md):
 *   INGRESS  endpoint port: own MAC + IP, untagged -> metadata = vni; ARP request -> ARP, IPv4 -> ACCESS;
 *            the rest -> drop (counted under the endpoint). Link port, MPLS with a block's top label ->
 *            the block's flow (incremental/tenant-block-node.ts): pop it -> TENANT.
 *   TENANT   the block's metadata, the VPC's bottom label, eth_dst = endpoint -> at its switch pop the
 *            label, out of its port; on the way push the top label back, out towards it
 *            (compile-tenant.ts: the last pop is in the flow that outputs).
 *   ARP      metadata = vni: a request from a subnet for an endpoint of the subnet or the subnet's
 *            gateway -> the reply, out of the asking port. Unknown -> table-miss drop.
 *   ROUTE    metadata = vni, eth_dst = GATEWAY_MAC, ip_dst = an endpoint -> eth_src = gateway,
 *            eth_dst = endpoint, dec_ttl -> FORWARD. To the gateway MAC for nobody -> drop.
 *   FORWARD  metadata = vni, eth_dst = endpoint -> on its own switch, the destination-side checks
 *            (ACL_INGRESS, SG_INGRESS); elsewhere push the VPC's label stack and output towards it
 *            (traffic that entered the fabric at this switch).
 *   EGRESS   metadata = vni, eth_dst = endpoint -> out of its port (after the destination-side checks).
 * A filtered endpoint (in a security group) also has its SG_EGRESS/SG_INGRESS flows on its switch and,
 * when a rule names one of its groups, its address as a clause on every present switch
 * (compile-security.ts); the node compiles them and hands them in (`security`).
 */
import { decTtl, nextTable, setField, TABLE, type Action, type FlowEntry, type GroupEntry, type MaskedValue, type Match } from '../flow/index.js';
import { GATEWAY_MAC, type Endpoint, type Subnet } from '../model/index.js';
import { prefixMask } from '../net/cidr.js';
import { ARP_OP_REQUEST, ETH_TYPE_ARP, ETH_TYPE_IPV4 } from '../net/packet/constants.js';
import { arpReplyActions } from './arp-reply.js';
import { deliverActions, labelActions, labelledMatch, metadataOf, relayActions } from './compile-tenant.js';
import { OwnerFlows } from './owner-flows.js';
import { PRIORITY } from './priorities.js';
import { outputList } from './shared-actions.js';
import { vniGroup } from './vpc-encoding.js';

const SET_GATEWAY_SRC = setField('ethSrc', GATEWAY_MAC);
/** Local delivery goes through the destination-side checks (ACL_INGRESS, SG_INGRESS) to EGRESS. */
const AFTER_FORWARD = nextTable(TABLE.FORWARD);
const DEC_TTL = decTtl();
/** Drop flows' (empty) action list: one frozen array for all of them. */
const NO_ACTIONS: Action[] = [];
Object.freeze(NO_ACTIONS);

// An owner's flows per dpid (./owner-flows.ts). The lists are read-only once built: one list may serve
// several switches (an endpoint's ARP answer + route pair is the same list on every switch of its VPC).
export { OwnerFlows };

const NO_FLOWS: readonly FlowEntry[] = Object.freeze([]);

/** A subnet's address space as an ARP sender-IP match: only its own members hear answers (one per subnet object). */
const subnetMatches = new WeakMap<Subnet, MaskedValue>();
function subnetMatch(subnet: Subnet): MaskedValue {
  let m = subnetMatches.get(subnet);
  if (!m) {
    const mask = prefixMask(subnet.cidr.prefixLength);
    subnetMatches.set(subnet, (m = Object.freeze({ value: (subnet.cidr.network & mask) >>> 0, mask })));
  }
  return m;
}

/** Per port number: the match on it (frozen, shared by every endpoint on that port number). */
const inPortMatches = new Map<number, Match>();
function inPortMatch(port: number): Match {
  let m = inPortMatches.get(port);
  if (!m) inPortMatches.set(port, (m = Object.freeze({ inPort: port })));
  return m;
}

/** What an endpoint's flows do on the switches that send towards it on one port: made once per port. */
interface ByPort {
  port: number;
  /** FORWARD: push the labels, out of the port. */
  forward?: FlowEntry;
  /** TENANT: pass a labelled frame on, out of the port. */
  relay?: FlowEntry;
  /** A present switch's list (ARP answer, route, forward). */
  present?: FlowEntry[];
  /** A switch on the way's list (relay). */
  transit?: FlowEntry[];
}

/**
 * The ByPort of a port: an endpoint's flows leave a switch by one or two ports (every leaf's uplink to
 * the same spine has the same number), so a short list searched in order.
 */
function byPort(ports: ByPort[], port: number): ByPort {
  for (const p of ports) if (p.port === port) return p;
  const p: ByPort = { port };
  ports.push(p);
  return p;
}

export interface EndpointPlan {
  endpoint: Endpoint;
  subnet: Subnet;
  vni: number;
  /** The endpoint's own switch. */
  homeDpid: number;
  /** Switches with endpoints of the VPC (sorted by dpid): where its ARP answers and routes live. */
  presentDpids: readonly number[];
  /** Switches whose traffic towards the endpoint must be forwarded, with the port they send it on. */
  towards: ReadonlyMap<number, number>;
  /** Switches that receive the endpoint's labelled frames from a link (its own switch among them). */
  receivers: readonly number[];
  /** Security-group flows: on its own switch, and on every present switch (compile-security.ts). */
  security?: { home: readonly FlowEntry[]; everywhere: readonly FlowEntry[] };
}

export function compileEndpointFlows(plan: EndpointPlan, cookie: number): OwnerFlows {
  const { endpoint: e, subnet, vni, homeDpid } = plan;
  // At most one list per present or receiving switch: room for them all at once.
  const out = new OwnerFlows(plan.presentDpids.length + plan.receivers.length);
  const meta = metadataOf(vni);
  const toEndpoint = { metadata: vni, ethDst: e.mac };
  const selfDrop: FlowEntry = {
    table: TABLE.ARP,
    priority: PRIORITY.VPC_ARP_SELF_DROP,
    match: { metadata: vni, inPort: e.port, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpTpa: e.ip },
    actions: NO_ACTIONS,
    cookie,
  };
  const arp: FlowEntry = {
    table: TABLE.ARP,
    priority: PRIORITY.VPC_ARP_REPLY,
    match: { metadata: vni, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpSpa: subnetMatch(subnet), arpTpa: e.ip },
    actions: arpReplyActions(e.mac, e.ip),
    cookie,
  };
  const route: FlowEntry = {
    table: TABLE.ROUTE,
    priority: PRIORITY.ROUTE_ENDPOINT,
    match: { metadata: vni, ethDst: GATEWAY_MAC, ethType: ETH_TYPE_IPV4, ipv4Dst: e.ip },
    actions: [SET_GATEWAY_SRC, setField('ethDst', e.mac), DEC_TTL],
    gotoTable: TABLE.FORWARD,
    cookie,
  };
  const labelled = labelledMatch(vni, e.mac);
  // The home switch's list is made once, at its full length (an array grown by push keeps spare
  // room, owner-flows.ts), and set first: the other switches follow in the plan's order.
  const homePresent = plan.presentDpids.includes(homeDpid);
  const deliver: FlowEntry | undefined = plan.receivers.includes(homeDpid)
    ? { table: TABLE.TENANT, priority: PRIORITY.TENANT_UNICAST, match: labelled, actions: deliverActions(), writeMetadata: meta, gotoTable: TABLE.ACL_INGRESS, cookie }
    : undefined;
  const local: FlowEntry[] = [
    {
      table: TABLE.INGRESS,
      priority: PRIORITY.INGRESS_ENDPOINT_ARP_REQUEST,
      match: { inPort: e.port, vlanVid: 0, ethSrc: e.mac, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpSpa: e.ip, arpSha: e.mac },
      actions: NO_ACTIONS,
      writeMetadata: meta,
      gotoTable: TABLE.ARP,
      cookie,
    },
    {
      table: TABLE.INGRESS,
      priority: PRIORITY.INGRESS_ENDPOINT_ALLOW,
      match: { inPort: e.port, vlanVid: 0, ethSrc: e.mac, ethType: ETH_TYPE_IPV4, ipv4Src: e.ip },
      actions: NO_ACTIONS,
      writeMetadata: meta,
      gotoTable: TABLE.ACL_EGRESS,
      cookie,
    },
    { table: TABLE.INGRESS, priority: PRIORITY.INGRESS_ENDPOINT_SPOOF_DROP, match: inPortMatch(e.port), actions: NO_ACTIONS, cookie },
    // Asking for its own address (gratuitous ARP, duplicate probe) must not hear "someone has it".
    selfDrop,
    { table: TABLE.FORWARD, priority: PRIORITY.FORWARD_UNICAST, match: toEndpoint, actions: NO_ACTIONS, gotoTable: AFTER_FORWARD, cookie },
    { table: TABLE.EGRESS, priority: PRIORITY.EGRESS_ENDPOINT, match: toEndpoint, actions: outputList(e.port), cookie },
  ];
  const everywhere = plan.security?.everywhere ?? NO_FLOWS;
  const home =
    !plan.security && homePresent && deliver
      ? [local[0], local[1], local[2], selfDrop, local[4], local[5], arp, route, deliver]
      : local.concat(plan.security?.home ?? NO_FLOWS, homePresent ? [arp, route] : NO_FLOWS, homePresent ? everywhere : NO_FLOWS, deliver ? [deliver] : NO_FLOWS);
  out.set(homeDpid, home);

  // One flow, and one list, per output port: switches sending on the same port number (every leaf's
  // uplink to spine 1, say) share them.
  const ports: ByPort[] = [];
  // Every present switch answers ARP and routes; those with a way to the endpoint also forward what
  // enters there.
  let answerAndRoute: FlowEntry[] | undefined;
  const present = plan.presentDpids;
  for (let i = 0; i < present.length; i++) {
    const dpid = present[i];
    if (dpid === homeDpid) continue;
    const port = plan.towards.get(dpid);
    if (port === undefined) {
      out.set(dpid, (answerAndRoute ??= everywhere.length === 0 ? [arp, route] : [arp, route].concat(everywhere)));
      continue;
    }
    const p = byPort(ports, port);
    if (!p.present) {
      const forward = (p.forward ??= { table: TABLE.FORWARD, priority: PRIORITY.FORWARD_UNICAST, match: toEndpoint, actions: labelActions(vni, port), cookie });
      p.present = everywhere.length === 0 ? [arp, route, forward] : [arp, route].concat(everywhere, [forward]);
    }
    out.set(dpid, p.present);
  }
  // Switches receiving its labelled frames: its own delivers them (above), the others pass them on.
  const receivers = plan.receivers;
  for (let i = 0; i < receivers.length; i++) {
    const dpid = receivers[i];
    if (dpid === homeDpid) continue;
    const port = plan.towards.get(dpid);
    if (port === undefined) continue;
    const p = byPort(ports, port);
    const relay = (p.relay ??= { table: TABLE.TENANT, priority: PRIORITY.TENANT_UNICAST, match: labelled, actions: relayActions(vni, port), cookie });
    const flows = out.get(dpid);
    if (flows === undefined) out.set(dpid, (p.transit ??= [relay]));
    else out.set(dpid, flows.concat([relay])); // a present switch on the way: a list of its own
  }
  return out;
}

/** The distributed gateway's ARP answers for one subnet, on every switch where its VPC is present. */
export function compileSubnetFlows(subnet: Subnet, vni: number, presentDpids: readonly number[], cookie: number): OwnerFlows {
  const out = new OwnerFlows(presentDpids.length);
  if (presentDpids.length === 0) return out;
  const arp: FlowEntry = {
    table: TABLE.ARP,
    priority: PRIORITY.VPC_ARP_REPLY,
    match: { metadata: vni, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpSpa: subnetMatch(subnet), arpTpa: subnet.gateway },
    actions: arpReplyActions(GATEWAY_MAC, subnet.gateway),
    cookie,
  };
  const flows = [arp]; // the same on every present switch: one list
  for (const dpid of presentDpids) out.set(dpid, flows);
  return out;
}

export interface VpcPlan {
  vni: number;
  presentDpids: readonly number[];
  /**
   * Load balancers' buckets towards other switches chain to the VPC's label groups (vpc-encoding.ts
   * vniGroup): on each present switch, one per link port slot, when the VPC has a load balancer.
   */
  labelGroups?: ReadonlyMap<number, readonly { slot: number }[]>;
}

/** A VPC's own flows: the drop for routes to nowhere on every present switch. */
export function compileVpcFlows(plan: VpcPlan, cookie: number): OwnerFlows {
  const { vni } = plan;
  const out = new OwnerFlows(plan.presentDpids.length);
  const nowhere: FlowEntry = {
    table: TABLE.ROUTE,
    priority: PRIORITY.ROUTE_NOWHERE_DROP,
    match: { metadata: vni, ethDst: GATEWAY_MAC },
    actions: NO_ACTIONS,
    cookie,
  };
  const flows = [nowhere]; // the same on every present switch: one list
  for (const dpid of plan.presentDpids) out.set(dpid, flows);
  return out;
}

/** A VPC's label groups (see VpcPlan.labelGroups), one object per slot shared by the switches. */
export function compileVpcGroups(plan: VpcPlan, cookie: number): Map<number, GroupEntry[]> {
  const out = new Map<number, GroupEntry[]>();
  const bySlot = new Map<number, GroupEntry>();
  for (const [dpid, slots] of plan.labelGroups ?? []) {
    const groups: GroupEntry[] = [];
    for (const { slot } of slots) {
      let g = bySlot.get(slot);
      if (!g) {
        g = vniGroup(plan.vni, slot, cookie);
        if (g) bySlot.set(slot, g);
      }
      if (g) groups.push(g);
    }
    if (groups.length > 0) out.set(dpid, groups);
  }
  return out;
}
