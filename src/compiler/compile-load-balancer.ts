/**
 * Load balancers as pure flow and group builders (docs/elastic-ip.md).
 *
 * On every switch where the VPC is present:
 *   ARP      metadata = vni, request for the VIP -> answered with GATEWAY_MAC (clients in the VIP's
 *            subnet then send to the gateway like everybody else).
 *   NAT_LB   metadata = vni, ip_dst = VIP, protocol, dst port -> the LB's select group on this switch;
 *            with no backend in the pool -> the controller, under the LB's cookie (scale from zero).
 *   group    select, one bucket per backend, weight = its revision's weight shared among the
 *            revision's backends; a bucket cannot goto-table: ip_dst (and the port) rewritten,
 *            eth_src = GATEWAY_MAC, eth_dst = backend, dec_ttl, then, for a backend on this switch,
 *            ct(zone = the backend's zone, table = ACL_INGRESS): the recirculation continues the
 *            pipeline with the rewritten packet (in the VPC's metadata, which every flow running the
 *            group has written before it), through the backend's ACL and security groups to EGRESS
 *            (as OVN's load balancers recirculate from their buckets), or towards its switch through
 *            the VPC's label group on that port
 *            (vpc-encoding.ts vniGroup: an OpenFlow 1.3 bucket is an action set, one push_mpls each
 *            with its set-fields after it, so each label is pushed by a group of its own). The
 *            softswitch picks the bucket by Maglev over the 5-tuple hash, so a connection keeps its
 *            backend and a pool change moves ~1/N.
 * On every backend's switch:
 *   NAT_LB   metadata = vni, ip_src = backend, protocol, src port = backend port -> ip_src = VIP (and
 *            the port), then ROUTE as usual: clients only ever see the VIP.
 * Behind an elastic IP (`plan.outside`), additionally:
 *   ARP      at each serving gateway: the public IP -> the gateway's MAC (as an elastic IP's).
 *   INGRESS  at each serving gateway with the LB's group (the gateway's switch counts as present, so
 *            it has one unless the pool is empty or cut off): uplink, to the gateway's MAC, ip_dst =
 *            public IP, protocol, dst port -> ip_dst = VIP, metadata = vni, NAT_LB: from there the
 *            packet is the VPC's, to the VIP, and meets the VIP's flow like a client's inside.
 *   NAT_LB   at each serving gateway without the group: uplink, ip_dst = public IP, protocol, dst
 *            port -> the controller untranslated (the replay of a held packet starts over at table 0
 *            on the uplink port, so it must still carry the public IP).
 *   NAT_LB   at each backend's switch: the reply to the VPC's own space -> as above (routed); via the
 *            gateway MAC elsewhere -> ip_src = public IP (and the port), eth_dst = the public IP's
 *            pseudo MAC, dec_ttl, FORWARD: the SNAT happens at the backend's switch.
 *   FORWARD, TENANT  the elastic IP's egress path (compile-elastic-ip.ts compileEgress) from the
 *            backends' switches to the nearest exits.
 */
import {
  decTtl,
  group,
  setField,
  TABLE,
  toController,
  type Action,
  type Bucket,
  type FieldName,
  type FlowEntry,
  type GroupEntry,
} from '../flow/index.js';
import { GATEWAY_MAC, type Endpoint, type LoadBalancer } from '../model/index.js';
import { ARP_OP_REQUEST, ETH_TYPE_ARP, ETH_TYPE_IPV4, IP_PROTO_TCP, IP_PROTO_UDP } from '../net/packet/constants.js';
import { prefixMask } from '../net/cidr.js';
import { arpReplyActions } from './arp-reply.js';
import { appendDeliveryTail, intoIngressChecks, type LabelGroupTowards } from './deliver.js';
import { compileEgress, elasticIpMac, UPLINK_METADATA, type GatewayPort } from './compile-elastic-ip.js';
import { ownerId48 } from './cookies.js';
import { OwnerFlows } from './owner-flows.js';
import { PRIORITY } from './priorities.js';
import { sharedGroup, sharedSetField } from './shared-actions.js';
import { vniMetadata } from './vpc-encoding.js';

/** Groups per dpid. */
export type OwnerGroups = Map<number, GroupEntry[]>;

/** Total of all bucket weights of a pool (OpenFlow bucket weights are 16-bit). */
export const LB_WEIGHT_SCALE = 60_000;

/**
 * A select group's id: the same on every switch, from its owner's name (never 0, below the block and
 * VNI groups' range of vpc-encoding.ts).
 */
export function selectGroupId(ownerName: string): number {
  return (ownerId48(ownerName) % 0x7ffffffe) + 1;
}

/** A load balancer's group id: the same on every switch, from its id. */
export function loadBalancerGroupId(lbId: string): number {
  return selectGroupId(lbId);
}

/** Each bucket's weight when `n` share a pool equally. */
export function equalWeight(n: number): number {
  return Math.max(1, Math.floor(LB_WEIGHT_SCALE / Math.max(1, n)));
}

export interface LbBackend {
  endpoint: Endpoint;
  /** The backend's switch. */
  homeDpid: number;
}

export interface LoadBalancerPlan {
  lb: LoadBalancer;
  vni: number;
  /** Switches where the VPC is present, each with its ports towards every backend home (absent: cannot reach). */
  presentDpids: readonly number[];
  /** The VPC's label group on `from` towards the switch `to` (undefined when to === from or unreachable). */
  labelGroupTowards: LabelGroupTowards;
  /** Healthy backends in the pool (weights decided here). */
  pool: readonly LbBackend[];
  /** Every backend of the function, healthy or not: their replies are rewritten back to the VIP. */
  members: readonly LbBackend[];
  /** Set when the LB is live behind an elastic IP. */
  outside?: LbOutside;
}

/** An LB's elastic IP placed on the fabric. */
export interface LbOutside {
  publicIp: number;
  /** The VPC's address space: replies inside it are never translated to the public IP. */
  vpcCidr: { network: number; prefixLength: number };
  /** Every gateway whose pool holds the address: each answers ARP for it and translates inbound. */
  gateways: readonly GatewayPort[];
  /** Where replies may leave (some of `gateways`, at most one per switch): each translates and sends them out. */
  exits: readonly GatewayPort[];
  /** Switches on the way from the backends' switches to their exits (exits excluded), with their port towards one. */
  transit: ReadonlyMap<number, number>;
  /** Switches on the way (exits included) that receive the replies from a link, labelled. */
  receivers: ReadonlySet<number>;
}

/**
 * Bucket weights: each revision's weight shared among its backends, scaled so the pool sums to about
 * LB_WEIGHT_SCALE. With no weights given every backend weighs the same; a revision not named gets 0.
 */
export function backendWeights(lb: LoadBalancer, pool: readonly LbBackend[]): number[] {
  const named = Object.keys(lb.weights);
  if (named.length === 0) return pool.map(() => equalWeight(pool.length));
  const count = new Map<string, number>();
  for (const b of pool) {
    const r = b.endpoint.labels.revision ?? '';
    count.set(r, (count.get(r) ?? 0) + 1);
  }
  let total = 0;
  for (const [r, n] of count) if (n > 0) total += Math.max(0, lb.weights[r] ?? 0);
  return pool.map((b) => {
    const r = b.endpoint.labels.revision ?? '';
    const w = Math.max(0, lb.weights[r] ?? 0);
    if (w === 0 || total === 0) return 0;
    return Math.max(1, Math.round((LB_WEIGHT_SCALE * w) / total / (count.get(r) ?? 1)));
  });
}

function l4Fields(lb: LoadBalancer): { proto: number; src: FieldName; dst: FieldName } {
  return lb.protocol === 'tcp' ? { proto: IP_PROTO_TCP, src: 'tcpSrc', dst: 'tcpDst' } : { proto: IP_PROTO_UDP, src: 'udpSrc', dst: 'udpDst' };
}

/**
 * A bucket's way to its backend: HOME (into the backend's conntrack zone and on through its ingress
 * checks) or the label group's id.
 */
const HOME = -1;

/** One backend's buckets, by way. */
class BucketMemo {
  private readonly byWay = new Map<number, Bucket>();

  get(way: number, make: () => Bucket): Bucket {
    let b = this.byWay.get(way);
    if (!b) this.byWay.set(way, (b = Object.freeze(make())));
    return b;
  }
}

/** A bucket's actions: the backend's address (and port), the gateway's MAC as source, then on its way. */
function bucketActions(lb: LoadBalancer, dst: FieldName, b: LbBackend, way: number): Action[] {
  const e = b.endpoint;
  const last = way === HOME ? intoIngressChecks(e.port) : sharedGroup(way);
  const actions: Action[] = [sharedSetField('ipv4Dst', e.ip)];
  if (lb.backendPort !== lb.port) actions.push(sharedSetField(dst, lb.backendPort));
  appendDeliveryTail(actions, e.mac, last);
  return Object.freeze(actions) as Action[];
}

function push<T>(into: Map<number, T[]>, dpid: number, x: T): void {
  const xs = into.get(dpid);
  if (xs) xs.push(x);
  else into.set(dpid, [x]);
}

export function compileLoadBalancerFlows(plan: LoadBalancerPlan, cookie: number): { flows: OwnerFlows; groups: OwnerGroups } {
  const { lb, vni } = plan;
  const flows = new OwnerFlows();
  const groups: OwnerGroups = new Map();
  const { proto, src, dst } = l4Fields(lb);
  const groupId = loadBalancerGroupId(lb.id);
  const weights = backendWeights(lb, plan.pool);
  const live = plan.pool.map((b, i) => ({ b, w: weights[i], buckets: new BucketMemo() })).filter((x) => x.w > 0);
  const grouped = new Set<number>();
  const arp: FlowEntry = {
    table: TABLE.ARP,
    priority: PRIORITY.LB_ARP_REPLY,
    match: { metadata: vni, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpTpa: lb.vip },
    actions: arpReplyActions(GATEWAY_MAC, lb.vip),
    cookie,
  };
  const vipMatch = { metadata: vni, ethType: ETH_TYPE_IPV4, ipProto: proto, ipv4Dst: lb.vip, [dst]: lb.port };
  const toGroup: FlowEntry = { table: TABLE.NAT_LB, priority: PRIORITY.LB_VIP, match: vipMatch, actions: [group(groupId)], cookie };
  const cold: FlowEntry = { table: TABLE.NAT_LB, priority: PRIORITY.LB_VIP, match: vipMatch, actions: [toController()], cookie };
  for (const dpid of plan.presentDpids) {
    flows.push(dpid, arp);
    if (live.length === 0) {
      flows.push(dpid, cold);
      continue;
    }
    const buckets: Bucket[] = [];
    for (const x of live) {
      // A backend's bucket is the same on every switch that reaches it the same way (through its
      // ingress checks at its home, through one label group elsewhere): one frozen object per way.
      const way = x.b.homeDpid === dpid ? HOME : plan.labelGroupTowards(dpid, x.b.homeDpid);
      if (way === undefined) continue; // cut off from this backend: not in this switch's pool
      buckets.push(x.buckets.get(way, () => ({ weight: x.w, actions: bucketActions(lb, dst, x.b, way) })));
    }
    if (buckets.length === 0) {
      flows.push(dpid, cold);
      continue;
    }
    push(groups, dpid, { groupId, type: 'select', buckets, cookie });
    grouped.add(dpid);
    flows.push(dpid, toGroup);
  }
  for (const b of plan.members) {
    const e = b.endpoint;
    const actions: Action[] = [setField('ipv4Src', lb.vip)];
    if (lb.backendPort !== lb.port) actions.push(setField(src, lb.port));
    const match = { metadata: vni, ethType: ETH_TYPE_IPV4, ipProto: proto, ipv4Src: e.ip, [src]: lb.backendPort };
    flows.push(b.homeDpid, { table: TABLE.NAT_LB, priority: PRIORITY.LB_RETURN, match, actions, gotoTable: TABLE.ROUTE, cookie });
    if (plan.outside) {
      const mask = prefixMask(plan.outside.vpcCidr.prefixLength);
      flows.push(b.homeDpid, {
        table: TABLE.NAT_LB,
        priority: PRIORITY.LB_RETURN_BYPASS,
        match: { ...match, ipv4Dst: { value: (plan.outside.vpcCidr.network & mask) >>> 0, mask } },
        actions,
        gotoTable: TABLE.ROUTE,
        cookie,
      });
      const out: Action[] = [setField('ipv4Src', plan.outside.publicIp)];
      if (lb.backendPort !== lb.port) out.push(setField(src, lb.port));
      flows.push(b.homeDpid, {
        table: TABLE.NAT_LB,
        priority: PRIORITY.LB_RETURN_OUT,
        match: { ...match, ethDst: GATEWAY_MAC },
        actions: [...out, setField('ethDst', elasticIpMac(plan.outside.publicIp)), decTtl()],
        gotoTable: TABLE.FORWARD,
        cookie,
      });
    }
  }
  if (plan.outside) compileOutside(plan, plan.outside, grouped, cookie, flows);
  return { flows, groups };
}

/** The flows that put the LB behind its elastic IP (see the header). */
function compileOutside(plan: LoadBalancerPlan, o: LbOutside, grouped: ReadonlySet<number>, cookie: number, flows: OwnerFlows): void {
  const { lb, vni } = plan;
  const { proto, dst } = l4Fields(lb);
  for (const g of o.gateways) {
    flows.push(g.dpid, {
      table: TABLE.ARP,
      priority: PRIORITY.UPLINK_ARP_REPLY,
      match: { metadata: UPLINK_METADATA, inPort: g.port, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpTpa: o.publicIp },
      actions: arpReplyActions(g.mac, o.publicIp),
      cookie,
    });
    if (grouped.has(g.dpid)) {
      // Into the VPC before NAT_LB, so the group runs in the VPC's metadata: a bucket towards a
      // backend on this switch recirculates through its ACL and security groups (docs/security-groups.md).
      flows.push(g.dpid, {
        table: TABLE.INGRESS,
        priority: PRIORITY.INGRESS_UPLINK_LB,
        match: { inPort: g.port, vlanVid: 0, ethDst: g.mac, ethType: ETH_TYPE_IPV4, ipProto: proto, ipv4Dst: o.publicIp, [dst]: lb.port },
        actions: [setField('ipv4Dst', lb.vip)],
        writeMetadata: vniMetadata(vni),
        gotoTable: TABLE.NAT_LB,
        cookie,
      });
      continue;
    }
    // No group on this switch (empty pool, or cut off from every backend): the controller (cold start),
    // with the frame untranslated: the hold replays it from table 0 on this port, through this flow again.
    flows.push(g.dpid, {
      table: TABLE.NAT_LB,
      priority: PRIORITY.EIP_DNAT,
      match: { metadata: UPLINK_METADATA, inPort: g.port, ethType: ETH_TYPE_IPV4, ipProto: proto, ipv4Dst: o.publicIp, [dst]: lb.port },
      actions: [toController()],
      writeMetadata: vniMetadata(vni),
      cookie,
    });
  }
  compileEgress({ vni, publicIp: o.publicIp, sources: new Set(plan.members.map((b) => b.homeDpid)), exits: o.exits, transit: o.transit, receivers: o.receivers }, cookie, flows);
}
