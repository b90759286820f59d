/**
 * The match-field catalogue: one declaration per field a flow may match or set. Everything else
 * (validation, packet-key layout, the OpenFlow OXM codec, the native protobuf codec) reads this table.
 */
import { ETH_TYPE_ARP, ETH_TYPE_IPV4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP } from '../net/index.js';
import { K } from './packet-key.js';

export interface Prerequisite {
  ethType?: number;
  ipProto?: number;
}

export interface FieldSpec {
  /** Width in bits (MACs are 48, fitting exactly in a JS number). */
  bits: number;
  /** Packet-key slots: one, or two for a 48-bit value (high 16 bits first, then low 32 bits). */
  slots: readonly number[];
  /** May a mask be given? (OpenFlow: in_port, eth_type, ip_proto... are exact only.) */
  maskable: boolean;
  /** May a set-field action write it? */
  settable: boolean;
  prerequisite: Prerequisite;
}

const exact = (bits: number, slot: number, prerequisite: Prerequisite = {}, settable = false): FieldSpec => ({
  bits,
  slots: [slot],
  maskable: false,
  settable,
  prerequisite,
});
const masked = (bits: number, slots: readonly number[], prerequisite: Prerequisite = {}, settable = true): FieldSpec => ({
  bits,
  slots,
  maskable: true,
  settable,
  prerequisite,
});

const IPV4 = { ethType: ETH_TYPE_IPV4 };
const ARP = { ethType: ETH_TYPE_ARP };

export const FIELDS = {
  inPort: exact(32, K.IN_PORT),
  metadata: masked(32, [K.METADATA], {}, false),
  tunnelId: masked(32, [K.TUNNEL_ID]),
  ethDst: masked(48, [K.ETH_DST_HI, K.ETH_DST_LO]),
  ethSrc: masked(48, [K.ETH_SRC_HI, K.ETH_SRC_LO]),
  ethType: exact(16, K.ETH_TYPE),
  /** OpenFlow encoding: 0 = untagged, 0x1000|vid = tagged; mask 0x1000 with value 0x1000 = any tag. */
  vlanVid: masked(13, [K.VLAN_VID]),
  vlanPcp: exact(3, K.VLAN_PCP, {}, true),
  ipDscp: exact(6, K.IP_DSCP, IPV4, true),
  ipProto: exact(8, K.IP_PROTO, IPV4),
  ipv4Src: masked(32, [K.IP_SRC], IPV4),
  ipv4Dst: masked(32, [K.IP_DST], IPV4),
  tcpSrc: masked(16, [K.L4_SRC], { ...IPV4, ipProto: IP_PROTO_TCP }),
  tcpDst: masked(16, [K.L4_DST], { ...IPV4, ipProto: IP_PROTO_TCP }),
  tcpFlags: masked(12, [K.TCP_FLAGS], { ...IPV4, ipProto: IP_PROTO_TCP }, false),
  udpSrc: masked(16, [K.L4_SRC], { ...IPV4, ipProto: IP_PROTO_UDP }),
  udpDst: masked(16, [K.L4_DST], { ...IPV4, ipProto: IP_PROTO_UDP }),
  icmpType: exact(8, K.L4_SRC, { ...IPV4, ipProto: IP_PROTO_ICMP }, true),
  icmpCode: exact(8, K.L4_DST, { ...IPV4, ipProto: IP_PROTO_ICMP }, true),
  arpOp: exact(16, K.IP_PROTO, ARP, true),
  arpSpa: masked(32, [K.IP_SRC], ARP),
  arpTpa: masked(32, [K.IP_DST], ARP),
  arpSha: masked(48, [K.ARP_SHA_HI, K.ARP_SHA_LO], ARP),
  arpTha: masked(48, [K.ARP_THA_HI, K.ARP_THA_LO], ARP),
} as const satisfies Record<string, FieldSpec>;

export type FieldName = keyof typeof FIELDS;
export const FIELD_NAMES = Object.keys(FIELDS) as FieldName[];

export function isFieldName(name: string): name is FieldName {
  return Object.prototype.hasOwnProperty.call(FIELDS, name);
}

/** All-ones mask of a field's width (exact for 48-bit fields too: 2^48 - 1 is a safe integer). */
export function fullMask(field: FieldName): number {
  const bits = FIELDS[field].bits;
  return bits === 32 ? 0xffffffff : 2 ** bits - 1;
}
