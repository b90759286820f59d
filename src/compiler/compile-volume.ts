/**
 * The flows of volumes and attachments in the ACCESS table (docs/volumes.md), as pure builders; the
 * engine nodes (incremental/volume-node.ts, incremental/attachment-node.ts) decide what each owner
 * reaches. ACCESS runs on the switch where a packet enters from its endpoint (link frames never reach
 * it), so each check sits on the sender's switch:
 *   - a target: IPv4 to its address in its VPC -> drop, counted under its volume, on every switch
 *     where the VPC is present (ACCESS_TARGET_DROP);
 *   - an attachment: from the attached endpoint to each target of the volume on each of the volume's
 *     ports, TCP and UDP -> on (ACCESS_ATTACHED), on the endpoint's switch (one owner per endpoint
 *     holds the grants of all its attachments, each flow under its attachment's cookie); a metered
 *     grant also sends the target's replies from that port through the meter in EGRESS, and a
 *     second meter (mbps and pps) rides in NAT_LB and SG_INGRESS_COMMIT (compile-volume-qos.ts);
 *   - a volume with several targets: from each target to the others, anything -> on (ACCESS_REPLICA),
 *     on the sending target's switch (replication between replicas and bricks).
 */
import { nextTable, TABLE, type Action, type FlowEntry } from '../flow/index.js';
import { ETH_TYPE_IPV4, IP_PROTO_TCP, IP_PROTO_UDP } from '../net/packet/constants.js';
import { replyMeterFlows, secondMeterFlows } from './compile-volume-qos.js';
import { OwnerFlows } from './owner-flows.js';
import { PRIORITY } from './priorities.js';

const NO_ACTIONS: Action[] = [];
Object.freeze(NO_ACTIONS);
const ON = nextTable(TABLE.ACCESS);

/** A target as the builders see it: its address, its VPC's VNI and its switch. */
export interface VolumeTarget {
  id: string;
  ip: number;
  vni: number;
  dpid: number;
}

export interface VolumePlan {
  /** Targets whose drop flow this volume owns, each with the switches where its VPC is present. */
  guarded: readonly { target: VolumeTarget; presentDpids: readonly number[] }[];
  /** Ordered pairs (from, to) of targets in one VPC whose replication flow this volume owns. */
  replicas: readonly [VolumeTarget, VolumeTarget][];
}

export function compileVolumeFlows(plan: VolumePlan, cookie: number): OwnerFlows {
  const out = new OwnerFlows();
  const push = (dpid: number, f: FlowEntry) => out.push(dpid, f);
  for (const { target: t, presentDpids } of plan.guarded) {
    const drop: FlowEntry = {
      table: TABLE.ACCESS,
      priority: PRIORITY.ACCESS_TARGET_DROP,
      match: { metadata: t.vni, ethType: ETH_TYPE_IPV4, ipv4Dst: t.ip },
      actions: NO_ACTIONS,
      cookie,
    };
    for (const dpid of presentDpids) push(dpid, drop);
  }
  for (const [from, to] of plan.replicas) {
    push(from.dpid, {
      table: TABLE.ACCESS,
      priority: PRIORITY.ACCESS_REPLICA,
      match: { metadata: from.vni, ethType: ETH_TYPE_IPV4, ipv4Src: from.ip, ipv4Dst: to.ip },
      actions: NO_ACTIONS,
      gotoTable: ON,
      cookie,
    });
  }
  return out;
}

/** One target address and port an endpoint may reach, with the cookie of the attachment granting it. */
export interface AttachmentGrant {
  targetIp: number;
  port: number;
  cookie: number;
  /** The granting attachment's meters (its volume's qos, compile-volume-qos.ts: one or two), if any. */
  meterIds?: readonly number[];
}

export interface AttachmentPlan {
  /** The attached endpoint's address, VNI, switch, MAC and port (where metered replies are delivered). */
  ip: number;
  vni: number;
  dpid: number;
  mac: number;
  port: number;
  /** Distinct (target address, port) pairs. */
  grants: readonly AttachmentGrant[];
}

/** An attached endpoint's grants, TCP and UDP each, on its switch. */
export function compileAttachmentFlows(plan: AttachmentPlan): OwnerFlows {
  const out = new OwnerFlows();
  if (plan.grants.length === 0) return out;
  const flows: FlowEntry[] = [];
  const { vni, ip } = plan;
  for (const { targetIp, port, cookie, meterIds } of plan.grants) {
    const meter = meterIds === undefined ? undefined : { meterId: meterIds[0] };
    flows.push(
      {
        table: TABLE.ACCESS,
        priority: PRIORITY.ACCESS_ATTACHED,
        match: { metadata: vni, ethType: ETH_TYPE_IPV4, ipv4Src: ip, ipv4Dst: targetIp, ipProto: IP_PROTO_TCP, tcpDst: port },
        actions: NO_ACTIONS,
        gotoTable: ON,
        ...meter,
        cookie,
      },
      {
        table: TABLE.ACCESS,
        priority: PRIORITY.ACCESS_ATTACHED,
        match: { metadata: vni, ethType: ETH_TYPE_IPV4, ipv4Src: ip, ipv4Dst: targetIp, ipProto: IP_PROTO_UDP, udpDst: port },
        actions: NO_ACTIONS,
        gotoTable: ON,
        ...meter,
        cookie,
      },
    );
    if (meterIds === undefined) continue;
    flows.push(...replyMeterFlows(plan, targetIp, port, meterIds, cookie));
    if (meterIds.length > 1) {
      const toTarget = { metadata: vni, ipv4Src: ip, ipv4Dst: targetIp };
      flows.push(...secondMeterFlows(TABLE.NAT_LB, PRIORITY.VOLUME_SECOND_METER, toTarget, 'dst', port, meterIds[1], cookie));
    }
  }
  out.set(plan.dpid, flows);
  return out;
}
