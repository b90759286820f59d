/**
 * The match-field catalogue: one declaration per field a flow may match or set. Everything else
 * (validation, packet-key layout, the OpenFlow OXM codec, the native protobuf codec, the executor's
 * set-field) reads this table.
 */
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  ETH_TYPE_MPLS,
  IP_PROTO_ICMP,
  IP_PROTO_TCP,
  IP_PROTO_UDP,
  setIpv4Dst,
  setIpv4Src,
  setL4DstPort,
  setL4SrcPort,
} from '../net/index.js';
import { K, VLAN_PRESENT } from './packet-key.js';

export interface Prerequisite {
  ethType?: number;
  ipProto?: number;
}

/**
 * The header a settable field lives in. A set-field on a packet without that header leaves the packet
 * as it is (the trace says why).
 */
export const HEADER = { NONE: 0, ETH: 1, VLAN: 2, IPV4: 3, ARP: 4, TCP: 5, UDP: 6, ICMP: 7, MPLS: 8 } as const;
export type Header = (typeof HEADER)[keyof typeof HEADER];

/** How a set-field puts its value into the frame (carried out by field-write.ts). */
export const WRITE = {
  /** Nothing in the frame: the value travels beside it (the tunnel id). */
  KEY_ONLY: 0,
  /** `bytes` bytes (2, 4 or 6), big-endian, at `offset`; no checksum covers them. */
  BYTES: 1,
  /** The `mask` bits of the 16-bit word at `offset`; the checksum at `checksumAt` (unless -1) follows. */
  BITS: 2,
  /** A net/packet/rewrite.ts helper, given the IPv4 header's offset: it patches every checksum covering the field. */
  REWRITE: 3,
  /** The `mask` bits of the 32-bit word at `offset` (an MPLS label straddles three bytes); no checksum. */
  BITS32: 4,
} as const;
export type WriteKind = (typeof WRITE)[keyof typeof WRITE];

/**
 * Where a set-field writes a field, as data: one interpreter (field-write.ts) carries out every
 * declaration, so the executor's call stays monomorphic and a new settable field is one line here.
 * Offsets count from the start of `header`. Every instance has every property (one object shape).
 */
export interface FieldWrite {
  readonly header: Header;
  readonly kind: WriteKind;
  readonly offset: number;
  /** BYTES: how many. */
  readonly bytes: number;
  /** BITS, BITS32: the field's bits in the 16- or 32-bit word, and the shift of its lowest bit. */
  readonly mask: number;
  readonly shift: number;
  /** BITS: the offset of the 16-bit ones'-complement checksum covering the word, or -1. */
  readonly checksumAt: number;
  readonly rewrite: ((buf: Uint8Array, ipOffset: number, value: number) => unknown) | undefined;
  /** Bits the packet key holds beside the value (a set VLAN id keeps the tag-present bit). */
  readonly keyFlags: number;
}

export interface FieldSpec {
  /** Width in bits (MACs are 48, fitting exactly in a JS number). */
  bits: number;
  /** Packet-key slots: one, or two for a 48-bit value (high 16 bits first, then low 32 bits). */
  slots: readonly number[];
  /** May a mask be given? (OpenFlow: in_port, eth_type, ip_proto... are exact only.) */
  maskable: boolean;
  /** May a set-field action write it? (Exactly when it declares `write`.) */
  settable: boolean;
  /** How a set-field writes it; undefined for a field that cannot be set. */
  write: FieldWrite | undefined;
  prerequisite: Prerequisite;
}

const fieldWrite = (header: Header, kind: WriteKind, offset: number, more: Partial<FieldWrite> = {}): FieldWrite => ({
  header,
  kind,
  offset,
  bytes: more.bytes ?? 0,
  mask: more.mask ?? 0,
  shift: more.mask === undefined ? 0 : 31 - Math.clz32(more.mask & -more.mask),
  checksumAt: more.checksumAt ?? -1,
  rewrite: more.rewrite,
  keyFlags: more.keyFlags ?? 0,
});
const keyOnly = (): FieldWrite => fieldWrite(HEADER.NONE, WRITE.KEY_ONLY, 0);
const bytesAt = (header: Header, offset: number, bytes: number): FieldWrite => fieldWrite(header, WRITE.BYTES, offset, { bytes });
const bitsAt = (header: Header, offset: number, mask: number, more: Partial<FieldWrite> = {}): FieldWrite =>
  fieldWrite(header, WRITE.BITS, offset, { ...more, mask });
const rewriteBy = (header: Header, rewrite: FieldWrite['rewrite']): FieldWrite => fieldWrite(header, WRITE.REWRITE, 0, { rewrite });
const wordBitsAt = (header: Header, offset: number, mask: number): FieldWrite => fieldWrite(header, WRITE.BITS32, offset, { mask });

const exact = (bits: number, slot: number, prerequisite: Prerequisite = {}, write?: FieldWrite): FieldSpec => ({
  bits,
  slots: [slot],
  maskable: false,
  settable: write !== undefined,
  write,
  prerequisite,
});
const masked = (bits: number, slots: readonly number[], prerequisite: Prerequisite = {}, write?: FieldWrite): FieldSpec => ({
  bits,
  slots,
  maskable: true,
  settable: write !== undefined,
  write,
  prerequisite,
});

const IPV4 = { ethType: ETH_TYPE_IPV4 };
const ARP = { ethType: ETH_TYPE_ARP };
/** Unicast MPLS (0x8847): the only kind the fabric carries. */
const MPLS = { ethType: ETH_TYPE_MPLS };
/** The IPv4 header checksum's offset in the header, and ICMP's in its own. */
const IPV4_CHECKSUM_AT = 10;
const ICMP_CHECKSUM_AT = 2;

export const FIELDS = {
  inPort: exact(32, K.IN_PORT),
  metadata: masked(32, [K.METADATA]),
  /** Carried beside the frame (the encapsulation header), not in it. */
  tunnelId: masked(32, [K.TUNNEL_ID], {}, keyOnly()),
  ethDst: masked(48, [K.ETH_DST_HI, K.ETH_DST_LO], {}, bytesAt(HEADER.ETH, 0, 6)),
  ethSrc: masked(48, [K.ETH_SRC_HI, K.ETH_SRC_LO], {}, bytesAt(HEADER.ETH, 6, 6)),
  ethType: exact(16, K.ETH_TYPE),
  /** OpenFlow encoding: 0 = untagged, 0x1000|vid = tagged; mask 0x1000 with value 0x1000 = any tag. */
  vlanVid: masked(13, [K.VLAN_VID], {}, bitsAt(HEADER.VLAN, 0, 0x0fff, { keyFlags: VLAN_PRESENT })),
  vlanPcp: exact(3, K.VLAN_PCP, {}, bitsAt(HEADER.VLAN, 0, 0xe000)),
  ipDscp: exact(6, K.IP_DSCP, IPV4, bitsAt(HEADER.IPV4, 0, 0x00fc, { checksumAt: IPV4_CHECKSUM_AT })),
  ipProto: exact(8, K.IP_PROTO, IPV4),
  ipv4Src: masked(32, [K.IP_SRC], IPV4, rewriteBy(HEADER.IPV4, setIpv4Src)),
  ipv4Dst: masked(32, [K.IP_DST], IPV4, rewriteBy(HEADER.IPV4, setIpv4Dst)),
  tcpSrc: masked(16, [K.L4_SRC], { ...IPV4, ipProto: IP_PROTO_TCP }, rewriteBy(HEADER.TCP, setL4SrcPort)),
  tcpDst: masked(16, [K.L4_DST], { ...IPV4, ipProto: IP_PROTO_TCP }, rewriteBy(HEADER.TCP, setL4DstPort)),
  tcpFlags: masked(12, [K.TCP_FLAGS], { ...IPV4, ipProto: IP_PROTO_TCP }),
  udpSrc: masked(16, [K.L4_SRC], { ...IPV4, ipProto: IP_PROTO_UDP }, rewriteBy(HEADER.UDP, setL4SrcPort)),
  udpDst: masked(16, [K.L4_DST], { ...IPV4, ipProto: IP_PROTO_UDP }, rewriteBy(HEADER.UDP, setL4DstPort)),
  icmpType: exact(8, K.L4_SRC, { ...IPV4, ipProto: IP_PROTO_ICMP }, bitsAt(HEADER.ICMP, 0, 0xff00, { checksumAt: ICMP_CHECKSUM_AT })),
  icmpCode: exact(8, K.L4_DST, { ...IPV4, ipProto: IP_PROTO_ICMP }, bitsAt(HEADER.ICMP, 0, 0x00ff, { checksumAt: ICMP_CHECKSUM_AT })),
  arpOp: exact(16, K.IP_PROTO, ARP, bytesAt(HEADER.ARP, 6, 2)),
  arpSpa: masked(32, [K.IP_SRC], ARP, bytesAt(HEADER.ARP, 14, 4)),
  arpTpa: masked(32, [K.IP_DST], ARP, bytesAt(HEADER.ARP, 24, 4)),
  arpSha: masked(48, [K.ARP_SHA_HI, K.ARP_SHA_LO], ARP, bytesAt(HEADER.ARP, 8, 6)),
  arpTha: masked(48, [K.ARP_THA_HI, K.ARP_THA_LO], ARP, bytesAt(HEADER.ARP, 18, 6)),
  /** The top label stack entry's label, traffic class and bottom-of-stack bit (OpenFlow 1.3: exact only; bos read-only). */
  mplsLabel: exact(20, K.MPLS_LABEL, MPLS, wordBitsAt(HEADER.MPLS, 0, 0xfffff000)),
  mplsTc: exact(3, K.MPLS_TC, MPLS, bitsAt(HEADER.MPLS, 2, 0x0e00)),
  mplsBos: exact(1, K.MPLS_BOS, MPLS),
  /** Connection-tracking state bits (CT_STATE): filled by a `ct` action, never by set-field. */
  ctState: masked(32, [K.CT_STATE]),
  ctZone: exact(16, K.CT_ZONE),
  /** The tracked connection's mark: written only by a committing `ct` action's `mark`. */
  ctMark: masked(32, [K.CT_MARK]),
  /** The id of the conjunctive match whose every clause matched (Open vSwitch's conj_id). */
  conjId: exact(32, K.CONJ_ID),
} as const satisfies Record<string, FieldSpec>;

/**
 * Bits of `ctState`, with Open vSwitch's values (so the Nicira codec passes them through): a packet
 * that went through `ct` is `TRK` plus `NEW`, `EST` or `INV`; `REL` for an ICMP error about a tracked
 * connection; `RPL` when it travels in the reply direction.
 */
export const CT_STATE = { NEW: 0x01, EST: 0x02, REL: 0x04, RPL: 0x08, INV: 0x10, TRK: 0x20 } as const;

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
