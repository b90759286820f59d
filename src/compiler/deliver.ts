/**
 * Delivering a rewritten frame completely, as a select group's bucket must (a bucket cannot go to a
 * table): the gateway MAC as source, the endpoint's MAC as destination, TTL decremented, then out of
 * the endpoint's port on its own switch, or through its VPC's label group towards its switch. Load
 * balancers' buckets (compile-load-balancer.ts) and volumes' mount translations (compile-mount.ts)
 * deliver this way.
 */
import { output, setField, type Action } from '../flow/index.js';
import { GATEWAY_MAC } from '../model/index.js';
import { DEC_TTL, sharedGroup, sharedSetField } from './shared-actions.js';

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

/**
 * Appends to `actions` the delivery from switch `dpid` to `end`; false (nothing appended) when `dpid`
 * is cut off from the end's switch.
 */
export function appendDelivery(actions: Action[], end: DeliveryEnd, dpid: number, labelGroupTowards: LabelGroupTowards): boolean {
  let last: Action;
  if (end.homeDpid === dpid) last = output(end.port);
  else {
    const labelGroup = labelGroupTowards(dpid, end.homeDpid);
    if (labelGroup === undefined) return false;
    last = sharedGroup(labelGroup);
  }
  appendDeliveryTail(actions, end.mac, last);
  return true;
}

/** Appends the delivery's MAC rewrite and TTL step, then `last` (the step that takes the frame on). */
export function appendDeliveryTail(actions: Action[], mac: number, last: Action): void {
  actions.push(SET_GATEWAY_SRC, setField('ethDst', mac), DEC_TTL, last);
}
