/**
 * A volume's qos as meters (docs/volumes.md, "QoS"): each attachment of a volume with qos gets one
 * meter on its endpoint's switch, and every flow that carries the attachment's traffic on that switch
 * names it, both ways: its grants in ACCESS and its mount translation in NAT_LB (requests), and the
 * replies' EGRESS flows below (or the mount's return translation when the target shares the switch),
 * so reads and writes count against one rate, as a cloud volume's throughput limit does.
 *
 * OpenFlow 1.3 gives a meter one unit and a flow one meter: a qos with `mbps` is a kbps meter (mbps x
 * 1000), one with only `pps` a pktps meter; with both, the meter is in kbps and `pps` is not enforced.
 * The burst is QOS_BURST_MS of the rate, and at least one full-size frame (kbps) or one packet.
 *
 * A meter's id is its attachment's number (`att-17` -> 17): unique on the switch (an attachment has
 * one endpoint), the same in an incremental and a full compile and after a controller restart (no
 * churn on reconnect). Any other id is hashed into 1..METER_ID_MAX.
 */
import { METER_ID_MAX, TABLE, type FlowEntry, type MeterEntry } from '../flow/index.js';
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

const ATTACHMENT_NUMBER = /^att-([1-9][0-9]{0,9})$/;

/** The meter id of an attachment's meter (see above). */
export function attachmentMeterId(attachmentId: string): number {
  const m = ATTACHMENT_NUMBER.exec(attachmentId);
  const n = m ? Number(m[1]) : 0;
  if (n >= 1 && n <= METER_ID_MAX) return n;
  return (ownerId48(attachmentId) % METER_ID_MAX) + 1;
}

/** Does a qos limit anything (does it become a meter)? */
export function qosLimits(qos: VolumeQos | undefined): qos is VolumeQos {
  return qos !== undefined && ((qos.mbps !== undefined && qos.mbps > 0) || (qos.pps !== undefined && qos.pps > 0));
}

/** The meter a qos becomes, or undefined for a qos that limits nothing. */
export function compileQosMeter(qos: VolumeQos | undefined, meterId: number, cookie: number): MeterEntry | undefined {
  if (!qos) return undefined;
  const burstOf = (rate: number, min: number) => Math.max(min, Math.ceil((rate * QOS_BURST_MS) / 1000));
  if (qos.mbps !== undefined && qos.mbps > 0) {
    const rate = qos.mbps * KBPS_PER_MBPS;
    return { meterId, unit: 'kbps', bands: [{ type: 'drop', rate, burst: burstOf(rate, MIN_BURST_KILOBITS) }], cookie };
  }
  if (qos.pps !== undefined && qos.pps > 0) {
    return { meterId, unit: 'pktps', bands: [{ type: 'drop', rate: qos.pps, burst: burstOf(qos.pps, 1) }], cookie };
  }
  return undefined;
}

/** The attached endpoint a volume's replies are delivered to: its VPC's VNI, MAC and port on its switch. */
export interface MeteredEnd {
  vni: number;
  mac: number;
  port: number;
}

/**
 * The replies to `end` from `src` on one volume port (TCP and UDP each), through `meterId` in EGRESS,
 * then out of the endpoint's port as its own EGRESS flow sends them. A reply that arrives from a link or
 * from another port of the switch passes the destination-side checks first, as any frame does.
 */
export function replyMeterFlows(end: MeteredEnd, src: number, port: number, meterId: number, cookie: number): FlowEntry[] {
  const match = { metadata: end.vni, ethDst: end.mac, ethType: ETH_TYPE_IPV4, ipv4Src: src } as const;
  const actions = outputList(end.port);
  const priority = PRIORITY.EGRESS_VOLUME_REPLY;
  return [
    { table: TABLE.EGRESS, priority, match: { ...match, ipProto: IP_PROTO_TCP, tcpSrc: port }, actions, meterId, cookie },
    { table: TABLE.EGRESS, priority, match: { ...match, ipProto: IP_PROTO_UDP, udpSrc: port }, actions, meterId, cookie },
  ];
}
