/**
 * The pieces of flows that carry a VPC between switches (docs/vpc.md), made once and shared: flows are
 * immutable values, so what only depends on the VNI (and a port) is one frozen object for every flow
 * of every owner that uses it. A 1000-VPC compile retains ~300,000 flows; each object less per flow is
 * less allocation and GC. The memos are bounded (VNIs in use x link ports) and hold frozen values.
 *
 *   FORWARD, traffic that entered here:  push the VPC's two labels, out towards the destination.
 *   TENANT, traffic from a link (the block flow popped the top label, tenant-block-node.ts), matched on
 *   block metadata + bottom label + destination MAC:
 *     at the destination's switch:  pop the bottom label, the VPC's metadata, on to the destination-side
 *       checks (ACL_INGRESS): they match L3/L4 fields, which Open vSwitch re-parses after the last
 *       pop with a recirculation; EGRESS outputs.
 *     on the way:  push the top label back, out towards the destination (the frame never lost its
 *       bottom label).
 */
import { TABLE, type Action, type FlowEntry, type MaskedValue, type Match } from '../flow/index.js';
import { ETH_TYPE_MPLS } from '../net/packet/constants.js';
import { outputList, sharedSetField } from './shared-actions.js';
import { blockLabel, blockMetadata, POP_VNI_LABEL, PUSH_MPLS_LABEL, vniBlock, vniLabel, vniMetadata, vniPushActions } from './vpc-encoding.js';

const metadataByVni = new Map<number, MaskedValue>();
const labelActionsByVni = new Map<number, Map<number, Action[]>>();
const relayActionsByBlock = new Map<number, Map<number, Action[]>>();
const DELIVER_ACTIONS = Object.freeze([POP_VNI_LABEL]) as Action[];

function memo<T>(table: Map<number, Map<number, T>>, a: number, b: number, make: () => T): T {
  let inner = table.get(a);
  if (!inner) table.set(a, (inner = new Map()));
  let x = inner.get(b);
  if (x === undefined) inner.set(b, (x = Object.freeze(make()) as T));
  return x;
}

/** The write-metadata that puts a frame into VPC `vni` (frozen, one per VNI). */
export function metadataOf(vni: number): MaskedValue {
  let meta = metadataByVni.get(vni);
  if (!meta) metadataByVni.set(vni, (meta = Object.freeze(vniMetadata(vni))));
  return meta;
}

/**
 * Push the VPC's label stack, output on `port` (vpc-encoding.ts vniPushActions): one list per VNI and
 * port, made of actions shared with every other list (the push, each label's set-field, the output).
 */
export function labelActions(vni: number, port: number): Action[] {
  return memo(labelActionsByVni, vni, port, () => [...vniPushActions(vni), outputList(port)[0]]);
}

/** A labelled frame on the way: push the block's label back on, output on `port`. */
export function relayActions(vni: number, port: number): Action[] {
  const block = vniBlock(vni);
  return memo(relayActionsByBlock, block, port, () => [PUSH_MPLS_LABEL, sharedSetField('mplsLabel', blockLabel(block)), outputList(port)[0]]);
}

/** A labelled frame at its destination's switch: pop the last label (then on to the destination-side checks). */
export function deliverActions(): Action[] {
  return DELIVER_ACTIONS;
}

/** TENANT's match for a VPC's labelled frames to one MAC (after the block flow popped the top label). */
export function labelledMatch(vni: number, ethDst: number): Match {
  return { metadata: blockMetadata(vniBlock(vni)).value, ethType: ETH_TYPE_MPLS, mplsLabel: vniLabel(vni), mplsBos: 1, ethDst };
}

/** A TENANT flow: `actions` for the VPC's labelled frames to `ethDst`. */
export function tenantFlow(vni: number, ethDst: number, priority: number, actions: Action[], cookie: number): FlowEntry {
  return { table: TABLE.TENANT, priority, match: labelledMatch(vni, ethDst), actions, cookie };
}
