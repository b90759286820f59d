/**
 * Carrying out a set-field: the frame and packet-key writes that a field's declaration
 * (`FIELDS[f].write`, fields.ts) describes. One interpreter over small integer kinds rather than a
 * writer function per field, so the executor's call site stays monomorphic on the datapath and a new
 * settable field needs a declaration, not code.
 */
import { ETH_TYPE_ARP, ETH_TYPE_IPV4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, checksumUpdate16, writeMac } from '../net/index.js';
import { HEADER, WRITE, type FieldWrite, type Header } from './fields.js';
import { ETH_TYPE_MPLS, K, VLAN_PRESENT, mplsOffset, type PacketKey } from './packet-key.js';

const TWO_32 = 0x100000000;
/** Where the VLAN tag's TCI (PCP, DEI, VID) starts: after the two MACs and the tag's TPID. */
const VLAN_TCI_AT = 14;

/** Why a set-field left the packet alone, by the header it needed (the trace's `skipped`). */
export const MISSING_HEADER: Readonly<Record<Header, string>> = {
  [HEADER.NONE]: '',
  [HEADER.ETH]: '',
  [HEADER.VLAN]: 'no VLAN tag',
  [HEADER.IPV4]: 'not IPv4',
  [HEADER.ARP]: 'not ARP',
  [HEADER.TCP]: 'no such L4 header',
  [HEADER.UDP]: 'no such L4 header',
  [HEADER.ICMP]: 'not ICMP',
  [HEADER.MPLS]: 'not MPLS',
};

/** The offset of `header` in the frame `key` was extracted from, or -1 when the packet has none. */
export function headerOffset(key: PacketKey, header: Header): number {
  switch (header) {
    case HEADER.NONE:
    case HEADER.ETH:
      return 0;
    case HEADER.VLAN:
      return (key[K.VLAN_VID] & VLAN_PRESENT) !== 0 ? VLAN_TCI_AT : -1;
    case HEADER.IPV4:
      return key[K.ETH_TYPE] === ETH_TYPE_IPV4 && key[K.L3_OFFSET] !== 0 ? key[K.L3_OFFSET] : -1;
    case HEADER.ARP:
      return key[K.ETH_TYPE] === ETH_TYPE_ARP && key[K.L3_OFFSET] !== 0 ? key[K.L3_OFFSET] : -1;
    case HEADER.TCP:
      return l4Offset(key, IP_PROTO_TCP);
    case HEADER.UDP:
      return l4Offset(key, IP_PROTO_UDP);
    case HEADER.ICMP:
      return l4Offset(key, IP_PROTO_ICMP);
    case HEADER.MPLS:
      return key[K.ETH_TYPE] === ETH_TYPE_MPLS ? mplsOffset(key) : -1;
  }
}

function l4Offset(key: PacketKey, proto: number): number {
  const l4 = key[K.L4_OFFSET];
  return key[K.ETH_TYPE] === ETH_TYPE_IPV4 && key[K.L3_OFFSET] !== 0 && l4 !== 0 && key[K.IP_PROTO] === proto ? l4 : -1;
}

/**
 * Write `value` into frame `b` as `w` says, its header at `at` (from headerOffset; `ipOffset` is the
 * IPv4 header's, for the rewrite helpers), patching the checksums that cover it.
 */
export function writeFrameField(b: Uint8Array, at: number, ipOffset: number, w: FieldWrite, value: number): void {
  switch (w.kind) {
    case WRITE.KEY_ONLY:
      return;
    case WRITE.BYTES: {
      const o = at + w.offset;
      if (w.bytes === 6) writeMac(b, o, value);
      else if (w.bytes === 4) {
        b[o] = value >>> 24;
        b[o + 1] = value >>> 16;
        b[o + 2] = value >>> 8;
        b[o + 3] = value;
      } else {
        b[o] = value >>> 8;
        b[o + 1] = value;
      }
      return;
    }
    case WRITE.BITS: {
      const o = at + w.offset;
      const oldWord = (b[o] << 8) | b[o + 1];
      const word = (oldWord & ~w.mask) | ((value << w.shift) & w.mask);
      b[o] = word >>> 8;
      b[o + 1] = word;
      const c = w.checksumAt;
      if (c < 0) return;
      const sum = checksumUpdate16((b[at + c] << 8) | b[at + c + 1], oldWord, word);
      b[at + c] = sum >>> 8;
      b[at + c + 1] = sum;
      return;
    }
    case WRITE.REWRITE:
      (w.rewrite as NonNullable<FieldWrite['rewrite']>)(b, ipOffset, value);
      return;
    case WRITE.BITS32: {
      const o = at + w.offset;
      const old = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
      const word = (old & ~w.mask) | ((value << w.shift) & w.mask);
      b[o] = word >>> 24;
      b[o + 1] = word >>> 16;
      b[o + 2] = word >>> 8;
      b[o + 3] = word;
      return;
    }
  }
}

/** A field's value in the packet key (two slots for a 48-bit field: high 16 bits, then low 32). */
export function readKeyField(key: PacketKey, slots: readonly number[]): number {
  return slots.length === 2 ? key[slots[0]] * TWO_32 + key[slots[1]] : key[slots[0]];
}

export function writeKeyField(key: PacketKey, slots: readonly number[], value: number): void {
  if (slots.length === 2) {
    key[slots[0]] = Math.floor(value / TWO_32) & 0xffff;
    key[slots[1]] = value >>> 0;
  } else {
    key[slots[0]] = value >>> 0;
  }
}
