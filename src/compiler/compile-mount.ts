/**
 * Volume mount addresses as pure flow and group builders (docs/volumes.md "Mount addresses"). An
 * attachment's endpoint C (address c, VPC A) mounts the volume at M, an address of its own subnet; the
 * targets T (address t, storage VPC B) see it as S, the attachment's source address in B. Stateless
 * both ways, as a load balancer's translation:
 *
 * On C's switch (the mount owner; it places B there):
 *   ARP      metadata = A, request from c for M -> answered with GATEWAY_MAC.
 *   NAT_LB   metadata = A, c -> M, TCP/UDP to a volume port -> ip_src = S, then to one target:
 *            inline when M reaches one (Gluster's per-brick addresses, or a single live replica):
 *            ip_dst = t, delivered through B's label group, or (T on this switch) metadata = B and
 *            on to FORWARD; else metadata = B and on to ROUTE. No live target: dropped, counted
 *            under the attachment.
 *   ROUTE    with several targets: metadata = B, S -> M -> the attachment's select group (Maglev
 *            over the live replicas, one bucket each: ip_dst = t, then B's label group, or for T on
 *            this switch a recirculation into ACL_INGRESS in B's metadata, written before the group).
 * On each target's switch (the mount-return owner; it places A there):
 *   ARP      metadata = B, request for S -> answered with GATEWAY_MAC (S may sit in T's subnet).
 *   NAT_LB   metadata = B, t -> S, TCP/UDP from a volume port -> ip_src = M (T's own for Gluster),
 *            ip_dst = c, then delivered to C through A's label group, or (C on this switch)
 *            metadata = A and on to FORWARD.
 * Every delivery ends in the receiving end's ACL_INGRESS and security groups (deliver.ts), on its
 * switch as anywhere else.
 * Only attached endpoints have a translation, so a target admits, translated, exactly its volumes'
 * attached endpoints on its volumes' ports; nothing else crosses between A and B.
 * A metered attachment (its volume's qos, compile-volume-qos.ts) sends both ways through its meter on
 * C's switch: the translation to the targets carries it, and so do the replies' EGRESS flows from M
 * there (every reply reaches C's EGRESS, a target's on C's own switch too); a second meter (mbps and
 * pps) rides on an ACCESS flow of the requests and on a SG_INGRESS_COMMIT flow of the replies.
 */
import { group, setField, TABLE, type Action, type Bucket, type FlowEntry, type GroupEntry, type Match } from '../flow/index.js';
import { GATEWAY_MAC } from '../model/index.js';
import { ARP_OP_REQUEST, ETH_TYPE_ARP, ETH_TYPE_IPV4, IP_PROTO_TCP, IP_PROTO_UDP } from '../net/packet/constants.js';
import { arpReplyActions } from './arp-reply.js';
import { equalWeight, selectGroupId, type OwnerGroups } from './compile-load-balancer.js';
import { replyMeterFlows, secondMeterFlows } from './compile-volume-qos.js';
import { appendBucketDelivery, appendFlowDelivery, type DeliveryEnd, type LabelGroupTowards } from './deliver.js';
import { OwnerFlows } from './owner-flows.js';
import { PRIORITY } from './priorities.js';
import { vniMetadata } from './vpc-encoding.js';

/** An end of a mount: an endpoint's address, MAC, port and switch. */
export interface MountEnd extends DeliveryEnd {
  id: string;
  ip: number;
}

export interface MountPlan {
  attachmentId: string;
  client: MountEnd;
  clientVni: number;
  storageVni: number;
  /** The volume's ports (TCP and UDP each). */
  ports: readonly number[];
  /** The attachment's source address in the storage VPC. */
  source: number;
  /** Each mount address with the live targets it reaches (in a stable order). */
  mounts: readonly { ip: number; targets: readonly MountEnd[] }[];
  /** A VPC's label group on `from` towards `to`. */
  labelGroupTowards(vni: number, from: number, to: number): number | undefined;
  /** The attachment's qos meters on the endpoint's switch (compile-volume-qos.ts: none, one, or two), both owners name them. */
  meterIds: readonly number[];
}

/** The select group of an attachment whose mount address reaches several replicas: the same on every switch. */
export function mountGroupId(attachmentId: string): number {
  return selectGroupId(`mount ${attachmentId}`);
}

/**
 * TCP and UDP, in `metadata`, from `src` to `dst`, with the volume port on one side (`dst`: requests,
 * `src`: replies). Literals of fixed shape (a mount compiles four per port): no computed keys.
 */
function volumePortMatches(metadata: number, src: number, dst: number, side: 'src' | 'dst', port: number): Match[] {
  return side === 'dst'
    ? [
        { metadata, ethType: ETH_TYPE_IPV4, ipv4Src: src, ipv4Dst: dst, ipProto: IP_PROTO_TCP, tcpDst: port },
        { metadata, ethType: ETH_TYPE_IPV4, ipv4Src: src, ipv4Dst: dst, ipProto: IP_PROTO_UDP, udpDst: port },
      ]
    : [
        { metadata, ethType: ETH_TYPE_IPV4, ipv4Src: src, ipv4Dst: dst, ipProto: IP_PROTO_TCP, tcpSrc: port },
        { metadata, ethType: ETH_TYPE_IPV4, ipv4Src: src, ipv4Dst: dst, ipProto: IP_PROTO_UDP, udpSrc: port },
      ];
}

/** A NAT_LB translation flow: its actions, then where the delivery goes on (if anywhere), its meter if any. */
function translationFlow(priority: number, match: Match, actions: Action[], then: Delivery, cookie: number, meterId?: number): FlowEntry {
  const f: FlowEntry = { table: TABLE.NAT_LB, priority, match, actions, cookie };
  if (then.writeMetadata !== undefined) f.writeMetadata = then.writeMetadata;
  if (then.gotoTable !== undefined) f.gotoTable = then.gotoTable;
  if (meterId !== undefined) f.meterId = meterId;
  return f;
}

type Delivery = Pick<FlowEntry, 'writeMetadata' | 'gotoTable'>;

function arpAnswer(vni: number, ip: number, cookie: number, from?: number): FlowEntry {
  return {
    table: TABLE.ARP,
    priority: PRIORITY.MOUNT_ARP_REPLY,
    match: { metadata: vni, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpTpa: ip, ...(from === undefined ? {} : { arpSpa: from }) },
    actions: arpReplyActions(GATEWAY_MAC, ip),
    cookie,
  };
}

/** The client side: on the attached endpoint's switch. */
export function compileMountFlows(plan: MountPlan, cookie: number): { flows: OwnerFlows; groups: OwnerGroups } {
  const { client, clientVni: vni, meterIds } = plan;
  const dpid = client.homeDpid;
  const towards: LabelGroupTowards = (from, to) => plan.labelGroupTowards(plan.storageVni, from, to);
  const flows: FlowEntry[] = [];
  const groups: OwnerGroups = new Map();
  for (const m of plan.mounts) {
    flows.push(arpAnswer(vni, m.ip, cookie, client.ip));
    const reached = m.targets.filter((t) => t.homeDpid === dpid || towards(dpid, t.homeDpid) !== undefined);
    const actions: Action[] = [];
    let then: Delivery = {};
    if (reached.length === 1) {
      actions.push(setField('ipv4Src', plan.source), setField('ipv4Dst', reached[0].ip));
      then = appendFlowDelivery(actions, reached[0], plan.storageVni, dpid, towards) ?? {};
    } else if (reached.length > 1) {
      // The group runs from ROUTE, in the storage VPC's metadata: a bucket towards a target on this
      // switch recirculates through its ACL and security groups.
      const groupId = mountGroupId(plan.attachmentId);
      const buckets: Bucket[] = reached.map((t) => {
        const b: Action[] = [setField('ipv4Dst', t.ip)];
        appendBucketDelivery(b, t, dpid, towards);
        return { weight: equalWeight(reached.length), actions: b };
      });
      groups.set(dpid, [{ groupId, type: 'select', buckets, cookie } satisfies GroupEntry]);
      actions.push(setField('ipv4Src', plan.source));
      then = { writeMetadata: vniMetadata(plan.storageVni), gotoTable: TABLE.ROUTE };
      flows.push({
        table: TABLE.ROUTE,
        priority: PRIORITY.MOUNT_GROUP,
        match: { metadata: plan.storageVni, ethType: ETH_TYPE_IPV4, ipv4Src: plan.source, ipv4Dst: m.ip },
        actions: [group(groupId)],
        cookie,
      });
    }
    for (const port of plan.ports) {
      for (const match of volumePortMatches(vni, client.ip, m.ip, 'dst', port)) {
        flows.push(translationFlow(PRIORITY.MOUNT_DNAT, match, actions, then, cookie, meterIds.length === 0 ? undefined : meterIds[0]));
      }
      if (meterIds.length === 0) continue;
      flows.push(...replyMeterFlows({ vni, mac: client.mac, port: client.port }, m.ip, port, meterIds, cookie));
      if (meterIds.length > 1) {
        const toMount = { metadata: vni, ipv4Src: client.ip, ipv4Dst: m.ip };
        flows.push(...secondMeterFlows(TABLE.ACCESS, PRIORITY.ACCESS_ATTACHED, toMount, 'dst', port, meterIds[1], cookie));
      }
    }
  }
  const out = new OwnerFlows();
  out.set(dpid, flows);
  return { flows: out, groups };
}

/** The target side: on each live target's switch, the replies translated back to the mount address. */
export function compileMountReturnFlows(plan: MountPlan, cookie: number): OwnerFlows {
  const { client, storageVni: vni } = plan;
  const out = new OwnerFlows();
  const answered = new Set<number>();
  for (const m of plan.mounts) {
    for (const t of m.targets) {
      const dpid = t.homeDpid;
      const actions: Action[] = [setField('ipv4Src', m.ip), setField('ipv4Dst', client.ip)];
      const then = appendFlowDelivery(actions, client, plan.clientVni, dpid, (from, to) => plan.labelGroupTowards(plan.clientVni, from, to));
      if (!then) continue;
      if (!answered.has(dpid)) {
        answered.add(dpid);
        out.push(dpid, arpAnswer(vni, plan.source, cookie));
      }
      for (const port of plan.ports) {
        for (const match of volumePortMatches(vni, t.ip, plan.source, 'src', port)) out.push(dpid, translationFlow(PRIORITY.MOUNT_RETURN, match, actions, then, cookie));
      }
    }
  }
  return out;
}
