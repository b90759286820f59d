/**
 * Volume mount addresses as pure flow and group builders (docs/volumes.md "Mount addresses"). An
 * attachment's endpoint C (address c, VPC A) mounts the volume at M, an address of its own subnet; the
 * targets T (address t, storage VPC B) see it as S, the attachment's source address in B. Stateless
 * both ways, as a load balancer's translation:
 *
 * On C's switch (the mount owner; it places B there):
 *   ARP      metadata = A, request from c for M -> answered with GATEWAY_MAC.
 *   NAT_LB   metadata = A, c -> M, TCP/UDP to a volume port -> ip_src = S, then to one target:
 *            inline when M reaches one (Gluster's per-brick addresses, or a single live replica),
 *            else the attachment's select group (Maglev over the live replicas, one bucket each);
 *            the delivery rewrites ip_dst = t and goes out of T's port or through B's label group
 *            (deliver.ts). No live target: dropped, counted under the attachment.
 * On each target's switch (the mount-return owner; it places A there):
 *   ARP      metadata = B, request for S -> answered with GATEWAY_MAC (S may sit in T's subnet).
 *   NAT_LB   metadata = B, t -> S, TCP/UDP from a volume port -> ip_src = M (T's own for Gluster),
 *            ip_dst = c, then delivered to C through A's label group (or out of C's port).
 * Only attached endpoints have a translation, so a target admits, translated, exactly its volumes'
 * attached endpoints on its volumes' ports; nothing else crosses between A and B.
 * A metered attachment (its volume's qos, compile-volume-qos.ts) sends both ways through its meter on
 * C's switch: the translation to the targets carries it, and so do the replies' EGRESS flows from M
 * there, or the return translation itself on C's switch when a target shares it (that reply goes
 * straight out of C's port); a second meter (mbps and pps) rides on ACCESS flows of the same traffic
 * there, and in SG_INGRESS_COMMIT for the replies reaching EGRESS.
 */
import { group, setField, TABLE, type Action, type Bucket, type FlowEntry, type GroupEntry } from '../flow/index.js';
import { GATEWAY_MAC } from '../model/index.js';
import { ARP_OP_REQUEST, ETH_TYPE_ARP, ETH_TYPE_IPV4, IP_PROTO_TCP, IP_PROTO_UDP } from '../net/packet/constants.js';
import { arpReplyActions } from './arp-reply.js';
import { equalWeight, selectGroupId, type OwnerGroups } from './compile-load-balancer.js';
import { replyMeterFlows, secondMeterFlows } from './compile-volume-qos.js';
import { appendDelivery, type DeliveryEnd, type LabelGroupTowards } from './deliver.js';
import { OwnerFlows } from './owner-flows.js';
import { PRIORITY } from './priorities.js';

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

const L4 = [
  { proto: IP_PROTO_TCP, src: 'tcpSrc', dst: 'tcpDst' },
  { proto: IP_PROTO_UDP, src: 'udpSrc', dst: 'udpDst' },
] as const;

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
  const toTarget = (t: MountEnd): Action[] | undefined => {
    const actions: Action[] = [setField('ipv4Dst', t.ip)];
    return appendDelivery(actions, t, dpid, towards) ? actions : undefined;
  };
  for (const m of plan.mounts) {
    flows.push(arpAnswer(vni, m.ip, cookie, client.ip));
    const buckets: Bucket[] = [];
    for (const t of m.targets) {
      const actions = toTarget(t);
      if (actions) buckets.push({ weight: equalWeight(m.targets.length), actions });
    }
    const actions: Action[] = [];
    if (buckets.length === 1) actions.push(setField('ipv4Src', plan.source), ...buckets[0].actions);
    else if (buckets.length > 1) {
      const groupId = mountGroupId(plan.attachmentId);
      groups.set(dpid, [{ groupId, type: 'select', buckets, cookie } satisfies GroupEntry]);
      actions.push(setField('ipv4Src', plan.source), group(groupId));
    }
    for (const port of plan.ports) {
      for (const l4 of L4) {
        flows.push({
          table: TABLE.NAT_LB,
          priority: PRIORITY.MOUNT_DNAT,
          match: { metadata: vni, ethType: ETH_TYPE_IPV4, ipv4Src: client.ip, ipv4Dst: m.ip, ipProto: l4.proto, [l4.dst]: port },
          actions,
          cookie,
          ...(meterIds.length === 0 ? {} : { meterId: meterIds[0] }),
        });
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
      if (!appendDelivery(actions, client, dpid, (from, to) => plan.labelGroupTowards(plan.clientVni, from, to))) continue;
      // On the client's switch the reply goes straight out of its port: the meters are here, not in EGRESS.
      const near = dpid === client.homeDpid && plan.meterIds.length > 0;
      const meter = near ? { meterId: plan.meterIds[0] } : undefined;
      if (!answered.has(dpid)) {
        answered.add(dpid);
        out.push(dpid, arpAnswer(vni, plan.source, cookie));
      }
      for (const port of plan.ports) {
        for (const l4 of L4) {
          out.push(dpid, {
            table: TABLE.NAT_LB,
            priority: PRIORITY.MOUNT_RETURN,
            match: { metadata: vni, ethType: ETH_TYPE_IPV4, ipv4Src: t.ip, ipv4Dst: plan.source, ipProto: l4.proto, [l4.src]: port },
            actions,
            ...meter,
            cookie,
          });
        }
        if (near && plan.meterIds.length > 1) {
          const fromTarget = { metadata: vni, ipv4Src: t.ip, ipv4Dst: plan.source };
          for (const f of secondMeterFlows(TABLE.ACCESS, PRIORITY.ACCESS_ATTACHED, fromTarget, 'src', port, plan.meterIds[1], cookie)) out.push(dpid, f);
        }
      }
    }
  }
  return out;
}
