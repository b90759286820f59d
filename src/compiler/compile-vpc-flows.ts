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
 *   TENANT   the block's metadata and the VPC's bottom label -> pop to IPv4, metadata = vni -> FORWARD
 *            (routing already happened at the first switch).
 *   ARP      metadata = vni: a request from a subnet for an endpoint of the subnet or the subnet's
 *            gateway -> the reply, out of the asking port. Unknown -> table-miss drop.
 *   ROUTE    metadata = vni, eth_dst = GATEWAY_MAC, ip_dst = an endpoint -> eth_src = gateway,
 *            eth_dst = endpoint, dec_ttl -> FORWARD. To the gateway MAC for nobody -> drop.
 *   FORWARD  metadata = vni, eth_dst = endpoint -> its port on its own switch; elsewhere push the VPC's
 *            label stack and output towards it.
 */
import { decTtl, output, setField, TABLE, type Action, type FlowEntry, type MaskedValue } from '../flow/index.js';
import { GATEWAY_MAC, type Endpoint, type Subnet } from '../model/index.js';
import { prefixMask } from '../net/cidr.js';
import { ARP_OP_REQUEST, ETH_TYPE_ARP, ETH_TYPE_IPV4, ETH_TYPE_MPLS } from '../net/packet/constants.js';
import { arpReplyActions } from './arp-reply.js';
import { PRIORITY } from './priorities.js';
import { blockMetadata, POP_VNI_LABEL, vniBlock, vniLabel, vniMetadata, vniPushActions } from './vpc-encoding.js';

const SET_GATEWAY_SRC = setField('ethSrc', GATEWAY_MAC);
const DEC_TTL = decTtl();
/** Drop flows' (empty) action list: one frozen array for all of them. */
const NO_ACTIONS: Action[] = [];
Object.freeze(NO_ACTIONS);

/*
 * Flows are immutable values, so the pieces that only depend on the VNI (and a link port) are made
 * once per VPC and shared by every endpoint's flows: a 1000-VPC compile retains ~300,000 flows
 * (docs/vpc.md), and each object less per flow is less allocation and GC. Both memos are bounded
 * (valid VNIs x up link ports) and hold frozen values.
 */
const metadataByVni = new Map<number, MaskedValue>();
const labelActionsByVni = new Map<number, Map<number, Action[]>>();

export function metadataOf(vni: number): MaskedValue {
  let meta = metadataByVni.get(vni);
  if (!meta) metadataByVni.set(vni, (meta = Object.freeze(vniMetadata(vni))));
  return meta;
}

/** Push the VPC's label stack, output on `port` (frozen; one list per VNI and port). */
export function labelActions(vni: number, port: number): Action[] {
  let byPort = labelActionsByVni.get(vni);
  if (!byPort) labelActionsByVni.set(vni, (byPort = new Map()));
  let actions = byPort.get(port);
  if (!actions) {
    actions = [...vniPushActions(vni), output(port)];
    Object.freeze(actions);
    byPort.set(port, actions);
  }
  return actions;
}

/**
 * Flows per dpid. The lists are read-only once built: one list may serve several switches (an
 * endpoint's ARP answer + route pair is the same list on every switch of its VPC).
 */
export type OwnerFlows = Map<number, FlowEntry[]>;

function push(into: OwnerFlows, dpid: number, flow: FlowEntry): void {
  const flows = into.get(dpid);
  if (flows) flows.push(flow);
  else into.set(dpid, [flow]);
}

/** A subnet's address space as an ARP sender-IP match: only its own members hear answers. */
function subnetMatch(subnet: Subnet): { value: number; mask: number } {
  const mask = prefixMask(subnet.cidr.prefixLength);
  return { value: (subnet.cidr.network & mask) >>> 0, mask };
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
}

export function compileEndpointFlows(plan: EndpointPlan, cookie: number): OwnerFlows {
  const { endpoint: e, subnet, vni, homeDpid } = plan;
  const out: OwnerFlows = new Map();
  const meta = metadataOf(vni);
  const toEndpoint = { metadata: vni, ethDst: e.mac };
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
      gotoTable: TABLE.ACCESS,
      cookie,
    },
    { table: TABLE.INGRESS, priority: PRIORITY.INGRESS_ENDPOINT_SPOOF_DROP, match: { inPort: e.port }, actions: NO_ACTIONS, cookie },
    // Asking for its own address (gratuitous ARP, duplicate probe) must not hear "someone has it".
    {
      table: TABLE.ARP,
      priority: PRIORITY.VPC_ARP_SELF_DROP,
      match: { metadata: vni, inPort: e.port, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpTpa: e.ip },
      actions: NO_ACTIONS,
      cookie,
    },
    { table: TABLE.FORWARD, priority: PRIORITY.FORWARD_UNICAST, match: toEndpoint, actions: [output(e.port)], cookie },
  ];
  out.set(homeDpid, local);

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
  // One flow, and one list, per output port: switches sending on the same port number (every leaf's
  // uplink to spine 1, say) share them.
  const byPort = new Map<number, FlowEntry>();
  const forwardOn = (port: number): FlowEntry => {
    let flow = byPort.get(port);
    if (!flow) {
      flow = { table: TABLE.FORWARD, priority: PRIORITY.FORWARD_UNICAST, match: toEndpoint, actions: labelActions(vni, port), cookie };
      byPort.set(port, flow);
    }
    return flow;
  };
  const presentByPort = new Map<number, FlowEntry[]>();
  const transitByPort = new Map<number, FlowEntry[]>();
  // Every present switch answers ARP and routes; those on the way to the endpoint also forward.
  const answerAndRoute = [arp, route];
  let forwarding = 0;
  for (const dpid of plan.presentDpids) {
    if (dpid === homeDpid) {
      local.push(arp, route);
      continue;
    }
    const port = plan.towards.get(dpid);
    if (port === undefined) out.set(dpid, answerAndRoute);
    else {
      let flows = presentByPort.get(port);
      if (!flows) presentByPort.set(port, (flows = [arp, route, forwardOn(port)]));
      out.set(dpid, flows);
      forwarding++;
    }
  }
  if (forwarding < plan.towards.size) {
    // Transit switches where the VPC is not present: forwarding only.
    for (const [dpid, port] of plan.towards) {
      const flows = out.get(dpid);
      if (flows === undefined) {
        let transit = transitByPort.get(port);
        if (!transit) transitByPort.set(port, (transit = [forwardOn(port)]));
        out.set(dpid, transit);
      } else if (dpid === homeDpid) flows.push(forwardOn(port));
    }
  }
  return out;
}

/** The distributed gateway's ARP answers for one subnet, on every switch where its VPC is present. */
export function compileSubnetFlows(subnet: Subnet, vni: number, presentDpids: readonly number[], cookie: number): OwnerFlows {
  const out: OwnerFlows = new Map();
  if (presentDpids.length === 0) return out;
  const arp: FlowEntry = {
    table: TABLE.ARP,
    priority: PRIORITY.VPC_ARP_REPLY,
    match: { metadata: vni, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpSpa: subnetMatch(subnet), arpTpa: subnet.gateway },
    actions: arpReplyActions(GATEWAY_MAC, subnet.gateway),
    cookie,
  };
  for (const dpid of presentDpids) push(out, dpid, arp);
  return out;
}

export interface VpcPlan {
  vni: number;
  presentDpids: readonly number[];
  /** Switches that may receive the VPC's labelled frames (those with an up link on its paths). */
  receiving: readonly number[];
}

/** The TENANT flow that admits a VPC's labelled frames (after the block flow popped the top entry). */
export function tenantFlow(vni: number, cookie: number): FlowEntry {
  return {
    table: TABLE.TENANT,
    priority: PRIORITY.TENANT_VPC,
    match: { metadata: blockMetadata(vniBlock(vni)).value, ethType: ETH_TYPE_MPLS, mplsLabel: vniLabel(vni), mplsBos: 1 },
    actions: [POP_VNI_LABEL],
    writeMetadata: metadataOf(vni),
    gotoTable: TABLE.FORWARD,
    cookie,
  };
}

/** A VPC's own flows: admitting its labelled frames from links (one per switch), and the drop for routes to nowhere. */
export function compileVpcFlows(plan: VpcPlan, cookie: number): OwnerFlows {
  const { vni } = plan;
  const out: OwnerFlows = new Map();
  if (plan.receiving.length > 0) {
    const tenant = tenantFlow(vni, cookie);
    for (const dpid of plan.receiving) push(out, dpid, tenant);
  }
  const nowhere: FlowEntry = {
    table: TABLE.ROUTE,
    priority: PRIORITY.ROUTE_NOWHERE_DROP,
    match: { metadata: vni, ethDst: GATEWAY_MAC },
    actions: NO_ACTIONS,
    cookie,
  };
  for (const dpid of plan.presentDpids) push(out, dpid, nowhere);
  return out;
}
