/**
 * Delivering a rewritten frame to an endpoint: the gateway MAC as source, the endpoint's MAC as
 * destination, TTL decremented, then on its way. Load balancers' buckets (compile-load-balancer.ts) and
 * volumes' mount translations (compile-mount.ts) deliver this way.
 *
 * Every packet reaching an endpoint passes its subnet's ACL_INGRESS and its security groups
 * (docs/security-groups.md), so a delivery never ends out of the endpoint's port:
 * - to an endpoint on another switch: through its VPC's label group towards that switch, whose TENANT
 *   flow goes on to ACL_INGRESS;
 * - to one on this switch, from a flow: into its VPC's metadata, then FORWARD, whose flow for a local
 *   endpoint goes on to ACL_INGRESS;
 * - to one on this switch, from a select group's bucket (which cannot go to a table):
 *   ct(zone = its zone, table = ACL_INGRESS), a recirculation that carries the metadata the flow
 *   running the group wrote before it, which must be the endpoint's VPC's.
 */
import { ct, setField, TABLE, type Action, type MaskedValue } from '../flow/index.js';
import { GATEWAY_MAC } from '../model/index.js';
import { endpointZone } from './compile-security.js';
import { DEC_TTL, sharedGroup, sharedSetField } from './shared-actions.js';
import { vniMetadata } from './vpc-encoding.js';

const SET_GATEWAY_SRC = sharedSetField('ethSrc', GATEWAY_MAC);

/** Where a frame is delivered: an endpoint's MAC and port on its switch. */
export interface DeliveryEnd {
  mac: number;
  port: number;
  /** The endpoint's switch. */
  homeDpid: number;
}

/** The VPC's label group on `from` towards the switch `to` (undefined when to === from or unreachable). */
export type LabelGroupTowards = (from: number, to: number) => number | undefined;

/** What a flow delivering to an endpoint on its own switch does after its actions. */
export interface LocalHandoff {
  writeMetadata: MaskedValue;
  gotoTable: number;
}

/**
 * Appends to a flow's `actions` the delivery from switch `dpid` to `end`, an endpoint of VPC `vni`:
 * undefined (nothing appended) when `dpid` is cut off from the end's switch; an empty object when the
 * frame leaves through the label group; the metadata and table the flow goes on with when the end is on
 * `dpid`.
 */
export function appendFlowDelivery(actions: Action[], end: DeliveryEnd, vni: number, dpid: number, labelGroupTowards: LabelGroupTowards): Partial<LocalHandoff> | undefined {
  if (end.homeDpid === dpid) {
    actions.push(SET_GATEWAY_SRC, setField('ethDst', end.mac), DEC_TTL);
    return { writeMetadata: vniMetadata(vni), gotoTable: TABLE.FORWARD };
  }
  const labelGroup = labelGroupTowards(dpid, end.homeDpid);
  if (labelGroup === undefined) return undefined;
  appendDeliveryTail(actions, end.mac, sharedGroup(labelGroup));
  return {};
}

/**
 * Appends to a select group bucket's `actions` the delivery from switch `dpid` to `end`; false
 * (nothing appended) when `dpid` is cut off from the end's switch. The flow running the group must have
 * written the end's VPC's metadata.
 */
export function appendBucketDelivery(actions: Action[], end: DeliveryEnd, dpid: number, labelGroupTowards: LabelGroupTowards): boolean {
  let last: Action;
  if (end.homeDpid === dpid) last = intoIngressChecks(end.port);
  else {
    const labelGroup = labelGroupTowards(dpid, end.homeDpid);
    if (labelGroup === undefined) return false;
    last = sharedGroup(labelGroup);
  }
  appendDeliveryTail(actions, end.mac, last);
  return true;
}

/** A bucket's last action towards the endpoint on `port` of its switch: into its zone, on through its ACL_INGRESS. */
export function intoIngressChecks(port: number): Action {
  return ct(endpointZone(port), { table: TABLE.ACL_INGRESS });
}

/** Appends the delivery's MAC rewrite and TTL step, then `last` (the step that takes the frame on). */
export function appendDeliveryTail(actions: Action[], mac: number, last: Action): void {
  actions.push(SET_GATEWAY_SRC, setField('ethDst', mac), DEC_TTL, last);
}
