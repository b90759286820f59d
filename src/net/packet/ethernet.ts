/** Ethernet II with at most one 802.1Q (or 802.1ad) tag, parsed as a view over the frame's bytes. */
import { readMac, writeMac } from '../mac.js';
import { ETH_HEADER_LEN, ETH_TYPE_QINQ, ETH_TYPE_VLAN, VLAN_TAG_LEN } from './constants.js';
import { malformed, type MalformedFrame } from './malformed.js';

export interface VlanTag {
  /** 12-bit VLAN id. */
  readonly vid: number;
  /** 3-bit priority code point. */
  readonly pcp: number;
  /** Drop-eligible indicator, 0 or 1. */
  readonly dei: number;
  /** The tag's EtherType: 0x8100 (802.1Q) or 0x88a8 (802.1ad). */
  readonly tpid: number;
}

/** A tag to write: pcp and dei default to 0, tpid to 0x8100; values are masked to their widths. */
export interface VlanTagInit {
  vid: number;
  pcp?: number;
  dei?: number;
  tpid?: number;
}

export interface EthernetHeader {
  readonly offset: number;
  readonly dst: number;
  readonly src: number;
  /** The payload's EtherType: the inner one when the frame is tagged. */
  readonly ethType: number;
  readonly vlan: VlanTag | undefined;
  readonly payloadOffset: number;
  readonly payloadEnd: number;
}

/** Parse the Ethernet header at `offset` (0 unless the frame sits behind an encapsulation header). */
export function parseEthernet(buf: Uint8Array, offset = 0): EthernetHeader | MalformedFrame {
  const b = buf;
  const o = offset;
  const len = b.length;
  if (o < 0 || len < o + ETH_HEADER_LEN) return malformed('ethernet', 'truncated');
  let ethType = (b[o + 12] << 8) | b[o + 13];
  let vlan: VlanTag | undefined;
  let payloadOffset = o + ETH_HEADER_LEN;
  if (ethType === ETH_TYPE_VLAN || ethType === ETH_TYPE_QINQ) {
    if (len < o + ETH_HEADER_LEN + VLAN_TAG_LEN) return malformed('ethernet', 'truncated');
    const tci = (b[o + 14] << 8) | b[o + 15];
    vlan = { vid: tci & 0x0fff, pcp: tci >>> 13, dei: (tci >>> 12) & 1, tpid: ethType };
    ethType = (b[o + 16] << 8) | b[o + 17];
    payloadOffset += VLAN_TAG_LEN;
  }
  return { offset: o, dst: readMac(b, o), src: readMac(b, o + 6), ethType, vlan, payloadOffset, payloadEnd: len };
}

export interface EthernetHeaderInit {
  dst: number;
  src: number;
  ethType: number;
  vlan?: VlanTagInit;
}

export function ethernetHeaderLength(vlan?: VlanTagInit): number {
  return vlan ? ETH_HEADER_LEN + VLAN_TAG_LEN : ETH_HEADER_LEN;
}

/** Write an Ethernet header (and tag) at `offset`; returns the payload's offset. */
export function writeEthernetHeader(buf: Uint8Array, offset: number, h: EthernetHeaderInit): number {
  const b = buf;
  let o = offset;
  writeMac(b, o, h.dst);
  writeMac(b, o + 6, h.src);
  o += 12;
  if (h.vlan) {
    const tpid = h.vlan.tpid ?? ETH_TYPE_VLAN;
    const tci = ((h.vlan.pcp ?? 0) & 7) << 13 | ((h.vlan.dei ?? 0) & 1) << 12 | (h.vlan.vid & 0x0fff);
    b[o] = tpid >>> 8;
    b[o + 1] = tpid;
    b[o + 2] = tci >>> 8;
    b[o + 3] = tci;
    o += VLAN_TAG_LEN;
  }
  b[o] = h.ethType >>> 8;
  b[o + 1] = h.ethType;
  return o + 2;
}

/** A fresh frame: header plus a copy of `payload`. No padding to 60 bytes (frames travel as datagrams). */
export function buildEthernet(h: EthernetHeaderInit & { payload?: Uint8Array }): Buffer {
  const payload = h.payload ?? EMPTY;
  const buf = Buffer.alloc(ethernetHeaderLength(h.vlan) + payload.length);
  buf.set(payload, writeEthernetHeader(buf, 0, h));
  return buf;
}

const EMPTY = new Uint8Array(0);
