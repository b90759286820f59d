/**
 * How a VPC is carried (docs/vpc.md): inside a switch its VNI is the 32-bit metadata, written at
 * ingress (0 is the underlay: the topology's own hosts); between switches it is an 802.1Q tag with
 * VLAN id = VNI, so the same tables work on the softswitch and on Open vSwitch over OpenFlow 1.3.
 */
import { VLAN_PRESENT, type MaskedValue } from '../flow/index.js';
import { MAX_VNI } from '../model/index.js';

/** The underlay's metadata: frames from the topology's hosts and untagged frames from links. */
export const UNDERLAY_METADATA = 0;

/** The whole metadata word is the VNI: no other table uses metadata yet. */
export const VNI_METADATA_MASK = 0xffffffff;

export function isValidVni(vni: number): boolean {
  return Number.isInteger(vni) && vni >= 1 && vni <= MAX_VNI;
}

/** The vlanVid match/set value (OpenFlow encoding: present bit | VLAN id) that carries `vni` on links. */
export function vniVlanVid(vni: number): number {
  return VLAN_PRESENT | vni;
}

/** The write-metadata instruction that puts a frame into VPC `vni`. */
export function vniMetadata(vni: number): MaskedValue {
  return { value: vni, mask: VNI_METADATA_MASK };
}
