/**
 * The native control channel's messages as plain TypeScript: a discriminated union on `type`. The
 * controller and the softswitch speak only these; protobuf classes stay inside the codec.
 * Flow and group bodies are the channel-neutral model from src/flow, so the OpenFlow codec maps the
 * same values.
 */
import type { Action, FlowEntry, FlowMod, GroupEntry, GroupMod, Match, MeterEntry, MeterMod, MeterStats } from '../../flow/index.js';

export interface PortDesc {
  portNo: number;
  name: string;
  /** 48-bit MAC as a number (0 when the port has none). */
  hwAddr: number;
  up: boolean;
}

export type PacketInReason = 'noMatch' | 'action' | 'invalidTtl';
export type PortReason = 'add' | 'delete' | 'modify';
export type FlowRemovedReason = 'idleTimeout' | 'hardTimeout' | 'delete';
export type BundleCtrlType =
  | 'openRequest'
  | 'openReply'
  | 'closeRequest'
  | 'closeReply'
  | 'commitRequest'
  | 'commitReply'
  | 'discardRequest'
  | 'discardReply';
export type ControllerRole = 'noChange' | 'equal' | 'master' | 'slave';

export interface FlowStats {
  flow: FlowEntry;
  packets: number;
  bytes: number;
  durationMs: number;
}

export interface PortStats {
  portNo: number;
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxDropped: number;
  txDropped: number;
  txErrors: number;
}

export type BundleMod = { type: 'flowMod'; flowMod: FlowMod } | { type: 'groupMod'; groupMod: GroupMod };

export type Msg =
  | { type: 'hello'; xid: number; /** Supported versions, ascending. */ versions: number[] }
  | { type: 'error'; xid: number; code: string; message: string; data?: Uint8Array }
  | { type: 'echoRequest'; xid: number; data: Uint8Array }
  | { type: 'echoReply'; xid: number; data: Uint8Array }
  | { type: 'featuresRequest'; xid: number }
  | { type: 'featuresReply'; xid: number; dpid: number; nTables: number; ports: PortDesc[] }
  | { type: 'flowMod'; xid: number; flowMod: FlowMod }
  | { type: 'groupMod'; xid: number; groupMod: GroupMod }
  | { type: 'barrierRequest'; xid: number }
  | { type: 'barrierReply'; xid: number }
  | {
      type: 'packetIn';
      xid: number;
      inPort: number;
      table: number;
      reason: PacketInReason;
      cookie: number;
      metadata: number;
      data: Uint8Array;
    }
  | { type: 'packetOut'; xid: number; /** PORT.CONTROLLER when the frame did not arrive on a port. */ inPort: number; actions: Action[]; data: Uint8Array }
  | { type: 'portStatus'; xid: number; reason: PortReason; port: PortDesc }
  | {
      type: 'flowStatsRequest';
      xid: number;
      /** Undefined = every table. */
      table?: number;
      match: Match;
      cookie: number;
      cookieMask: number;
    }
  | { type: 'flowStatsReply'; xid: number; flows: FlowStats[]; /** More replies with this xid follow. */ more: boolean }
  | { type: 'flowRemoved'; xid: number; flow: FlowEntry; reason: FlowRemovedReason; packets: number; bytes: number; durationMs: number }
  | { type: 'portStatsRequest'; xid: number; /** Undefined = every port. */ portNo?: number }
  | { type: 'portStatsReply'; xid: number; ports: PortStats[]; more: boolean }
  | { type: 'groupDescRequest'; xid: number }
  | { type: 'groupDescReply'; xid: number; groups: GroupEntry[]; /** More replies with this xid follow. */ more: boolean }
  | { type: 'meterMod'; xid: number; meterMod: MeterMod }
  | { type: 'meterConfigRequest'; xid: number }
  | { type: 'meterConfigReply'; xid: number; meters: MeterEntry[]; /** More replies with this xid follow. */ more: boolean }
  | { type: 'meterStatsRequest'; xid: number; /** Undefined = every meter. */ meterId?: number }
  | { type: 'meterStatsReply'; xid: number; meters: MeterStats[]; more: boolean }
  | { type: 'bundleControl'; xid: number; bundleId: number; ctrl: BundleCtrlType }
  | { type: 'bundleAdd'; xid: number; bundleId: number; mod: BundleMod }
  | { type: 'roleRequest'; xid: number; role: ControllerRole; generationId: number }
  | { type: 'roleReply'; xid: number; role: ControllerRole; generationId: number };

export type MsgType = Msg['type'];
/** One message type of the union, by name: `MsgOf<'flowMod'>`. */
export type MsgOf<T extends MsgType> = Extract<Msg, { type: T }>;

/** What decodeMessage returns for bytes that are not a valid message. Never thrown. */
export interface Malformed {
  type: 'malformed';
  code: 'OVC_ERR_PROTO_MALFORMED';
  reason: string;
}

export function isMalformed(m: Msg | Malformed): m is Malformed {
  return m.type === 'malformed';
}
