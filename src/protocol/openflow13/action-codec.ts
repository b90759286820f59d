/**
 * Actions (OpenFlow 1.3 §7.2.5) for the flow model's Action union. `copyField` becomes Nicira's
 * NXAST_REG_MOVE (Open vSwitch has no OF1.5 copy-field in OF1.3), copying the whole field; `ct` and
 * `conjunction` are Nicira's NXAST_CT and NXAST_CONJUNCTION (nicira-actions.ts).
 */
import { FIELDS, PORT, copyField, decTtl, group, output, popMpls, popVlan, pushMpls, pushVlan, setField, type Action } from '../../flow/index.js';
import { OvercastError } from '../../errors/index.js';
import { NX_VENDOR_ID, NXAST_REG_MOVE, OFPAT } from './constants.js';
import { fieldOfHeader, oxmSpecOf, readSetFieldOxm, regMoveHeader, writeOxmValue } from './oxm.js';
import { readNxAction, writeNxConjunction, writeNxCt } from './nicira-actions.js';
import { malformed, unsupported, type Reader, type Writer } from './wire.js';

/**
 * Largest encoded action but ct (reg_move, set-field of an experimenter field are 24 bytes); a ct with
 * a mark takes more, and the writer grows for it.
 */
export const MAX_ACTION_BYTES = 24;

const DEFAULT_MAX_LEN = 0xffff;

export function writeAction(w: Writer, a: Action): void {
  switch (a.type) {
    case 'output':
      w.u32((OFPAT.OUTPUT << 16) | 16);
      w.u32(a.port);
      w.u16(a.maxLen ?? (a.port === PORT.CONTROLLER ? DEFAULT_MAX_LEN : 0));
      w.zeros(6);
      return;
    case 'group':
      w.u32((OFPAT.GROUP << 16) | 8);
      w.u32(a.groupId);
      return;
    case 'setField': {
      const s = oxmSpecOf(a.field);
      const len = (4 + s.exactLen + 7) & ~7;
      const start = w.off;
      w.u32((OFPAT.SET_FIELD << 16) | len);
      w.u32(s.header);
      if (s.experimenter !== undefined) w.u32(s.experimenter);
      writeOxmValue(w, s, a.value);
      w.zeros(len - (w.off - start));
      return;
    }
    case 'copyField': {
      const src = oxmSpecOf(a.src);
      const dst = oxmSpecOf(a.dst);
      if (src.experimenter !== undefined || dst.experimenter !== undefined) {
        throw new OvercastError('OVC_ERR_PROTO_UNSUPPORTED', `reg_move cannot name ${a.src} or ${a.dst} in OpenFlow 1.3`, 'copyField');
      }
      w.u32((OFPAT.EXPERIMENTER << 16) | 24);
      w.u32(NX_VENDOR_ID);
      w.u16(NXAST_REG_MOVE);
      w.u16(FIELDS[a.dst].bits);
      w.u32(0); // src_ofs, dst_ofs
      w.u32(regMoveHeader(a.src));
      w.u32(regMoveHeader(a.dst));
      return;
    }
    case 'pushVlan':
      w.u32((OFPAT.PUSH_VLAN << 16) | 8);
      w.u16(a.ethType);
      w.u16(0);
      return;
    case 'popVlan':
      w.u32((OFPAT.POP_VLAN << 16) | 8);
      w.u32(0);
      return;
    // ofp_action_push and ofp_action_pop_mpls: type, length 8, ethertype, 2 bytes of padding.
    case 'pushMpls':
      w.u32((OFPAT.PUSH_MPLS << 16) | 8);
      w.u16(a.ethType);
      w.u16(0);
      return;
    case 'popMpls':
      w.u32((OFPAT.POP_MPLS << 16) | 8);
      w.u16(a.ethType);
      w.u16(0);
      return;
    case 'decTtl':
      w.u32((OFPAT.DEC_NW_TTL << 16) | 8);
      w.u32(0);
      return;
    case 'ct':
      writeNxCt(w, a);
      return;
    case 'conjunction':
      writeNxConjunction(w, a);
      return;
  }
}

export function writeActions(w: Writer, actions: readonly Action[]): void {
  for (let i = 0; i < actions.length; i++) writeAction(w, actions[i]);
}

function readRegMove(r: Reader): Action {
  const subtype = r.u16();
  if (subtype !== NXAST_REG_MOVE) throw unsupported(`nicira action subtype ${subtype}`);
  const nBits = r.u16();
  const srcOfs = r.u16();
  const dstOfs = r.u16();
  const src = fieldOfHeader(r.u32());
  const dst = fieldOfHeader(r.u32());
  if (src === undefined || dst === undefined) throw unsupported('reg_move of a field Overcast does not model');
  if (srcOfs !== 0 || dstOfs !== 0 || nBits !== FIELDS[src].bits || nBits !== FIELDS[dst].bits) {
    throw unsupported('reg_move of part of a field');
  }
  return copyField(src, dst);
}

export function readAction(r: Reader): Action {
  const type = r.u16();
  const len = r.u16();
  if (len < 8 || len % 8 !== 0) throw malformed(`action length ${len}`);
  const body = r.sub(len - 4, 'action');
  switch (type) {
    case OFPAT.OUTPUT: {
      if (len !== 16) throw malformed('output length');
      const port = body.u32();
      const maxLen = body.u16();
      return port === PORT.CONTROLLER || maxLen !== 0 ? output(port, maxLen) : output(port);
    }
    case OFPAT.GROUP:
      if (len !== 8) throw malformed('group length');
      return group(body.u32());
    case OFPAT.SET_FIELD: {
      const { field, value } = readSetFieldOxm(body);
      if (!FIELDS[field].settable) throw unsupported(`set-field of ${field}`);
      return setField(field, value);
    }
    case OFPAT.PUSH_VLAN:
      if (len !== 8) throw malformed('push_vlan length');
      return pushVlan(body.u16());
    case OFPAT.POP_VLAN:
      if (len !== 8) throw malformed('pop_vlan length');
      return popVlan();
    case OFPAT.PUSH_MPLS:
      if (len !== 8) throw malformed('push_mpls length');
      return pushMpls(body.u16());
    case OFPAT.POP_MPLS:
      if (len !== 8) throw malformed('pop_mpls length');
      return popMpls(body.u16());
    case OFPAT.DEC_NW_TTL:
      if (len !== 8) throw malformed('dec_nw_ttl length');
      return decTtl();
    case OFPAT.EXPERIMENTER: {
      const experimenter = body.u32();
      if (experimenter !== NX_VENDOR_ID) throw unsupported(`experimenter action 0x${experimenter.toString(16)}`);
      return readNxAction(body, len, readRegMove);
    }
    default:
      throw unsupported(`action type ${type}`);
  }
}

/** Read actions filling the reader to its end. */
export function readActions(r: Reader): Action[] {
  const actions: Action[] = [];
  while (r.remaining > 0) actions.push(readAction(r));
  return actions;
}
