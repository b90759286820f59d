/**
 * Decode one OpenFlow 1.3 message (one frame from the splitter). Never throws: bytes that do not parse
 * give an Of13Malformed result with a code (malformed, unsupported, or wrong version) and, when the header was
 * readable, the xid and type, so a session can answer with an OpenFlow error.
 */
import type { FlowEntry } from '../../flow/index.js';
import {
  OFP_HEADER_LEN,
  OFP_VERSION,
  OFPBCT,
  OFPCR_ROLE,
  OFPG_ANY,
  OFPGC,
  OFPHET_VERSIONBITMAP,
  OFPMC,
  OFPMP,
  OFPMPF_MORE,
  OFPPR,
  OFPT,
  OFPTT_ALL,
  OFPET,
  ONF_EXPERIMENTER_ID,
  ONFT_BUNDLE_ADD_MESSAGE,
  ONFT_BUNDLE_CONTROL,
  invert,
} from './constants.js';
import { PORT } from '../../flow/index.js';
import { readActions } from './action-codec.js';
import { readFlowModBody } from './flow-mod-codec.js';
import { groupTypeOf, readBuckets, readGroupDescEntry } from './group-codec.js';
import { readInstructions } from './instruction-codec.js';
import type { Of13FlowStats, Of13Malformed, Of13Message } from './messages.js';
import { readMeterBands, readMeterConfig, readMeterStats } from './meter-codec.js';
import { readMatch } from './oxm.js';
import { PORT_DESC_LEN, PORT_STATS_LEN, readPortDesc, readPortStats } from './port-codec.js';
import { DecodeError, malformed, Reader, unsupported } from './wire.js';

const PORT_REASONS = invert(OFPPR);
const ROLES = invert(OFPCR_ROLE);
const GROUP_COMMANDS = invert(OFPGC);
const METER_COMMANDS = invert(OFPMC);
const BUNDLE_CTRL = invert(OFPBCT);

function lookup<T>(table: Map<number, T>, n: number, what: string): T {
  const v = table.get(n);
  if (v === undefined) throw malformed(`${what} ${n}`);
  return v;
}

function expectEmpty(r: Reader, what: string): void {
  if (r.remaining !== 0) throw malformed(`${what} has ${r.remaining} unexpected bytes`);
}

function readHello(r: Reader, xid: number, version: number): Of13Message {
  let versions: number[] | undefined;
  while (r.remaining >= 4) {
    const type = r.u16();
    const len = r.u16();
    if (len < 4) throw malformed(`hello element length ${len}`);
    const body = r.sub(len - 4, 'hello element');
    if (type === OFPHET_VERSIONBITMAP) {
      versions = [];
      for (let word = 0; body.remaining >= 4; word++) {
        const bits = body.u32();
        for (let bit = 0; bit < 32; bit++) if ((bits >>> bit) & 1) versions.push(word * 32 + bit);
      }
    }
    // Elements are padded to 8 bytes; the padding may be absent after the last one.
    r.off = Math.min(r.end, r.off + (((len + 7) & ~7) - len));
  }
  return versions === undefined ? { type: 'hello', xid, version } : { type: 'hello', xid, version, versions };
}

function readFlowStatsEntry(r: Reader): Of13FlowStats {
  const len = r.u16();
  if (len < 48) throw malformed(`flow stats length ${len}`);
  const e = r.sub(len - 2, 'flow stats');
  const table = e.u8();
  e.skip(1);
  const durationSec = e.u32();
  const durationNsec = e.u32();
  const priority = e.u16();
  const idle = e.u16();
  const hard = e.u16();
  const flags = e.u16();
  e.skip(4);
  const cookie = e.u64Safe();
  if (cookie === undefined) throw unsupported('cookie wider than 53 bits');
  const packetCount = e.u64Counter();
  const byteCount = e.u64Counter();
  const match = readMatch(e, false);
  const flow: FlowEntry = { table, priority, match, ...readInstructions(e), cookie };
  if (idle !== 0) flow.idleTimeoutSec = idle;
  if (hard !== 0) flow.hardTimeoutSec = hard;
  return { flow, durationSec, durationNsec, flags, packetCount, byteCount };
}

function readMultipart(r: Reader, xid: number, isRequest: boolean): Of13Message {
  const mpType = r.u16();
  const more = (r.u16() & OFPMPF_MORE) !== 0;
  r.skip(4);
  const common = more ? { xid, more } : { xid };
  if (isRequest) {
    switch (mpType) {
      case OFPMP.DESC:
        return { type: 'descRequest', ...common };
      case OFPMP.PORT_DESC:
        return { type: 'portDescRequest', ...common };
      case OFPMP.GROUP_DESC:
        return { type: 'groupDescRequest', ...common };
      case OFPMP.METER_CONFIG:
      case OFPMP.METER: {
        const meterId = r.u32();
        r.skip(4);
        return { type: mpType === OFPMP.METER ? 'meterStatsRequest' : 'meterConfigRequest', ...common, meterId };
      }
      case OFPMP.PORT_STATS: {
        const portNo = r.u32();
        r.skip(4);
        return { type: 'portStatsRequest', ...common, portNo };
      }
      case OFPMP.FLOW: {
        const tableId = r.u8();
        r.skip(3);
        const outPort = r.u32();
        const outGroup = r.u32();
        r.skip(4);
        const cookie = r.u64Safe();
        const cookieMask = r.u64Mask();
        if (cookie === undefined) throw unsupported('cookie wider than 53 bits');
        const match = readMatch(r, false);
        return {
          type: 'flowStatsRequest',
          ...common,
          ...(tableId === OFPTT_ALL ? {} : { tableId }),
          ...(outPort === PORT.ANY ? {} : { outPort }),
          ...(outGroup === OFPG_ANY ? {} : { outGroup }),
          ...(cookie === 0 ? {} : { cookie }),
          ...(cookieMask === 0 ? {} : { cookieMask }),
          match,
        };
      }
      default:
        throw unsupported(`multipart request type ${mpType}`);
    }
  }
  switch (mpType) {
    case OFPMP.DESC:
      return {
        type: 'descReply',
        ...common,
        mfrDesc: r.fixedString(256),
        hwDesc: r.fixedString(256),
        swDesc: r.fixedString(256),
        serialNum: r.fixedString(32),
        dpDesc: r.fixedString(256),
      };
    case OFPMP.FLOW: {
      const flows: Of13FlowStats[] = [];
      while (r.remaining > 0) flows.push(readFlowStatsEntry(r));
      return { type: 'flowStatsReply', ...common, flows };
    }
    case OFPMP.PORT_DESC: {
      if (r.remaining % PORT_DESC_LEN !== 0) throw malformed('port desc reply length');
      const ports = [];
      while (r.remaining > 0) ports.push(readPortDesc(r));
      return { type: 'portDescReply', ...common, ports };
    }
    case OFPMP.PORT_STATS: {
      if (r.remaining % PORT_STATS_LEN !== 0) throw malformed('port stats reply length');
      const stats = [];
      while (r.remaining > 0) stats.push(readPortStats(r));
      return { type: 'portStatsReply', ...common, stats };
    }
    case OFPMP.GROUP_DESC: {
      const groups = [];
      while (r.remaining > 0) groups.push(readGroupDescEntry(r));
      return { type: 'groupDescReply', ...common, groups };
    }
    case OFPMP.METER_CONFIG: {
      const meters = [];
      while (r.remaining > 0) meters.push(readMeterConfig(r));
      return { type: 'meterConfigReply', ...common, meters };
    }
    case OFPMP.METER: {
      const stats = [];
      while (r.remaining > 0) stats.push(readMeterStats(r));
      return { type: 'meterStatsReply', ...common, stats };
    }
    default:
      throw unsupported(`multipart reply type ${mpType}`);
  }
}

function readExperimenter(r: Reader, xid: number, depth: number): Of13Message {
  const experimenter = r.u32();
  const expType = r.u32();
  if (experimenter === ONF_EXPERIMENTER_ID && expType === ONFT_BUNDLE_CONTROL) {
    const bundleId = r.u32();
    const ctrlType = lookup(BUNDLE_CTRL, r.u16(), 'bundle control type');
    const flags = r.u16();
    return { type: 'bundleControl', xid, bundleId, ctrlType, flags };
  }
  if (experimenter === ONF_EXPERIMENTER_ID && expType === ONFT_BUNDLE_ADD_MESSAGE) {
    const bundleId = r.u32();
    r.skip(2);
    const flags = r.u16();
    if (depth > 0) throw malformed('nested bundle add');
    r.need(OFP_HEADER_LEN, 'bundled message header');
    const innerLen = (r.buf[r.off + 2] << 8) | r.buf[r.off + 3];
    if (innerLen < OFP_HEADER_LEN || innerLen > r.remaining) throw malformed(`bundled message length ${innerLen}`);
    const inner = readMessage(r.buf, r.off, innerLen, depth + 1);
    if (inner.type === 'malformed') throw new DecodeError(inner.code, `bundled message: ${inner.reason}`);
    return { type: 'bundleAdd', xid, bundleId, flags, message: inner };
  }
  return { type: 'experimenter', xid, experimenter, expType, data: r.bytes(r.remaining) };
}

function readBody(r: Reader, type: number, xid: number, version: number, depth: number): Of13Message {
  switch (type) {
    case OFPT.HELLO:
      return readHello(r, xid, version);
    case OFPT.ERROR: {
      const errType = r.u16();
      const errCode = r.u16();
      if (errType === OFPET.EXPERIMENTER) {
        const experimenter = r.u32();
        return { type: 'error', xid, errType, errCode, experimenter, data: r.bytes(r.remaining) };
      }
      return { type: 'error', xid, errType, errCode, data: r.bytes(r.remaining) };
    }
    case OFPT.ECHO_REQUEST:
      return { type: 'echoRequest', xid, data: r.bytes(r.remaining) };
    case OFPT.ECHO_REPLY:
      return { type: 'echoReply', xid, data: r.bytes(r.remaining) };
    case OFPT.EXPERIMENTER:
      return readExperimenter(r, xid, depth);
    case OFPT.FEATURES_REQUEST:
      expectEmpty(r, 'features request');
      return { type: 'featuresRequest', xid };
    case OFPT.FEATURES_REPLY: {
      const datapathId = r.u64big();
      const nBuffers = r.u32();
      const nTables = r.u8();
      const auxiliaryId = r.u8();
      r.skip(2);
      const capabilities = r.u32();
      r.skip(4);
      return { type: 'featuresReply', xid, datapathId, nBuffers, nTables, auxiliaryId, capabilities };
    }
    case OFPT.GET_CONFIG_REQUEST:
      expectEmpty(r, 'get config request');
      return { type: 'getConfigRequest', xid };
    case OFPT.GET_CONFIG_REPLY:
    case OFPT.SET_CONFIG: {
      const flags = r.u16();
      const missSendLen = r.u16();
      return { type: type === OFPT.SET_CONFIG ? 'setConfig' : 'getConfigReply', xid, flags, missSendLen };
    }
    case OFPT.PACKET_IN: {
      const bufferId = r.u32();
      const totalLen = r.u16();
      const reason = r.u8();
      const tableId = r.u8();
      const cookie = r.u64Safe();
      const match = readMatch(r, true);
      r.skip(2);
      const data = r.bytes(r.remaining);
      const msg: Of13Message = { type: 'packetIn', xid, bufferId, totalLen, reason, tableId, match, data };
      if (cookie !== undefined) msg.cookie = cookie;
      return msg;
    }
    case OFPT.PACKET_OUT: {
      const bufferId = r.u32();
      const inPort = r.u32();
      const actionsLen = r.u16();
      r.skip(6);
      const actions = readActions(r.sub(actionsLen, 'packet-out actions'));
      return { type: 'packetOut', xid, bufferId, inPort, actions, data: r.bytes(r.remaining) };
    }
    case OFPT.PORT_STATUS: {
      const reason = lookup(PORT_REASONS, r.u8(), 'port status reason');
      r.skip(7);
      return { type: 'portStatus', xid, reason, port: readPortDesc(r) };
    }
    case OFPT.FLOW_MOD:
      return readFlowModBody(r, xid);
    case OFPT.GROUP_MOD: {
      const command = lookup(GROUP_COMMANDS, r.u16(), 'group command');
      const groupType = groupTypeOf(r.u8());
      r.skip(1);
      const groupId = r.u32();
      return { type: 'groupMod', xid, command, group: { groupId, type: groupType, buckets: readBuckets(r, groupType) } };
    }
    case OFPT.METER_MOD: {
      const command = lookup(METER_COMMANDS, r.u16(), 'meter command');
      const flags = r.u16();
      const meterId = r.u32();
      const bands = readMeterBands(r);
      return { type: 'meterMod', xid, command, flags, meterId, bands };
    }
    case OFPT.MULTIPART_REQUEST:
    case OFPT.MULTIPART_REPLY:
      return readMultipart(r, xid, type === OFPT.MULTIPART_REQUEST);
    case OFPT.BARRIER_REQUEST:
      return { type: 'barrierRequest', xid };
    case OFPT.BARRIER_REPLY:
      return { type: 'barrierReply', xid };
    case OFPT.ROLE_REQUEST:
    case OFPT.ROLE_REPLY: {
      const role = lookup(ROLES, r.u32(), 'role');
      r.skip(4);
      const generationId = r.u64big();
      return { type: type === OFPT.ROLE_REQUEST ? 'roleRequest' : 'roleReply', xid, role, generationId };
    }
    default:
      throw unsupported(`message type ${type}`);
  }
}

function readMessage(buf: Uint8Array, off: number, len: number, depth: number): Of13Message | Of13Malformed {
  if (len < OFP_HEADER_LEN) return { type: 'malformed', code: 'OVC_ERR_PROTO_MALFORMED', reason: 'shorter than a header' };
  const version = buf[off];
  const type = buf[off + 1];
  const length = (buf[off + 2] << 8) | buf[off + 3];
  const xid = ((buf[off + 4] << 24) | (buf[off + 5] << 16) | (buf[off + 6] << 8) | buf[off + 7]) >>> 0;
  const fail = (code: Of13Malformed['code'], reason: string): Of13Malformed => ({ type: 'malformed', code, reason, xid, ofType: type });
  if (length !== len) return fail('OVC_ERR_PROTO_MALFORMED', `header length ${length} but ${len} bytes`);
  // A HELLO may carry any version (the peer's highest); everything else must be 1.3.
  if (version !== OFP_VERSION && type !== OFPT.HELLO) return fail('OVC_ERR_PROTO_VERSION', `version ${version}`);
  try {
    return readBody(new Reader(buf, off + OFP_HEADER_LEN, off + len), type, xid, version, depth);
  } catch (e) {
    if (e instanceof DecodeError) return fail(e.code, e.message);
    // Belt and braces: no decoder bug may throw out of a receive loop.
    return fail('OVC_ERR_PROTO_MALFORMED', e instanceof Error ? e.message : 'decode failed');
  }
}

/** Decode exactly one message: `buf` must hold one whole frame (see createOf13FrameSplitter). */
export function decodeOf13(buf: Uint8Array): Of13Message | Of13Malformed {
  return readMessage(buf, 0, buf.length, 0);
}
