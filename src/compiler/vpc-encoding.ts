/**
 * How a VPC is carried (docs/vpc.md). Inside a switch its VNI (1..MAX_VNI, 24 bits) is the 32-bit
 * metadata, written at ingress (0 is the underlay: the topology's own hosts). Between switches it is a
 * two-entry MPLS label stack, so the same tables work on the softswitch and on Open vSwitch over
 * OpenFlow 1.3 with no tunnel ports:
 *
 *   top (outer) label    = 16 + (VNI >> 16)      the VNI's block: 256 blocks of 65,536 VNIs
 *   bottom label         = 16 + (VNI & 0xffff)   the VNI within its block (16..65,551)
 *
 * Labels 0..15 are reserved (RFC 3032), hence the offset. A link port admits a block's frames with one
 * flow per block in use (pop the top entry, metadata = BLOCK_METADATA | block, goto TENANT); TENANT
 * admits each VPC with one flow per switch (metadata, bottom label: pop to IPv4, metadata = VNI). Only
 * IPv4 ever crosses a link inside a VPC (ARP is answered in the first switch), so the bottom entry
 * pops to ethertype 0x0800.
 */
import { group, output, popMpls, pushMpls, setField, type Action, type GroupEntry, type MaskedValue } from '../flow/index.js';
import { MAX_VNI } from '../model/index.js';
import { ETH_TYPE_IPV4, ETH_TYPE_MPLS } from '../net/packet/constants.js';
import { sharedSetField } from './shared-actions.js';

/** The underlay's metadata: frames from the topology's hosts and unlabelled frames from links. */
export const UNDERLAY_METADATA = 0;

/** The whole metadata word is the VNI (or one of the markers below). */
export const VNI_METADATA_MASK = 0xffffffff;

/** Labels 0..15 are reserved: both labels of the stack are offset past them. */
export const MPLS_LABEL_OFFSET = 16;

/** How many low VNI bits the bottom label carries; the top label carries the rest (the block). */
export const VNI_BLOCK_BITS = 16;

/** Metadata between the two pops on a link port: bit 25 (beyond every VNI, beside UPLINK's bit 24) | the block. */
export const BLOCK_METADATA = 0x02000000;

export function isValidVni(vni: number): boolean {
  return Number.isInteger(vni) && vni >= 1 && vni <= MAX_VNI;
}

/** The block of a VNI: what its top label says (0..255). */
export function vniBlock(vni: number): number {
  return vni >>> VNI_BLOCK_BITS;
}

/** The top (outer) label of a block's frames. */
export function blockLabel(block: number): number {
  return MPLS_LABEL_OFFSET + block;
}

/** The bottom label that carries `vni` within its block. */
export function vniLabel(vni: number): number {
  return MPLS_LABEL_OFFSET + (vni & ((1 << VNI_BLOCK_BITS) - 1));
}

/** The metadata a link port's block flow writes: the TENANT table then matches it with the bottom label. */
export function blockMetadata(block: number): MaskedValue {
  return { value: (BLOCK_METADATA | block) >>> 0, mask: VNI_METADATA_MASK };
}

/** The write-metadata instruction that puts a frame into VPC `vni`. */
export function vniMetadata(vni: number): MaskedValue {
  return { value: vni, mask: VNI_METADATA_MASK };
}

/** Pushing a label entry (then its label's set-field): one frozen action for every flow and bucket. */
export const PUSH_MPLS_LABEL: Action = Object.freeze(pushMpls(ETH_TYPE_MPLS));

/**
 * The actions that put `vni`'s label stack on a frame (bottom first, then the top), before its output:
 * shared actions (shared-actions.ts), so lists made for many VNIs and ports hold no copies.
 */
export function vniPushActions(vni: number): Action[] {
  return [PUSH_MPLS_LABEL, sharedSetField('mplsLabel', vniLabel(vni)), PUSH_MPLS_LABEL, sharedSetField('mplsLabel', blockLabel(vniBlock(vni)))];
}

/** Popping the top entry (the block) leaves the bottom one: still MPLS. */
export const POP_BLOCK_LABEL: Action = Object.freeze(popMpls(ETH_TYPE_MPLS));
/** Popping the bottom entry leaves the VPC's IPv4 packet. */
export const POP_VNI_LABEL: Action = Object.freeze(popMpls(ETH_TYPE_IPV4));

/**
 * Select-group buckets are OpenFlow 1.3 action SETS: one push_mpls each, and set-fields and dec_ttl
 * after the push. So a load balancer's bucket towards another switch rewrites the packet and chains
 * to its VPC's label group on the output port (push the bottom label), which chains to the block's
 * label group there (push the top label, output). Both ids lie above every load balancer's group id
 * (those are below 2^31) and name the link port by its slot, its position among the switch's link
 * ports (FabricContext.linkPortSlots):
 *   block group  BLOCK_GROUP_BASE | block << 16 | slot          (0x80000000..0x80ffffff)
 *   VNI group    (VNI_GROUP_BASE + slot) << 24 | VNI, slot <= MAX_VNI_GROUP_SLOT (0x81000000..0xfeffffff)
 */
export const BLOCK_GROUP_BASE = 0x80000000;
export const VNI_GROUP_BASE = 0x81;
/** The last link port slot a VNI group can name: a bucket towards a later slot has no way (documented limit). */
export const MAX_VNI_GROUP_SLOT = 0xfe - VNI_GROUP_BASE;

export function vniGroupId(vni: number, slot: number): number | undefined {
  return slot > MAX_VNI_GROUP_SLOT ? undefined : ((VNI_GROUP_BASE + slot) * 2 ** 24 + vni) >>> 0;
}

/** A VPC's label group on one link port slot: push the bottom label, then the block's group there. */
export function vniGroup(vni: number, slot: number, cookie: number): GroupEntry | undefined {
  const groupId = vniGroupId(vni, slot);
  if (groupId === undefined) return undefined;
  return {
    groupId,
    type: 'indirect',
    buckets: [{ actions: [pushMpls(ETH_TYPE_MPLS), setField('mplsLabel', vniLabel(vni)), group(blockGroupId(vniBlock(vni), slot))] }],
    cookie,
  };
}

export function blockGroupId(block: number, slot: number): number {
  return (BLOCK_GROUP_BASE | (block << 16) | (slot & 0xffff)) >>> 0;
}

/** A block's label group on one link port: push the top label, out of the port. */
export function blockGroup(block: number, slot: number, port: number, cookie: number): GroupEntry {
  return {
    groupId: blockGroupId(block, slot),
    type: 'indirect',
    buckets: [{ actions: [pushMpls(ETH_TYPE_MPLS), setField('mplsLabel', blockLabel(block)), output(port)] }],
    cookie,
  };
}

/** The VNI a two-entry stack carries (top label, bottom label), or undefined when it is no VNI's. */
export function vniOfLabels(top: number, bottom: number): number | undefined {
  const block = top - MPLS_LABEL_OFFSET;
  const low = bottom - MPLS_LABEL_OFFSET;
  if (block < 0 || low < 0 || low >= 1 << VNI_BLOCK_BITS) return undefined;
  const vni = block * (1 << VNI_BLOCK_BITS) + low;
  return isValidVni(vni) ? vni : undefined;
}
