/**
 * The packet key: every header field a flow can match, as 32-bit numbers in a Uint32Array, indexed by
 * the K constants. Classifiers and the pipeline read keys, never strings or parsed objects, so a lookup
 * is a handful of typed-array reads.
 *
 * Like Open vSwitch's `struct flow`, some slots are shared by protocols that never meet in one packet:
 * ARP's sender/target IPs live in IP_SRC/IP_DST and its opcode in IP_PROTO; ICMP's type and code live
 * in L4_SRC/L4_DST; an MPLS frame's top label stack entry (whose payload is not parsed: nothing in the
 * stack says what it is) lives in the IPv4 slots: label in IP_SRC, bottom-of-stack in IP_PROTO,
 * traffic class in IP_DSCP, TTL in IP_TTL. 48-bit MACs take two slots (high 16 bits, low 32 bits).
 */
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  ETH_TYPE_MPLS,
  ETH_TYPE_MPLS_MULTICAST,
  ETH_TYPE_QINQ,
  ETH_TYPE_VLAN,
  IP_PROTO_ICMP,
  IP_PROTO_TCP,
  IP_PROTO_UDP,
  MPLS_LSE_LEN,
} from '../net/index.js';

export const K = {
  IN_PORT: 0,
  METADATA: 1,
  TUNNEL_ID: 2,
  ETH_SRC_HI: 3,
  ETH_SRC_LO: 4,
  ETH_DST_HI: 5,
  ETH_DST_LO: 6,
  ETH_TYPE: 7,
  /** OpenFlow encoding: 0 = no VLAN tag; 0x1000 | vid when tagged. */
  VLAN_VID: 8,
  VLAN_PCP: 9,
  IP_SRC: 10,
  IP_DST: 11,
  IP_PROTO: 12,
  IP_DSCP: 13,
  IP_TTL: 14,
  L4_SRC: 15,
  L4_DST: 16,
  TCP_FLAGS: 17,
  ARP_SHA_HI: 18,
  ARP_SHA_LO: 19,
  ARP_THA_HI: 20,
  ARP_THA_LO: 21,
  /** MPLS frames: the top label stack entry, in slots no MPLS frame uses otherwise (see above). */
  MPLS_LABEL: 10,
  MPLS_BOS: 12,
  MPLS_TC: 13,
  MPLS_TTL: 14,
  /**
   * Connection-tracking metadata: zero until a `ct` action fills them (Open vSwitch's ct_state,
   * ct_zone, ct_mark), then visible to the lookup the `ct` action continues in.
   */
  CT_STATE: 22,
  CT_ZONE: 23,
  CT_MARK: 24,
  /** The conjunctive match that fired (Open vSwitch's conj_id); set only during a table's lookup. */
  CONJ_ID: 25,
  /**
   * Byte offset of the L3 header in the frame (after Ethernet and any VLAN tag; for MPLS, after the
   * whole label stack); 0 when none.
   */
  L3_OFFSET: 26,
  /** Byte offset of the L4 header; 0 when none (fragments other than the first have none). */
  L4_OFFSET: 27,
} as const;

export const KEY_WORDS = 28;
/** Slots that are header fields (matchable); the offsets after them are bookkeeping for actions. */
export const MATCHABLE_WORDS = 26;

export type PacketKey = Uint32Array;

export function createPacketKey(): PacketKey {
  return new Uint32Array(KEY_WORDS);
}

// Re-exported so flow users need one import; the values are declared once, in net.
export { ETH_TYPE_ARP, ETH_TYPE_IPV4, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MULTICAST, ETH_TYPE_QINQ, ETH_TYPE_VLAN, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP };

export const VLAN_PRESENT = 0x1000;

/** What extractKey reports: the key is valid, or why the frame could not be parsed. */
export const EXTRACT_OK = 0;
export const EXTRACT_TRUNCATED = 1;
export const EXTRACT_BAD_IP = 2;
/** An MPLS label stack deeper than MAX_MPLS_LABELS: the switch cannot see its bottom. */
export const EXTRACT_MPLS_TOO_DEEP = 3;
export type ExtractResult = typeof EXTRACT_OK | typeof EXTRACT_TRUNCATED | typeof EXTRACT_BAD_IP | typeof EXTRACT_MPLS_TOO_DEEP;

/** The deepest MPLS label stack parsed (Open vSwitch's FLOW_MAX_MPLS_LABELS); the fabric uses two. */
export const MAX_MPLS_LABELS = 3;

/** Where an MPLS frame's label stack starts: after the Ethernet header and any VLAN tag. */
export function mplsOffset(key: PacketKey): number {
  return (key[K.VLAN_VID] & VLAN_PRESENT) !== 0 ? 18 : 14;
}

/**
 * Fill `key` from a raw Ethernet frame. Direct byte indexing (no readUInt*, no DataView): this runs
 * once per frame on the softswitch's hot path. Metadata and tunnel id are set by the caller.
 * Never throws: a frame too short for the headers it announces yields EXTRACT_TRUNCATED; the fields
 * parsed so far stay valid (a truncated IP packet still has its Ethernet fields).
 */
export function extractKey(frame: Uint8Array, inPort: number, tunnelId: number, key: PacketKey): ExtractResult {
  key.fill(0);
  key[K.IN_PORT] = inPort >>> 0;
  key[K.TUNNEL_ID] = tunnelId >>> 0;
  const len = frame.length;
  if (len < 14) return EXTRACT_TRUNCATED;
  const b = frame;
  key[K.ETH_DST_HI] = (b[0] << 8) | b[1];
  key[K.ETH_DST_LO] = ((b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5]) >>> 0;
  key[K.ETH_SRC_HI] = (b[6] << 8) | b[7];
  key[K.ETH_SRC_LO] = ((b[8] << 24) | (b[9] << 16) | (b[10] << 8) | b[11]) >>> 0;
  let type = (b[12] << 8) | b[13];
  let off = 14;
  if (type === ETH_TYPE_VLAN || type === ETH_TYPE_QINQ) {
    if (len < 18) return EXTRACT_TRUNCATED;
    const tci = (b[14] << 8) | b[15];
    key[K.VLAN_VID] = VLAN_PRESENT | (tci & 0x0fff);
    key[K.VLAN_PCP] = tci >>> 13;
    type = (b[16] << 8) | b[17];
    off = 18;
  }
  key[K.ETH_TYPE] = type;
  if (type === ETH_TYPE_IPV4) {
    key[K.L3_OFFSET] = off;
    if (len < off + 20) return EXTRACT_TRUNCATED;
    const vihl = b[off];
    const ihl = (vihl & 0x0f) * 4;
    if (vihl >>> 4 !== 4 || ihl < 20) return EXTRACT_BAD_IP;
    if (len < off + ihl) return EXTRACT_TRUNCATED;
    key[K.IP_DSCP] = b[off + 1] >>> 2;
    key[K.IP_TTL] = b[off + 8];
    const proto = b[off + 9];
    key[K.IP_PROTO] = proto;
    key[K.IP_SRC] = ((b[off + 12] << 24) | (b[off + 13] << 16) | (b[off + 14] << 8) | b[off + 15]) >>> 0;
    key[K.IP_DST] = ((b[off + 16] << 24) | (b[off + 17] << 16) | (b[off + 18] << 8) | b[off + 19]) >>> 0;
    const fragOffset = ((b[off + 6] & 0x1f) << 8) | b[off + 7];
    if (fragOffset !== 0) return EXTRACT_OK; // later fragments carry no L4 header
    const l4 = off + ihl;
    if (proto === IP_PROTO_TCP) {
      if (len < l4 + 20) return EXTRACT_TRUNCATED;
      key[K.L4_OFFSET] = l4;
      key[K.L4_SRC] = (b[l4] << 8) | b[l4 + 1];
      key[K.L4_DST] = (b[l4 + 2] << 8) | b[l4 + 3];
      key[K.TCP_FLAGS] = ((b[l4 + 12] & 0x0f) << 8) | b[l4 + 13];
    } else if (proto === IP_PROTO_UDP) {
      if (len < l4 + 8) return EXTRACT_TRUNCATED;
      key[K.L4_OFFSET] = l4;
      key[K.L4_SRC] = (b[l4] << 8) | b[l4 + 1];
      key[K.L4_DST] = (b[l4 + 2] << 8) | b[l4 + 3];
    } else if (proto === IP_PROTO_ICMP) {
      if (len < l4 + 4) return EXTRACT_TRUNCATED;
      key[K.L4_OFFSET] = l4;
      key[K.L4_SRC] = b[l4];
      key[K.L4_DST] = b[l4 + 1];
    }
    return EXTRACT_OK;
  }
  if (type === ETH_TYPE_ARP) {
    key[K.L3_OFFSET] = off;
    if (len < off + 28) return EXTRACT_TRUNCATED;
    // Ethernet/IPv4 ARP only (htype 1, ptype 0x0800, hlen 6, plen 4).
    if (b[off] !== 0 || b[off + 1] !== 1 || b[off + 2] !== 0x08 || b[off + 3] !== 0 || b[off + 4] !== 6 || b[off + 5] !== 4) {
      return EXTRACT_BAD_IP;
    }
    key[K.IP_PROTO] = (b[off + 6] << 8) | b[off + 7];
    key[K.ARP_SHA_HI] = (b[off + 8] << 8) | b[off + 9];
    key[K.ARP_SHA_LO] = ((b[off + 10] << 24) | (b[off + 11] << 16) | (b[off + 12] << 8) | b[off + 13]) >>> 0;
    key[K.IP_SRC] = ((b[off + 14] << 24) | (b[off + 15] << 16) | (b[off + 16] << 8) | b[off + 17]) >>> 0;
    key[K.ARP_THA_HI] = (b[off + 18] << 8) | b[off + 19];
    key[K.ARP_THA_LO] = ((b[off + 20] << 24) | (b[off + 21] << 16) | (b[off + 22] << 8) | b[off + 23]) >>> 0;
    key[K.IP_DST] = ((b[off + 24] << 24) | (b[off + 25] << 16) | (b[off + 26] << 8) | b[off + 27]) >>> 0;
    return EXTRACT_OK;
  }
  // After IPv4 and ARP, so the common frames pay no extra comparison.
  if (type === ETH_TYPE_MPLS || type === ETH_TYPE_MPLS_MULTICAST) return extractMpls(b, off, key);
  return EXTRACT_OK;
}

/** The top label stack entry into the key, and L3_OFFSET past the bottom of the stack. */
function extractMpls(b: Uint8Array, off: number, key: PacketKey): ExtractResult {
  const len = b.length;
  if (len < off + MPLS_LSE_LEN) return EXTRACT_TRUNCATED;
  key[K.MPLS_LABEL] = (b[off] << 12) | (b[off + 1] << 4) | (b[off + 2] >>> 4);
  key[K.MPLS_TC] = (b[off + 2] >>> 1) & 0x7;
  key[K.MPLS_BOS] = b[off + 2] & 0x1;
  key[K.MPLS_TTL] = b[off + 3];
  let at = off;
  for (let depth = 1; (b[at + 2] & 0x1) === 0; depth++) {
    if (depth === MAX_MPLS_LABELS) return EXTRACT_MPLS_TOO_DEEP;
    at += MPLS_LSE_LEN;
    if (len < at + MPLS_LSE_LEN) return EXTRACT_TRUNCATED;
  }
  key[K.L3_OFFSET] = at + MPLS_LSE_LEN;
  return EXTRACT_OK;
}
