/**
 * A volume's qos as meters (docs/volumes.md, "QoS"): each attachment of a volume with qos gets its
 * meters on its endpoint's switch, and every flow that carries the attachment's traffic on that switch
 * names them, both ways: its grants in ACCESS and its mount translation in NAT_LB (requests), and the
 * replies' EGRESS flows below (every reply reaches the endpoint's EGRESS, through its ingress checks),
 * so reads and writes count against one rate, as a cloud volume's throughput limit does.
 *
 * OpenFlow 1.3 gives a meter one unit and a flow one meter instruction: a qos with `mbps` is a kbps
 * meter (mbps x 1000), one with `pps` a pktps meter, and one with both is both meters in sequence:
 * each way the traffic crosses two tables on the endpoint's switch, and the second meter rides on a
 * flow of the other table that matches the same traffic and goes on to the next table
 * (`secondMeterFlows`; the first meter is the one the single-meter flows carry):
 *   requests to a target:      ACCESS grant (first), NAT_LB (second)
 *   requests to a mount address: ACCESS (second), NAT_LB translation (first)
 *   replies:                   SG_INGRESS_COMMIT (second), EGRESS (first)
 * The burst is QOS_BURST_MS of the rate, and at least one full-size frame (kbps) or one packet.
 *
 * A first meter's id is its attachment's number (`att-17` -> 17): unique on the switch (an attachment
 * has one endpoint), the same in an incremental and a full compile and after a controller restart (no
 * churn on reconnect). Any other id is hashed into 1..METER_ID_MAX. The second is the first plus
 * SECOND_METER_OFFSET (2^31), out of the way of every attachment number.
 */
import { METER_ID_MAX, nextTable, TABLE, type Action, type FlowEntry, type Match, type MeterEntry } from '../flow/index.js';
import type { VolumeQos } from '../model/index.js';
import { ETH_TYPE_IPV4, IP_PROTO_TCP, IP_PROTO_UDP } from '../net/packet/constants.js';
import { ownerId48 } from './cookies.js';
import { PRIORITY } from './priorities.js';
import { outputList } from './shared-actions.js';

/** An owner's meters, by switch (dpid). */
export type OwnerMeters = Map<number, MeterEntry[]>;

/** A meter's burst: this many milliseconds of its rate. */
export const QOS_BURST_MS = 100;
/** The smallest kbps burst: one 1,500-byte frame, in kilobits. */
const MIN_BURST_KILOBITS = 12;
const KBPS_PER_MBPS = 1000;
const NO_ACTIONS: Action[] = [];
Object.freeze(NO_ACTIONS);
const NO_METERS: readonly number[] = Object.freeze([]);

const ATTACHMENT_NUMBER = /^att-([1-9][0-9]{0,9})$/;
/** A second meter's id is its first's plus this (wrapped into 1..METER_ID_MAX). */
export const SECOND_METER_OFFSET = 0x80000000;

/** The meter id of an attachment's (first) meter (see above). */
export function attachmentMeterId(attachmentId: string): number {
  const m = ATTACHMENT_NUMBER.exec(attachmentId);
  const n = m ? Number(m[1]) : 0;
  if (n >= 1 && n <= METER_ID_MAX) return n;
  return (ownerId48(attachmentId) % METER_ID_MAX) + 1;
}

/** The id of the second meter of the attachment whose first meter is `first`. */
export function secondMeterId(first: number): number {
  return first <= METER_ID_MAX - SECOND_METER_OFFSET ? first + SECOND_METER_OFFSET : first - (METER_ID_MAX - SECOND_METER_OFFSET);
}

const limits = (x: number | undefined): x is number => x !== undefined && x > 0;

/** Does a qos limit anything (does it become a meter)? */
function qosLimits(qos: VolumeQos | undefined): qos is VolumeQos {
  return qos !== undefined && (limits(qos.mbps) || limits(qos.pps));
}

/** The ids of an attachment's meters for a qos: none, the first, or the first and the second (mbps and pps). */
export function qosMeterIds(qos: VolumeQos | undefined, attachmentId: string): readonly number[] {
  if (!qosLimits(qos)) return NO_METERS;
  const first = attachmentMeterId(attachmentId);
  return limits(qos.mbps) && limits(qos.pps) ? [first, secondMeterId(first)] : [first];
}

/**
 * The meters a qos becomes, their ids `ids` (qosMeterIds): kbps for `mbps`, pktps for `pps`, the
 * kbps one first when there are both; none for a qos that limits nothing.
 */
export function compileQosMeters(qos: VolumeQos | undefined, ids: readonly number[], cookie: number): MeterEntry[] {
  if (!qos) return [];
  const burstOf = (rate: number, min: number) => Math.max(min, Math.ceil((rate * QOS_BURST_MS) / 1000));
  const out: MeterEntry[] = [];
  if (limits(qos.mbps)) {
    const rate = qos.mbps * KBPS_PER_MBPS;
    out.push({ meterId: ids[out.length], unit: 'kbps', bands: [{ type: 'drop', rate, burst: burstOf(rate, MIN_BURST_KILOBITS) }], cookie });
  }
  if (limits(qos.pps)) out.push({ meterId: ids[out.length], unit: 'pktps', bands: [{ type: 'drop', rate: qos.pps, burst: burstOf(qos.pps, 1) }], cookie });
  return out;
}

/**
 * A second meter on the way through `table`: the traffic `match` picks out, TCP and UDP to (`dst`) or
 * from (`src`) `port`, through `meterId`, then on to the next table unchanged.
 */
export function secondMeterFlows(table: number, priority: number, match: Match, side: 'src' | 'dst', port: number, meterId: number, cookie: number): FlowEntry[] {
  const tcp = side === 'src' ? { tcpSrc: port } : { tcpDst: port };
  const udp = side === 'src' ? { udpSrc: port } : { udpDst: port };
  const on = { actions: NO_ACTIONS, gotoTable: nextTable(table), meterId, cookie };
  return [
    { table, priority, match: { ...match, ethType: ETH_TYPE_IPV4, ipProto: IP_PROTO_TCP, ...tcp }, ...on },
    { table, priority, match: { ...match, ethType: ETH_TYPE_IPV4, ipProto: IP_PROTO_UDP, ...udp }, ...on },
  ];
}

/** The attached endpoint a volume's replies are delivered to: its VPC's VNI, MAC and port on its switch. */
export interface MeteredEnd {
  vni: number;
  mac: number;
  port: number;
}

/**
 * The replies to `end` from `src` on one volume port (TCP and UDP each): through the first meter in
 * EGRESS, then out of the endpoint's port as its own EGRESS flow sends them; with a second meter, also
 * through it in SG_INGRESS_COMMIT, below the security groups' commit of a new connection (a reply is
 * none). A reply that arrives from a link or from another port of the switch passes the
 * destination-side checks first, as any frame does.
 */
export function replyMeterFlows(end: MeteredEnd, src: number, port: number, meterIds: readonly number[], cookie: number): FlowEntry[] {
  const match = { metadata: end.vni, ethDst: end.mac, ethType: ETH_TYPE_IPV4, ipv4Src: src } as const;
  const actions = outputList(end.port);
  const priority = PRIORITY.EGRESS_VOLUME_REPLY;
  const meterId = meterIds[0];
  const out: FlowEntry[] = [
    { table: TABLE.EGRESS, priority, match: { ...match, ipProto: IP_PROTO_TCP, tcpSrc: port }, actions, meterId, cookie },
    { table: TABLE.EGRESS, priority, match: { ...match, ipProto: IP_PROTO_UDP, udpSrc: port }, actions, meterId, cookie },
  ];
  if (meterIds.length > 1) out.push(...secondMeterFlows(TABLE.SG_INGRESS_COMMIT, PRIORITY.VOLUME_REPLY_SECOND_METER, match, 'src', port, meterIds[1], cookie));
  return out;
}
