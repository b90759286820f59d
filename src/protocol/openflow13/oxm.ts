/**
 * OXM match fields (OpenFlow 1.3 §7.2.3): one precomputed entry per field of src/flow/fields.ts, with
 * its 32-bit headers (exact and masked) built once, so encoding a match is a loop of byte writes.
 *
 * Overcast's metadata and tunnel id are 32-bit while OpenFlow's are 64-bit: they go on the wire with the
 * upper 32 bits zero, and a decoded value with upper bits set is unsupported. tcp_flags is an ONF
 * experimenter OXM in OF1.3 (Open vSwitch's form), with a 64-bit header.
 */
import { and48, FIELD_NAMES, FIELDS, fullMask, type FieldMatch, type FieldName, type Match } from '../../flow/index.js';
import { OFPMT_OXM, ONF_EXPERIMENTER_ID, ONFOXM_ET_TCP_FLAGS } from './constants.js';
import { malformed, unsupported, type Reader, type Writer } from './wire.js';

export const OFPXMC_OPENFLOW_BASIC = 0x8000;
export const OFPXMC_EXPERIMENTER = 0xffff;
/** Open vSwitch's NXM_NX class: its extension fields (ct_state, conj_id...) in plain OXM form. */
export const OFPXMC_NXM_1 = 0x0001;

export interface OxmSpec {
  name: FieldName;
  /** OXM class and field number. */
  cls: number;
  field: number;
  /** Payload bytes of the value on the wire. */
  bytes: number;
  /** Model width in bits (metadata and tunnel id: 32 while the wire carries 64). */
  bits: number;
  full: number;
  experimenter?: number;
  /** Precomputed headers: exact and masked. */
  header: number;
  headerMasked: number;
  /** Whole TLV length in bytes, exact form (header + experimenter id + value). */
  exactLen: number;
}

const oxmHeader = (cls: number, field: number, hasMask: boolean, len: number): number =>
  ((cls << 16) | (field << 9) | (hasMask ? 0x100 : 0) | len) >>> 0;

function spec(name: FieldName, field: number, bytes: number, experimenter?: number, nxmClass?: number): OxmSpec {
  const cls = experimenter === undefined ? (nxmClass ?? OFPXMC_OPENFLOW_BASIC) : OFPXMC_EXPERIMENTER;
  const extra = experimenter === undefined ? 0 : 4;
  const full = fullMask(name);
  const bits: number = FIELDS[name].bits;
  return {
    name,
    cls,
    field,
    bytes,
    bits,
    full,
    ...(experimenter === undefined ? {} : { experimenter }),
    header: oxmHeader(cls, field, false, extra + bytes),
    headerMasked: oxmHeader(cls, field, true, extra + 2 * bytes),
    exactLen: 4 + extra + bytes,
  };
}

/** OXM field numbers (OFPXMT_OFB_*) and payload sizes of the fields Overcast's pipeline uses. */
const BY_NAME: Record<FieldName, OxmSpec> = {
  inPort: spec('inPort', 0, 4),
  metadata: spec('metadata', 2, 8),
  tunnelId: spec('tunnelId', 38, 8),
  ethDst: spec('ethDst', 3, 6),
  ethSrc: spec('ethSrc', 4, 6),
  ethType: spec('ethType', 5, 2),
  vlanVid: spec('vlanVid', 6, 2),
  vlanPcp: spec('vlanPcp', 7, 1),
  ipDscp: spec('ipDscp', 8, 1),
  ipProto: spec('ipProto', 10, 1),
  ipv4Src: spec('ipv4Src', 11, 4),
  ipv4Dst: spec('ipv4Dst', 12, 4),
  tcpSrc: spec('tcpSrc', 13, 2),
  tcpDst: spec('tcpDst', 14, 2),
  tcpFlags: spec('tcpFlags', ONFOXM_ET_TCP_FLAGS, 2, ONF_EXPERIMENTER_ID),
  udpSrc: spec('udpSrc', 15, 2),
  udpDst: spec('udpDst', 16, 2),
  icmpType: spec('icmpType', 19, 1),
  icmpCode: spec('icmpCode', 20, 1),
  arpOp: spec('arpOp', 21, 2),
  arpSpa: spec('arpSpa', 22, 4),
  arpTpa: spec('arpTpa', 23, 4),
  arpSha: spec('arpSha', 24, 6),
  arpTha: spec('arpTha', 25, 6),
  mplsLabel: spec('mplsLabel', 34, 4),
  mplsTc: spec('mplsTc', 35, 1),
  mplsBos: spec('mplsBos', 36, 1),
  // Nicira extensions (NXM_NX_CT_STATE, NXM_NX_CT_ZONE, NXM_NX_CT_MARK, NXM_NX_CONJ_ID).
  ctState: spec('ctState', 105, 4, undefined, OFPXMC_NXM_1),
  ctZone: spec('ctZone', 106, 2, undefined, OFPXMC_NXM_1),
  ctMark: spec('ctMark', 107, 4, undefined, OFPXMC_NXM_1),
  conjId: spec('conjId', 37, 4, undefined, OFPXMC_NXM_1),
};

/** In the catalogue's order, which puts every prerequisite (eth_type, ip_proto) before its dependants. */
export const OXM_SPECS: readonly OxmSpec[] = FIELD_NAMES.map((n) => BY_NAME[n]);

export function oxmSpecOf(name: FieldName): OxmSpec {
  return BY_NAME[name];
}

/** Key for the decode table: class, field and (for experimenter OXMs) the experimenter id. */
const lookupKey = (cls: number, field: number, experimenter = 0): string => `${cls}:${field}:${experimenter}`;
const BY_WIRE = new Map<string, OxmSpec>(OXM_SPECS.map((s) => [lookupKey(s.cls, s.field, s.experimenter), s]));

/** Upper bound of an encoded match's size, for Writer.ensure. */
export const MAX_MATCH_BYTES = 8 + OXM_SPECS.reduce((n, s) => n + 4 + (s.experimenter === undefined ? 0 : 4) + 2 * s.bytes, 0);

/** Write a value of a field's wire size (wide 32-bit-model fields get 4 zero bytes first). */
export function writeOxmValue(w: Writer, s: OxmSpec, v: number): void {
  switch (s.bytes) {
    case 1:
      w.u8(v);
      return;
    case 2:
      w.u16(v);
      return;
    case 4:
      w.u32(v);
      return;
    case 6:
      w.u48(v);
      return;
    default:
      w.u32(0);
      w.u32(v);
  }
}

function readOxmValue(r: Reader, s: OxmSpec, isMask: boolean): number {
  switch (s.bytes) {
    case 1:
      return r.u8();
    case 2:
      return r.u16();
    case 4:
      return r.u32();
    case 6:
      return r.u48();
    default: {
      const hi = r.u32();
      const lo = r.u32();
      // A mask's upper bits only select bits that are always zero on Overcast's switches: harmless.
      if (hi !== 0 && !isMask) throw unsupported(`${s.name} uses the upper 32 bits`);
      return lo;
    }
  }
}

/** One OXM TLV; a zero mask is a wildcard (nothing written), a full mask is written exact. */
export function writeOxmField(w: Writer, s: OxmSpec, m: FieldMatch): void {
  let v: number;
  let mask: number;
  if (typeof m === 'number') {
    v = m;
    mask = s.full;
  } else {
    mask = m.mask;
    if (mask === 0) return;
    // Open vSwitch rejects value bits outside the mask (OFPBMC_BAD_WILDCARDS).
    v = s.bits > 32 ? and48(m.value, mask) : (m.value & mask) >>> 0;
  }
  const exact = mask === s.full;
  w.u32(exact ? s.header : s.headerMasked);
  if (s.experimenter !== undefined) w.u32(s.experimenter);
  writeOxmValue(w, s, v);
  if (!exact) writeOxmValue(w, s, mask);
}

/** ofp_match (type OXM), padded to 8 bytes. */
export function writeMatch(w: Writer, match: Match): void {
  const start = w.off;
  w.u32(OFPMT_OXM << 16); // length patched below
  for (let i = 0; i < OXM_SPECS.length; i++) {
    const s = OXM_SPECS[i];
    const m = match[s.name];
    if (m !== undefined) writeOxmField(w, s, m);
  }
  w.put16(start + 2, w.off - start);
  w.padTo8(start);
}

/**
 * Read an ofp_match. `lenient` (packet-in) skips fields outside the catalogue, such as Open vSwitch's
 * registers; strict (flow-mods, flow stats) reports them as unsupported, since dropping a field would
 * change which packets a flow matches.
 */
export function readMatch(r: Reader, lenient: boolean): Match {
  const start = r.off;
  const type = r.u16();
  const length = r.u16();
  if (type !== OFPMT_OXM) throw unsupported(`match type ${type}`);
  if (length < 4) throw malformed(`match length ${length}`);
  const fields = r.sub(length - 4, 'match fields');
  const match: Match = {};
  while (fields.remaining > 0) {
    const h = fields.u32();
    const cls = h >>> 16;
    const field = (h >>> 9) & 0x7f;
    const hasMask = (h & 0x100) !== 0;
    const len = h & 0xff;
    const body = fields.sub(len, 'oxm field');
    let experimenter = 0;
    if (cls === OFPXMC_EXPERIMENTER) experimenter = body.u32();
    const s = BY_WIRE.get(lookupKey(cls, field, experimenter));
    if (!s) {
      if (lenient) continue;
      throw unsupported(`oxm class 0x${cls.toString(16)} field ${field}`);
    }
    const expected = (s.experimenter === undefined ? 0 : 4) + (hasMask ? 2 : 1) * s.bytes;
    if (len !== expected) throw malformed(`oxm ${s.name} length ${len}`);
    if (match[s.name] !== undefined) throw malformed(`duplicate oxm ${s.name}`);
    const value = readOxmValue(body, s, false);
    if (!hasMask) {
      match[s.name] = value;
      continue;
    }
    const mask = readOxmValue(body, s, true);
    match[s.name] = mask === s.full ? value : { value, mask };
  }
  // The padding to 8 bytes may be missing at the very end of a message; tolerate that.
  const padded = ((length + 7) & ~7) - length;
  r.off = Math.min(r.end, start + length + padded);
  return match;
}

/** Read a set-field's OXM (exact only). */
export function readSetFieldOxm(r: Reader): { field: FieldName; value: number } {
  const h = r.u32();
  const cls = h >>> 16;
  const field = (h >>> 9) & 0x7f;
  const len = h & 0xff;
  if ((h & 0x100) !== 0) throw unsupported('masked set-field');
  const body = r.sub(len, 'set-field oxm');
  const experimenter = cls === OFPXMC_EXPERIMENTER ? body.u32() : 0;
  const s = BY_WIRE.get(lookupKey(cls, field, experimenter));
  if (!s) throw unsupported(`set-field of oxm class 0x${cls.toString(16)} field ${field}`);
  if (len !== (s.experimenter === undefined ? 0 : 4) + s.bytes) throw malformed(`set-field ${s.name} length ${len}`);
  return { field: s.name, value: readOxmValue(body, s, false) };
}

/**
 * Field headers accepted in Nicira reg_move: the OXM form Overcast writes and the NXM form Open vSwitch
 * itself writes. NXM in_port is 16-bit and NXM vlan_tci is not vlan_vid, so those are left out.
 */
const NXM_HEADERS: ReadonlyArray<[number, number, FieldName]> = [
  [0x0000, 1, 'ethDst'],
  [0x0000, 2, 'ethSrc'],
  [0x0000, 3, 'ethType'],
  [0x0000, 6, 'ipProto'],
  [0x0000, 7, 'ipv4Src'],
  [0x0000, 8, 'ipv4Dst'],
  [0x0000, 9, 'tcpSrc'],
  [0x0000, 10, 'tcpDst'],
  [0x0000, 11, 'udpSrc'],
  [0x0000, 12, 'udpDst'],
  [0x0000, 13, 'icmpType'],
  [0x0000, 14, 'icmpCode'],
  [0x0000, 15, 'arpOp'],
  [0x0000, 16, 'arpSpa'],
  [0x0000, 17, 'arpTpa'],
  [0x0001, 16, 'tunnelId'],
  [0x0001, 17, 'arpSha'],
  [0x0001, 18, 'arpTha'],
];
const REG_MOVE_FIELDS = new Map<number, FieldName>([
  ...OXM_SPECS.filter((s) => s.experimenter === undefined).map((s): [number, FieldName] => [(s.cls << 7) | s.field, s.name]),
  ...NXM_HEADERS.map(([cls, field, name]): [number, FieldName] => [(cls << 7) | field, name]),
]);

const NXM_HEADER_OF = new Map<FieldName, number>(
  NXM_HEADERS.map(([cls, field, name]): [FieldName, number] => [name, ((cls << 16) | (field << 9) | BY_NAME[name].bytes) >>> 0]),
);

/**
 * The header reg_move names a field by: the NXM one where the field has one (what Open vSwitch itself
 * writes, so our bytes equal ovs-ofctl's), else the OXM one (metadata, in_port, vlan, dscp).
 */
export function regMoveHeader(name: FieldName): number {
  return NXM_HEADER_OF.get(name) ?? BY_NAME[name].header;
}

/** The field a 32-bit NXM/OXM header names, for reg_move; undefined when Overcast has no such field. */
export function fieldOfHeader(h: number): FieldName | undefined {
  if ((h & 0x100) !== 0) return undefined;
  return REG_MOVE_FIELDS.get(((h >>> 16) << 7) | ((h >>> 9) & 0x7f));
}
