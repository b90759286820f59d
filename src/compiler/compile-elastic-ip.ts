/**
 * Gateways (uplinks to the outside network) and elastic IPs as pure flow builders (docs/elastic-ip.md).
 * The incremental compiler decides where each owner reaches; these functions only spell the flows.
 *
 * Outside -> endpoint, at the gateway's switch:
 *   INGRESS  uplink port, untagged: ARP request -> metadata UPLINK, ARP; IPv4 to the gateway MAC ->
 *            metadata UPLINK, NAT_LB; the rest -> drop (the gateway's counter).
 *   ARP      metadata UPLINK, uplink port: for the gateway's IP or an associated public IP -> reply with
 *            the gateway's MAC.
 *   NAT_LB   metadata UPLINK, uplink port, ip_dst = public IP -> ip_dst = private IP (checksums updated
 *            by the switch), eth_src = GATEWAY_MAC, eth_dst = endpoint, dec_ttl, metadata = VNI ->
 *            FORWARD. The gateway's switch counts as a switch where the VPC is present, so the
 *            endpoint's own FORWARD flows lead on from there.
 * Endpoint -> outside:
 *   NAT_LB   at the endpoint's switch: from its IP to its VPC's own space -> ROUTE as usual; from its
 *            IP via the gateway MAC anywhere else -> ip_src = public IP, eth_dst = the elastic IP's
 *            pseudo MAC, dec_ttl, FORWARD: the SNAT happens where the packet enters, so switches
 *            that see it labelled only ever rewrite MACs (compileEgress).
 *   FORWARD  at the endpoint's switch: the pseudo MAC from the public IP -> labelled towards the
 *            nearest exit, or (an exit here) eth_src = gateway MAC, eth_dst = router MAC, out of the uplink.
 *   TENANT   the pseudo MAC, labelled: on the way -> on towards the exit; at the exit -> pop the
 *            label, eth_src = gateway MAC, eth_dst = router MAC, out of the uplink.
 */
import { decTtl, output, setField, TABLE, type FlowEntry } from '../flow/index.js';
import { GATEWAY_MAC, type Endpoint } from '../model/index.js';
import { prefixMask } from '../net/cidr.js';
import { ARP_OP_REQUEST, ETH_TYPE_ARP, ETH_TYPE_IPV4 } from '../net/packet/constants.js';
import { arpReplyActions } from './arp-reply.js';
import { labelActions, relayActions, tenantFlow } from './compile-tenant.js';
import { OwnerFlows } from './owner-flows.js';
import { PRIORITY } from './priorities.js';
import { POP_VNI_LABEL, vniMetadata } from './vpc-encoding.js';

/**
 * Metadata of frames from an uplink: bit 24, outside every VPC (VNIs are 24 bits), not the underlay
 * (0) and not a VNI block's marker (vpc-encoding.ts BLOCK_METADATA).
 */
export const UPLINK_METADATA = 0x01000000;

/**
 * The pseudo MAC an elastic IP's outbound frames carry between the endpoint's switch and the gateway's:
 * 0a:01 + the public IP (locally administered unicast; never GATEWAY_MAC, never an allocated endpoint MAC).
 */
export const EIP_MAC_BASE = 0x0a0100000000;

export function elasticIpMac(publicIp: number): number {
  return EIP_MAC_BASE + (publicIp >>> 0);
}

/** A gateway placed on the fabric. */
export interface GatewayPort {
  name: string;
  dpid: number;
  port: number;
  mac: number;
  ip: number;
  routerMac: number;
}

function push(into: OwnerFlows, dpid: number, flow: FlowEntry): void {
  const flows = into.get(dpid);
  if (flows) flows.push(flow);
  else into.set(dpid, [flow]);
}

/** A gateway's own flows: admit the outside network's ARP and IPv4, answer ARP for the gateway's IP. */
export function compileGatewayFlows(g: GatewayPort, cookie: number): OwnerFlows {
  const out = new OwnerFlows();
  const meta = { value: UPLINK_METADATA, mask: 0xffffffff };
  push(out, g.dpid, {
    table: TABLE.INGRESS,
    priority: PRIORITY.INGRESS_UPLINK_ARP_REQUEST,
    match: { inPort: g.port, vlanVid: 0, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST },
    actions: [],
    writeMetadata: meta,
    gotoTable: TABLE.ARP,
    cookie,
  });
  push(out, g.dpid, {
    table: TABLE.INGRESS,
    priority: PRIORITY.INGRESS_UPLINK_IPV4,
    match: { inPort: g.port, vlanVid: 0, ethDst: g.mac, ethType: ETH_TYPE_IPV4 },
    actions: [],
    writeMetadata: meta,
    gotoTable: TABLE.NAT_LB,
    cookie,
  });
  push(out, g.dpid, { table: TABLE.INGRESS, priority: PRIORITY.INGRESS_UPLINK_DROP, match: { inPort: g.port }, actions: [], cookie });
  push(out, g.dpid, {
    table: TABLE.ARP,
    priority: PRIORITY.UPLINK_ARP_REPLY,
    match: { metadata: UPLINK_METADATA, inPort: g.port, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpTpa: g.ip },
    actions: arpReplyActions(g.mac, g.ip),
    cookie,
  });
  return out;
}

export interface ElasticIpPlan {
  publicIp: number;
  endpoint: Endpoint;
  vni: number;
  /** The endpoint's VPC address space: traffic inside it is never translated. */
  vpcCidr: { network: number; prefixLength: number };
  /** Every gateway whose pool holds the address: each answers ARP for it and translates inbound. */
  gateways: readonly GatewayPort[];
  /** Where outbound traffic may leave (some of `gateways`, at most one per switch): each translates and sends it out. */
  exits: readonly GatewayPort[];
  /** Switches on the way from the endpoint's switch to its exit (exits excluded), with their port towards it. */
  transit: ReadonlyMap<number, number>;
  /** Switches on the way (exits included) that receive the traffic from a link, labelled. */
  receivers: ReadonlySet<number>;
}

/** The way out for a public address's traffic, SNATed where it entered (`sources`) and addressed to its pseudo MAC. */
export interface EgressPlan {
  vni: number;
  publicIp: number;
  sources: ReadonlySet<number>;
  exits: readonly GatewayPort[];
  transit: ReadonlyMap<number, number>;
  receivers: ReadonlySet<number>;
}

/**
 * FORWARD on the switches where the traffic enters (matched on the public source address: only SNATed
 * packets leave) and TENANT on those that receive it labelled: on towards the nearest exit, and out
 * of the uplink there with the gateway's MAC and the router's.
 */
export function compileEgress(plan: EgressPlan, cookie: number, out: OwnerFlows): void {
  const { vni, publicIp } = plan;
  const pseudoMac = elasticIpMac(publicIp);
  const entering = { metadata: vni, ethDst: pseudoMac, ethType: ETH_TYPE_IPV4, ipv4Src: publicIp };
  for (const [dpid, port] of plan.transit) {
    if (plan.sources.has(dpid)) push(out, dpid, { table: TABLE.FORWARD, priority: PRIORITY.EIP_EGRESS, match: entering, actions: labelActions(vni, port), cookie });
    if (plan.receivers.has(dpid)) push(out, dpid, tenantFlow(vni, pseudoMac, PRIORITY.TENANT_UNICAST, relayActions(vni, port), cookie));
  }
  for (const x of plan.exits) {
    const toRouter = [setField('ethSrc', x.mac), setField('ethDst', x.routerMac), output(x.port)];
    if (plan.sources.has(x.dpid)) push(out, x.dpid, { table: TABLE.FORWARD, priority: PRIORITY.EIP_EGRESS, match: entering, actions: toRouter, cookie });
    if (plan.receivers.has(x.dpid)) push(out, x.dpid, tenantFlow(vni, pseudoMac, PRIORITY.TENANT_UNICAST, [POP_VNI_LABEL, ...toRouter], cookie));
  }
}

export function compileElasticIpFlows(plan: ElasticIpPlan, cookie: number): OwnerFlows {
  const { publicIp, endpoint: e, vni } = plan;
  const out = new OwnerFlows();
  const pseudoMac = elasticIpMac(publicIp);
  for (const g of plan.gateways) {
    push(out, g.dpid, {
      table: TABLE.ARP,
      priority: PRIORITY.UPLINK_ARP_REPLY,
      match: { metadata: UPLINK_METADATA, inPort: g.port, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpTpa: publicIp },
      actions: arpReplyActions(g.mac, publicIp),
      cookie,
    });
    push(out, g.dpid, {
      table: TABLE.NAT_LB,
      priority: PRIORITY.EIP_DNAT,
      match: { metadata: UPLINK_METADATA, inPort: g.port, ethType: ETH_TYPE_IPV4, ipv4Dst: publicIp },
      actions: [setField('ipv4Dst', e.ip), setField('ethSrc', GATEWAY_MAC), setField('ethDst', e.mac), decTtl()],
      writeMetadata: vniMetadata(vni),
      gotoTable: TABLE.FORWARD,
      cookie,
    });
  }
  const mask = prefixMask(plan.vpcCidr.prefixLength);
  push(out, e.dpid, {
    table: TABLE.NAT_LB,
    priority: PRIORITY.EIP_SNAT_BYPASS,
    match: { metadata: vni, ethType: ETH_TYPE_IPV4, ipv4Src: e.ip, ipv4Dst: { value: (plan.vpcCidr.network & mask) >>> 0, mask } },
    actions: [],
    gotoTable: TABLE.ROUTE,
    cookie,
  });
  push(out, e.dpid, {
    table: TABLE.NAT_LB,
    priority: PRIORITY.EIP_SNAT,
    match: { metadata: vni, ethDst: GATEWAY_MAC, ethType: ETH_TYPE_IPV4, ipv4Src: e.ip },
    actions: [setField('ipv4Src', publicIp), setField('ethDst', pseudoMac), decTtl()],
    gotoTable: TABLE.FORWARD,
    cookie,
  });
  compileEgress({ vni, publicIp, sources: new Set([e.dpid]), exits: plan.exits, transit: plan.transit, receivers: plan.receivers }, cookie, out);
  return out;
}
