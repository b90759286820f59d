/**
 * encodeMessage / decodeMessage: the Msg union to and from framed protobuf. decodeMessage never throws:
 * bytes that are not a valid Message come back as a Malformed value, for the runtime to answer with an
 * Error message and count as a drop.
 */
import { OvercastError } from '../../errors/index.js';
import { PORT } from '../../flow/index.js';
import { overcast } from './generated/overcast.js';
import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES, frame } from './framing.js';
import {
  WireError,
  decodeActions,
  decodeFlow,
  decodeFlowMod,
  decodeGroup,
  decodeGroupMod,
  decodeMatch,
  encodeActions,
  encodeFlow,
  encodeFlowMod,
  encodeGroup,
  encodeGroupMod,
  encodeMatch,
  fromWire,
  toWire,
  u64,
} from './flow-codec.js';
import { decodeMeter, decodeMeterMod, decodeMeterStats, encodeMeter, encodeMeterMod, encodeMeterStats } from './meter-codec.js';
import type {
  BundleCtrlType,
  ControllerRole,
  FlowRemovedReason,
  Malformed,
  Msg,
  PacketInReason,
  PortDesc,
  PortReason,
  PortStats,
} from './messages.js';
import { bitmapToVersions, versionsToBitmap } from './version.js';

const pb = overcast.native;
type IMessage = overcast.native.IMessage;
type IPort = overcast.native.IPort;
type IPortStats = overcast.native.IPortStats;

const PACKET_IN_REASONS: readonly PacketInReason[] = ['noMatch', 'action', 'invalidTtl'];
const PORT_REASONS: readonly PortReason[] = ['add', 'delete', 'modify'];
const FLOW_REMOVED_REASONS: readonly FlowRemovedReason[] = ['idleTimeout', 'hardTimeout', 'delete'];
const BUNDLE_CTRL_TYPES: readonly BundleCtrlType[] = [
  'openRequest',
  'openReply',
  'closeRequest',
  'closeReply',
  'commitRequest',
  'commitReply',
  'discardRequest',
  'discardReply',
];
const ROLES: readonly ControllerRole[] = ['noChange', 'equal', 'master', 'slave'];

const encodePort = (p: PortDesc): IPort => ({ portNo: p.portNo, name: p.name, hwAddr: p.hwAddr, up: p.up });
const decodePort = (p: IPort | null | undefined): PortDesc => {
  if (!p) throw new WireError('missing port');
  return { portNo: p.portNo ?? 0, name: p.name ?? '', hwAddr: u64(p.hwAddr), up: p.up ?? false };
};
const encodePortStats = (s: PortStats): IPortStats => ({ ...s });
const decodePortStats = (s: IPortStats): PortStats => ({
  portNo: s.portNo ?? 0,
  rxPackets: u64(s.rxPackets),
  txPackets: u64(s.txPackets),
  rxBytes: u64(s.rxBytes),
  txBytes: u64(s.txBytes),
  rxDropped: u64(s.rxDropped),
  txDropped: u64(s.txDropped),
  txErrors: u64(s.txErrors),
});
const bytes = (b: Uint8Array | null | undefined): Uint8Array => b ?? new Uint8Array(0);

function toProto(m: Msg): IMessage {
  const xid = m.xid >>> 0;
  switch (m.type) {
    case 'hello':
      return { xid, hello: { versions: versionsToBitmap(m.versions) } };
    case 'error':
      return { xid, error: { code: m.code, message: m.message, ...(m.data ? { data: m.data } : {}) } };
    case 'echoRequest':
      return { xid, echoRequest: { data: m.data } };
    case 'echoReply':
      return { xid, echoReply: { data: m.data } };
    case 'featuresRequest':
      return { xid, featuresRequest: {} };
    case 'featuresReply':
      return { xid, featuresReply: { dpid: m.dpid, nTables: m.nTables, ports: m.ports.map(encodePort) } };
    case 'flowMod':
      return { xid, flowMod: encodeFlowMod(m.flowMod) };
    case 'groupMod':
      return { xid, groupMod: encodeGroupMod(m.groupMod) };
    case 'barrierRequest':
      return { xid, barrierRequest: {} };
    case 'barrierReply':
      return { xid, barrierReply: {} };
    case 'packetIn':
      return {
        xid,
        packetIn: {
          inPort: m.inPort,
          table: m.table,
          reason: toWire(PACKET_IN_REASONS, m.reason, 'packet-in reason'),
          cookie: m.cookie,
          metadata: m.metadata,
          data: m.data,
        },
      };
    case 'packetOut':
      return {
        xid,
        packetOut: { ...(m.inPort !== PORT.CONTROLLER ? { inPort: m.inPort } : {}), actions: encodeActions(m.actions), data: m.data },
      };
    case 'portStatus':
      return { xid, portStatus: { reason: toWire(PORT_REASONS, m.reason, 'port reason'), port: encodePort(m.port) } };
    case 'flowStatsRequest':
      return {
        xid,
        flowStatsRequest: {
          ...(m.table !== undefined ? { table: m.table } : {}),
          match: encodeMatch(m.match),
          cookie: m.cookie,
          cookieMask: m.cookieMask,
        },
      };
    case 'flowStatsReply':
      return {
        xid,
        flowStatsReply: {
          flows: m.flows.map((s) => ({ flow: encodeFlow(s.flow), packets: s.packets, bytes: s.bytes, durationMs: s.durationMs })),
          more: m.more,
        },
      };
    case 'flowRemoved':
      return {
        xid,
        flowRemoved: {
          flow: encodeFlow(m.flow),
          reason: toWire(FLOW_REMOVED_REASONS, m.reason, 'flow-removed reason'),
          packets: m.packets,
          bytes: m.bytes,
          durationMs: m.durationMs,
        },
      };
    case 'portStatsRequest':
      return { xid, portStatsRequest: m.portNo !== undefined ? { portNo: m.portNo } : {} };
    case 'portStatsReply':
      return { xid, portStatsReply: { ports: m.ports.map(encodePortStats), more: m.more } };
    case 'groupDescRequest':
      return { xid, groupDescRequest: {} };
    case 'groupDescReply':
      return { xid, groupDescReply: { groups: m.groups.map(encodeGroup), more: m.more } };
    case 'meterMod':
      return { xid, meterMod: encodeMeterMod(m.meterMod) };
    case 'meterConfigRequest':
      return { xid, meterConfigRequest: {} };
    case 'meterConfigReply':
      return { xid, meterConfigReply: { meters: m.meters.map(encodeMeter), more: m.more } };
    case 'meterStatsRequest':
      return { xid, meterStatsRequest: m.meterId !== undefined ? { meterId: m.meterId } : {} };
    case 'meterStatsReply':
      return { xid, meterStatsReply: { meters: m.meters.map(encodeMeterStats), more: m.more } };
    case 'bundleControl':
      return { xid, bundleControl: { bundleId: m.bundleId, type: toWire(BUNDLE_CTRL_TYPES, m.ctrl, 'bundle control') } };
    case 'bundleAdd':
      return {
        xid,
        bundleAdd:
          m.mod.type === 'flowMod'
            ? { bundleId: m.bundleId, flowMod: encodeFlowMod(m.mod.flowMod) }
            : { bundleId: m.bundleId, groupMod: encodeGroupMod(m.mod.groupMod) },
      };
    case 'roleRequest':
      return { xid, roleRequest: { role: toWire(ROLES, m.role, 'role'), generationId: m.generationId } };
    case 'roleReply':
      return { xid, roleReply: { role: toWire(ROLES, m.role, 'role'), generationId: m.generationId } };
  }
}

function fromProto(p: overcast.native.Message): Msg {
  const xid = p.xid;
  switch (p.body) {
    case 'hello':
      return { type: 'hello', xid, versions: bitmapToVersions(p.hello?.versions ?? 0) };
    case 'error': {
      const e = p.error;
      const out: Msg = { type: 'error', xid, code: e?.code ?? '', message: e?.message ?? '' };
      if (e?.data && e.data.length > 0) out.data = e.data;
      return out;
    }
    case 'echoRequest':
      return { type: 'echoRequest', xid, data: bytes(p.echoRequest?.data) };
    case 'echoReply':
      return { type: 'echoReply', xid, data: bytes(p.echoReply?.data) };
    case 'featuresRequest':
      return { type: 'featuresRequest', xid };
    case 'featuresReply': {
      const f = p.featuresReply;
      return { type: 'featuresReply', xid, dpid: u64(f?.dpid), nTables: f?.nTables ?? 0, ports: (f?.ports ?? []).map(decodePort) };
    }
    case 'flowMod':
      return { type: 'flowMod', xid, flowMod: decodeFlowMod(p.flowMod) };
    case 'groupMod':
      return { type: 'groupMod', xid, groupMod: decodeGroupMod(p.groupMod) };
    case 'barrierRequest':
      return { type: 'barrierRequest', xid };
    case 'barrierReply':
      return { type: 'barrierReply', xid };
    case 'packetIn': {
      const pi = p.packetIn;
      return {
        type: 'packetIn',
        xid,
        inPort: pi?.inPort ?? 0,
        table: pi?.table ?? 0,
        reason: fromWire(PACKET_IN_REASONS, pi?.reason, 'packet-in reason'),
        cookie: u64(pi?.cookie),
        metadata: pi?.metadata ?? 0,
        data: bytes(pi?.data),
      };
    }
    case 'packetOut': {
      const po = p.packetOut;
      return { type: 'packetOut', xid, inPort: po?.inPort ?? PORT.CONTROLLER, actions: decodeActions(po?.actions), data: bytes(po?.data) };
    }
    case 'portStatus':
      return {
        type: 'portStatus',
        xid,
        reason: fromWire(PORT_REASONS, p.portStatus?.reason, 'port reason'),
        port: decodePort(p.portStatus?.port),
      };
    case 'flowStatsRequest': {
      const r = p.flowStatsRequest;
      const out: Msg = { type: 'flowStatsRequest', xid, match: decodeMatch(r?.match), cookie: u64(r?.cookie), cookieMask: u64(r?.cookieMask) };
      if (r?.table != null) out.table = r.table;
      return out;
    }
    case 'flowStatsReply':
      return {
        type: 'flowStatsReply',
        xid,
        flows: (p.flowStatsReply?.flows ?? []).map((s) => ({
          flow: decodeFlow(s.flow),
          packets: u64(s.packets),
          bytes: u64(s.bytes),
          durationMs: u64(s.durationMs),
        })),
        more: p.flowStatsReply?.more ?? false,
      };
    case 'flowRemoved': {
      const r = p.flowRemoved;
      return {
        type: 'flowRemoved',
        xid,
        flow: decodeFlow(r?.flow),
        reason: fromWire(FLOW_REMOVED_REASONS, r?.reason, 'flow-removed reason'),
        packets: u64(r?.packets),
        bytes: u64(r?.bytes),
        durationMs: u64(r?.durationMs),
      };
    }
    case 'portStatsRequest': {
      const out: Msg = { type: 'portStatsRequest', xid };
      if (p.portStatsRequest?.portNo != null) out.portNo = p.portStatsRequest.portNo;
      return out;
    }
    case 'portStatsReply':
      return { type: 'portStatsReply', xid, ports: (p.portStatsReply?.ports ?? []).map(decodePortStats), more: p.portStatsReply?.more ?? false };
    case 'groupDescRequest':
      return { type: 'groupDescRequest', xid };
    case 'groupDescReply':
      return { type: 'groupDescReply', xid, groups: (p.groupDescReply?.groups ?? []).map(decodeGroup), more: p.groupDescReply?.more ?? false };
    case 'meterMod':
      return { type: 'meterMod', xid, meterMod: decodeMeterMod(p.meterMod) };
    case 'meterConfigRequest':
      return { type: 'meterConfigRequest', xid };
    case 'meterConfigReply':
      return { type: 'meterConfigReply', xid, meters: (p.meterConfigReply?.meters ?? []).map(decodeMeter), more: p.meterConfigReply?.more ?? false };
    case 'meterStatsRequest': {
      const out: Msg = { type: 'meterStatsRequest', xid };
      if (p.meterStatsRequest?.meterId != null) out.meterId = p.meterStatsRequest.meterId;
      return out;
    }
    case 'meterStatsReply':
      return { type: 'meterStatsReply', xid, meters: (p.meterStatsReply?.meters ?? []).map(decodeMeterStats), more: p.meterStatsReply?.more ?? false };
    case 'bundleControl':
      return {
        type: 'bundleControl',
        xid,
        bundleId: p.bundleControl?.bundleId ?? 0,
        ctrl: fromWire(BUNDLE_CTRL_TYPES, p.bundleControl?.type, 'bundle control'),
      };
    case 'bundleAdd': {
      const b = p.bundleAdd;
      const bundleId = b?.bundleId ?? 0;
      if (b?.flowMod) return { type: 'bundleAdd', xid, bundleId, mod: { type: 'flowMod', flowMod: decodeFlowMod(b.flowMod) } };
      if (b?.groupMod) return { type: 'bundleAdd', xid, bundleId, mod: { type: 'groupMod', groupMod: decodeGroupMod(b.groupMod) } };
      throw new WireError('bundle-add without a mod');
    }
    case 'roleRequest':
      return { type: 'roleRequest', xid, role: fromWire(ROLES, p.roleRequest?.role, 'role'), generationId: u64(p.roleRequest?.generationId) };
    case 'roleReply':
      return { type: 'roleReply', xid, role: fromWire(ROLES, p.roleReply?.role, 'role'), generationId: u64(p.roleReply?.generationId) };
    default:
      throw new WireError('message without a body');
  }
}

/** The unframed protobuf bytes of a message. */
export function encodePayload(msg: Msg): Uint8Array {
  return pb.Message.encode(toProto(msg)).finish();
}

/**
 * A message as it goes on the wire: length prefix + protobuf. Throws OVC_ERR_PROTO_OVERSIZED when the
 * payload exceeds MAX_FRAME_BYTES (the sender splits stats replies; see `more`).
 */
export function encodeMessage(msg: Msg): Buffer {
  const payload = encodePayload(msg);
  if (payload.length > MAX_FRAME_BYTES) {
    throw new OvercastError('OVC_ERR_PROTO_OVERSIZED', `${msg.type} message of ${payload.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  }
  return frame(payload);
}

/** Decode one frame's payload (as FrameDecoder yields it, without the length prefix). Never throws. */
export function decodeMessage(payload: Uint8Array): Msg | Malformed {
  try {
    return fromProto(pb.Message.decode(payload));
  } catch (e) {
    const reason = e instanceof WireError ? e.message : `protobuf: ${e instanceof Error ? e.message : String(e)}`;
    return { type: 'malformed', code: 'OVC_ERR_PROTO_MALFORMED', reason };
  }
}

/** Decode a whole framed message (length prefix included), e.g. one encodeMessage produced. */
export function decodeFramed(framed: Uint8Array): Msg | Malformed {
  if (framed.length < FRAME_HEADER_BYTES) return { type: 'malformed', code: 'OVC_ERR_PROTO_MALFORMED', reason: 'shorter than a frame header' };
  const len = ((framed[0] << 24) | (framed[1] << 16) | (framed[2] << 8) | framed[3]) >>> 0;
  if (len !== framed.length - FRAME_HEADER_BYTES) return { type: 'malformed', code: 'OVC_ERR_PROTO_MALFORMED', reason: 'length prefix disagrees' };
  return decodeMessage(framed.subarray(FRAME_HEADER_BYTES));
}
