/**
 * Encode any Of13Message to its wire bytes. Inputs come from Overcast's own (validated) model; a value
 * that OpenFlow 1.3 cannot carry throws OvercastError('OVC_ERR_PROTO_UNSUPPORTED').
 */
import { PORT } from '../../flow/index.js';
import {
  OFP_MAX_MESSAGE_LEN,
  OFPBCT,
  OFPCR_ROLE,
  OFPG_ANY,
  OFPGC,
  OFPGT,
  OFPHET_VERSIONBITMAP,
  OFPMC,
  OFPMP,
  OFPMPF_MORE,
  OFPPR,
  OFPT,
  OFPTT_ALL,
  ONF_EXPERIMENTER_ID,
  ONFT_BUNDLE_ADD_MESSAGE,
  ONFT_BUNDLE_CONTROL,
} from './constants.js';
import { OvercastError } from '../../errors/index.js';
import { writeActions } from './action-codec.js';
import { writeFlowMod, writeHeader } from './flow-mod-codec.js';
import { writeBuckets, writeGroupDescEntry } from './group-codec.js';
import { writeInstructions } from './instruction-codec.js';
import { writeMeterBands, writeMeterConfig, writeMeterStats } from './meter-codec.js';
import type { MultipartCommon, Of13Message } from './messages.js';
import { writeMatch } from './oxm.js';
import { writePortDesc, writePortStats } from './port-codec.js';
import { Writer } from './wire.js';

const DESC_STR_LEN = 256;
const SERIAL_NUM_LEN = 32;

function multipart(w: Writer, type: number, xid: number, mpType: number, m: MultipartCommon): number {
  const start = writeHeader(w, type, xid);
  w.u16(mpType);
  w.u16(m.more ? OFPMPF_MORE : 0);
  w.u32(0);
  return start;
}

function experimenter(w: Writer, xid: number, expType: number, id = ONF_EXPERIMENTER_ID): number {
  const start = writeHeader(w, OFPT.EXPERIMENTER, xid);
  w.u32(id);
  w.u32(expType);
  return start;
}

/** Append one message to `w`. */
export function writeOf13(w: Writer, msg: Of13Message): void {
  const begin = w.off;
  let start: number;
  switch (msg.type) {
    case 'hello': {
      start = writeHeader(w, OFPT.HELLO, msg.xid);
      if (msg.version !== undefined) w.buf[start] = msg.version;
      if (msg.versions !== undefined && msg.versions.length > 0) {
        const words = Math.floor(Math.max(...msg.versions) / 32) + 1;
        const bitmap = new Array<number>(words).fill(0);
        for (const v of msg.versions) bitmap[v >>> 5] = (bitmap[v >>> 5] | (1 << (v & 31))) >>> 0;
        const elemStart = w.off;
        w.u16(OFPHET_VERSIONBITMAP);
        w.u16(4 + 4 * words);
        for (const word of bitmap) w.u32(word);
        w.padTo8(elemStart);
      }
      break;
    }
    case 'error':
      start = writeHeader(w, OFPT.ERROR, msg.xid);
      w.u16(msg.errType);
      w.u16(msg.errCode);
      if (msg.experimenter !== undefined) w.u32(msg.experimenter);
      w.bytes(msg.data);
      break;
    case 'echoRequest':
    case 'echoReply':
      start = writeHeader(w, msg.type === 'echoRequest' ? OFPT.ECHO_REQUEST : OFPT.ECHO_REPLY, msg.xid);
      w.bytes(msg.data);
      break;
    case 'featuresRequest':
      start = writeHeader(w, OFPT.FEATURES_REQUEST, msg.xid);
      break;
    case 'featuresReply':
      start = writeHeader(w, OFPT.FEATURES_REPLY, msg.xid);
      w.u64big(msg.datapathId);
      w.u32(msg.nBuffers);
      w.u8(msg.nTables);
      w.u8(msg.auxiliaryId);
      w.u16(0);
      w.u32(msg.capabilities);
      w.u32(0);
      break;
    case 'getConfigRequest':
      start = writeHeader(w, OFPT.GET_CONFIG_REQUEST, msg.xid);
      break;
    case 'getConfigReply':
    case 'setConfig':
      start = writeHeader(w, msg.type === 'setConfig' ? OFPT.SET_CONFIG : OFPT.GET_CONFIG_REPLY, msg.xid);
      w.u16(msg.flags);
      w.u16(msg.missSendLen);
      break;
    case 'packetIn':
      start = writeHeader(w, OFPT.PACKET_IN, msg.xid);
      w.u32(msg.bufferId);
      w.u16(msg.totalLen);
      w.u8(msg.reason);
      w.u8(msg.tableId);
      if (msg.cookie === undefined) {
        w.u32(0xffffffff);
        w.u32(0xffffffff);
      } else w.u64(msg.cookie);
      writeMatch(w, msg.match);
      w.u16(0);
      w.bytes(msg.data);
      break;
    case 'packetOut': {
      start = writeHeader(w, OFPT.PACKET_OUT, msg.xid);
      w.u32(msg.bufferId);
      w.u32(msg.inPort);
      const lenAt = w.off;
      w.u16(0);
      w.zeros(6);
      const actionsStart = w.off;
      writeActions(w, msg.actions);
      w.put16(lenAt, w.off - actionsStart);
      w.bytes(msg.data);
      break;
    }
    case 'portStatus':
      start = writeHeader(w, OFPT.PORT_STATUS, msg.xid);
      w.u8(OFPPR[msg.reason]);
      w.zeros(7);
      writePortDesc(w, msg.port);
      break;
    case 'flowMod':
      writeFlowMod(w, msg, msg.xid, msg.flags ?? 0);
      return checkLength(w, begin);
    case 'groupMod':
      start = writeHeader(w, OFPT.GROUP_MOD, msg.xid);
      w.u16(OFPGC[msg.command]);
      w.u8(OFPGT[msg.group.type]);
      w.u8(0);
      w.u32(msg.group.groupId);
      writeBuckets(w, msg.group.type, msg.command === 'delete' ? [] : msg.group.buckets);
      break;
    case 'meterMod':
      start = writeHeader(w, OFPT.METER_MOD, msg.xid);
      w.u16(OFPMC[msg.command]);
      w.u16(msg.flags);
      w.u32(msg.meterId);
      writeMeterBands(w, msg.bands);
      break;
    case 'flowStatsRequest':
      start = multipart(w, OFPT.MULTIPART_REQUEST, msg.xid, OFPMP.FLOW, msg);
      w.u8(msg.tableId ?? OFPTT_ALL);
      w.zeros(3);
      w.u32(msg.outPort ?? PORT.ANY);
      w.u32(msg.outGroup ?? OFPG_ANY);
      w.u32(0);
      w.u64(msg.cookie ?? 0);
      w.u64Mask(msg.cookieMask ?? 0);
      writeMatch(w, msg.match);
      break;
    case 'flowStatsReply':
      start = multipart(w, OFPT.MULTIPART_REPLY, msg.xid, OFPMP.FLOW, msg);
      for (const s of msg.flows) {
        const entry = w.off;
        const f = s.flow;
        w.u16(0);
        w.u8(f.table);
        w.u8(0);
        w.u32(s.durationSec);
        w.u32(s.durationNsec);
        w.u16(f.priority);
        w.u16(f.idleTimeoutSec ?? 0);
        w.u16(f.hardTimeoutSec ?? 0);
        w.u16(s.flags);
        w.u32(0);
        w.u64(f.cookie);
        w.u64(s.packetCount);
        w.u64(s.byteCount);
        writeMatch(w, f.match);
        writeInstructions(w, f);
        w.put16(entry, w.off - entry);
      }
      break;
    case 'portDescRequest':
      start = multipart(w, OFPT.MULTIPART_REQUEST, msg.xid, OFPMP.PORT_DESC, msg);
      break;
    case 'portDescReply':
      start = multipart(w, OFPT.MULTIPART_REPLY, msg.xid, OFPMP.PORT_DESC, msg);
      for (const p of msg.ports) writePortDesc(w, p);
      break;
    case 'portStatsRequest':
      start = multipart(w, OFPT.MULTIPART_REQUEST, msg.xid, OFPMP.PORT_STATS, msg);
      w.u32(msg.portNo);
      w.u32(0);
      break;
    case 'portStatsReply':
      start = multipart(w, OFPT.MULTIPART_REPLY, msg.xid, OFPMP.PORT_STATS, msg);
      for (const s of msg.stats) writePortStats(w, s);
      break;
    case 'groupDescRequest':
      start = multipart(w, OFPT.MULTIPART_REQUEST, msg.xid, OFPMP.GROUP_DESC, msg);
      break;
    case 'groupDescReply':
      start = multipart(w, OFPT.MULTIPART_REPLY, msg.xid, OFPMP.GROUP_DESC, msg);
      for (const g of msg.groups) writeGroupDescEntry(w, g);
      break;
    case 'meterConfigRequest':
    case 'meterStatsRequest':
      start = multipart(w, OFPT.MULTIPART_REQUEST, msg.xid, msg.type === 'meterConfigRequest' ? OFPMP.METER_CONFIG : OFPMP.METER, msg);
      w.u32(msg.meterId);
      w.u32(0);
      break;
    case 'meterConfigReply':
      start = multipart(w, OFPT.MULTIPART_REPLY, msg.xid, OFPMP.METER_CONFIG, msg);
      for (const m of msg.meters) writeMeterConfig(w, m);
      break;
    case 'meterStatsReply':
      start = multipart(w, OFPT.MULTIPART_REPLY, msg.xid, OFPMP.METER, msg);
      for (const m of msg.stats) writeMeterStats(w, m);
      break;
    case 'descRequest':
      start = multipart(w, OFPT.MULTIPART_REQUEST, msg.xid, OFPMP.DESC, msg);
      break;
    case 'descReply':
      start = multipart(w, OFPT.MULTIPART_REPLY, msg.xid, OFPMP.DESC, msg);
      w.fixedString(msg.mfrDesc, DESC_STR_LEN);
      w.fixedString(msg.hwDesc, DESC_STR_LEN);
      w.fixedString(msg.swDesc, DESC_STR_LEN);
      w.fixedString(msg.serialNum, SERIAL_NUM_LEN);
      w.fixedString(msg.dpDesc, DESC_STR_LEN);
      break;
    case 'barrierRequest':
      start = writeHeader(w, OFPT.BARRIER_REQUEST, msg.xid);
      break;
    case 'barrierReply':
      start = writeHeader(w, OFPT.BARRIER_REPLY, msg.xid);
      break;
    case 'roleRequest':
    case 'roleReply':
      start = writeHeader(w, msg.type === 'roleRequest' ? OFPT.ROLE_REQUEST : OFPT.ROLE_REPLY, msg.xid);
      w.u32(OFPCR_ROLE[msg.role]);
      w.u32(0);
      w.u64big(msg.generationId);
      break;
    case 'bundleControl':
      start = experimenter(w, msg.xid, ONFT_BUNDLE_CONTROL);
      w.u32(msg.bundleId);
      w.u16(OFPBCT[msg.ctrlType]);
      w.u16(msg.flags);
      break;
    case 'bundleAdd':
      start = experimenter(w, msg.xid, ONFT_BUNDLE_ADD_MESSAGE);
      w.u32(msg.bundleId);
      w.u16(0);
      w.u16(msg.flags);
      writeOf13(w, msg.message);
      break;
    case 'experimenter':
      start = experimenter(w, msg.xid, msg.expType, msg.experimenter);
      w.bytes(msg.data);
      break;
  }
  w.put16(start + 2, w.off - start);
  checkLength(w, begin);
}

function checkLength(w: Writer, begin: number): void {
  if (w.off - begin > OFP_MAX_MESSAGE_LEN) {
    throw new OvercastError('OVC_ERR_PROTO_OVERSIZED', `OpenFlow message of ${w.off - begin} bytes exceeds 65535`);
  }
}

const scratch = new Writer(4096);

export function encodeOf13(msg: Of13Message): Buffer {
  scratch.off = 0;
  writeOf13(scratch, msg);
  return scratch.copyOut();
}

/** Several messages in one Buffer (one socket write). */
export function encodeOf13Many(msgs: readonly Of13Message[]): Buffer {
  scratch.off = 0;
  for (const m of msgs) writeOf13(scratch, m);
  return scratch.copyOut();
}
