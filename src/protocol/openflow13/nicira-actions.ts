/**
 * Open vSwitch's Nicira actions for connection tracking and conjunctive match, in OpenFlow 1.3
 * experimenter actions (vendor NX_VENDOR_ID), byte for byte as ovs-ofctl writes them:
 * - NXAST_CT (nx_action_conntrack, 24 bytes plus nested actions): flags (NX_CT_F_COMMIT), zone as an
 *   immediate (zone_src 0), recirculation table (NX_CT_RECIRC_NONE for none), alg 0. A committed mark
 *   is a nested `set_field` of ct_mark: OFPAT_SET_FIELD when the mask is all ones, else one
 *   NXAST_REG_LOAD per contiguous run of mask bits (what Open vSwitch encodes in OpenFlow 1.3).
 * - NXAST_CONJUNCTION (16 bytes): clause (0-based on the wire, 1-based in the flow model), n_clauses, id.
 */
import { conjunction, ct, type Action, type CtMark } from '../../flow/index.js';
import { NX_VENDOR_ID, NXAST_CONJUNCTION, NXAST_CT, NXAST_REG_LOAD, NXAST_REG_LOAD2, OFPAT } from './constants.js';
import { oxmSpecOf, readSetFieldOxm } from './oxm.js';
import { malformed, unsupported, type Reader, type Writer } from './wire.js';

export const NX_CT_F_COMMIT = 0x0001;
export const NX_CT_RECIRC_NONE = 0xff;
const NX_CT_LEN = 24;
const NX_CONJUNCTION_LEN = 16;
const NX_REG_LOAD_LEN = 24;
const CT_MARK_BITS = 32;

/** Write the Nicira header: experimenter action type, length, vendor, subtype. */
function nxHeader(w: Writer, len: number, subtype: number): void {
  w.u32((OFPAT.EXPERIMENTER << 16) | len);
  w.u32(NX_VENDOR_ID);
  w.u16(subtype);
}

export function writeNxConjunction(w: Writer, a: Extract<Action, { type: 'conjunction' }>): void {
  nxHeader(w, NX_CONJUNCTION_LEN, NXAST_CONJUNCTION);
  w.u8(a.clause - 1);
  w.u8(a.nClauses);
  w.u32(a.id);
}

export function writeNxCt(w: Writer, a: Extract<Action, { type: 'ct' }>): void {
  const start = w.off;
  nxHeader(w, NX_CT_LEN, NXAST_CT);
  w.u16(a.commit === true ? NX_CT_F_COMMIT : 0);
  w.u32(0); // zone_src: an immediate zone
  w.u16(a.zone);
  w.u8(a.table ?? NX_CT_RECIRC_NONE);
  w.u8(0);
  w.u16(0);
  w.u16(0); // alg
  if (a.mark !== undefined) writeCtMark(w, a.mark);
  w.put16(start + 2, w.off - start);
}

function writeCtMark(w: Writer, mark: CtMark): void {
  const spec = oxmSpecOf('ctMark');
  const mask = mark.mask >>> 0;
  if (mask === 0xffffffff) {
    w.u32((OFPAT.SET_FIELD << 16) | 16);
    w.u32(spec.header);
    w.u32(mark.value >>> 0);
    w.u32(0);
    return;
  }
  for (let ofs = 0; ofs < CT_MARK_BITS; ) {
    if (((mask >>> ofs) & 1) === 0) {
      ofs++;
      continue;
    }
    let n = 0;
    while (ofs + n < CT_MARK_BITS && ((mask >>> (ofs + n)) & 1) === 1) n++;
    nxHeader(w, NX_REG_LOAD_LEN, NXAST_REG_LOAD);
    w.u16((ofs << 6) | (n - 1));
    w.u32(spec.header);
    const bits = n === 32 ? mark.value >>> 0 : ((mark.value >>> ofs) & (2 ** n - 1)) >>> 0;
    w.u32(0);
    w.u32(bits);
    ofs += n;
  }
}

/** A Nicira action after its vendor id (`body` holds the rest of the action). */
export function readNxAction(body: Reader, len: number, readRegMove: (body: Reader) => Action): Action {
  const subtype = body.u16();
  switch (subtype) {
    case NXAST_CONJUNCTION: {
      if (len !== NX_CONJUNCTION_LEN) throw malformed('conjunction length');
      const clause = body.u8();
      const n = body.u8();
      const id = body.u32();
      if (n < 2 || n > 64 || clause >= n) throw malformed(`conjunction clause ${clause} of ${n}`);
      return conjunction(id, clause + 1, n);
    }
    case NXAST_CT:
      return readNxCt(body, len);
    default:
      if (len !== 24) throw unsupported(`nicira action subtype ${subtype}`);
      body.off -= 2;
      return readRegMove(body);
  }
}

function readNxCt(body: Reader, len: number): Action {
  if (len < NX_CT_LEN) throw malformed('ct length');
  const flags = body.u16();
  const zoneSrc = body.u32();
  const zone = body.u16();
  const table = body.u8();
  body.skip(3);
  const alg = body.u16();
  if ((flags & ~NX_CT_F_COMMIT) !== 0) throw unsupported(`ct flags 0x${flags.toString(16)}`);
  if (zoneSrc !== 0) throw unsupported('ct zone from a field');
  if (alg !== 0) throw unsupported('ct alg');
  let mark: CtMark | undefined;
  while (body.remaining > 0) mark = readNestedMark(body, mark);
  return ct(zone, {
    commit: (flags & NX_CT_F_COMMIT) !== 0,
    ...(table === NX_CT_RECIRC_NONE ? {} : { table }),
    ...(mark === undefined ? {} : { mark }),
  });
}

/** One action nested in ct: a set_field, reg_load or reg_load2 of ct_mark, merged into `mark`. */
function readNestedMark(r: Reader, mark: CtMark | undefined): CtMark {
  const type = r.u16();
  const len = r.u16();
  if (len < 8 || len % 8 !== 0) throw malformed(`action length ${len}`);
  const body = r.sub(len - 4, 'ct nested action');
  const ctMark = oxmSpecOf('ctMark');
  const merge = (value: number, mask: number): CtMark => ({
    value: (((mark?.value ?? 0) & ~mask) | (value & mask)) >>> 0,
    mask: ((mark?.mask ?? 0) | mask) >>> 0,
  });
  if (type === OFPAT.SET_FIELD) {
    const { field, value } = readSetFieldOxm(body);
    if (field !== 'ctMark') throw unsupported(`ct nested set_field of ${field}`);
    return merge(value, 0xffffffff);
  }
  if (type !== OFPAT.EXPERIMENTER || body.u32() !== NX_VENDOR_ID) throw unsupported(`ct nested action type ${type}`);
  const subtype = body.u16();
  if (subtype === NXAST_REG_LOAD) {
    const ofsNbits = body.u16();
    const dst = body.u32();
    const hi = body.u32();
    const lo = body.u32();
    const ofs = ofsNbits >>> 6;
    const n = (ofsNbits & 0x3f) + 1;
    if (dst !== ctMark.header || ofs + n > CT_MARK_BITS || hi !== 0) throw unsupported('ct nested reg_load of another field');
    const mask = n === 32 ? 0xffffffff : ((2 ** n - 1) * 2 ** ofs) >>> 0;
    return merge((lo * 2 ** ofs) >>> 0, mask);
  }
  if (subtype === NXAST_REG_LOAD2) {
    const h = body.u32();
    if ((h & ~0x100 & 0xffffff00) >>> 0 !== (ctMark.header & 0xffffff00) >>> 0) throw unsupported('ct nested reg_load2 of another field');
    const value = body.u32();
    const mask = (h & 0x100) !== 0 ? body.u32() : 0xffffffff;
    return merge(value, mask);
  }
  throw unsupported(`ct nested nicira action ${subtype}`);
}
