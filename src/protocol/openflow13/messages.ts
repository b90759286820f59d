/**
 * The OpenFlow 1.3 messages Overcast speaks, as one discriminated union. Flow and group messages carry
 * the channel-neutral model from src/flow, so the controller builds the same FlowMod for both channels.
 * 64-bit identifiers that are not counters (datapath id, role generation) are bigints; counters are
 * numbers (exact up to 2^53, which no counter here reaches).
 */
import type { Action, FlowEntry, FlowMod, GroupEntry, GroupMod, Match } from '../../flow/index.js';

export type MalformedCode = 'OVC_ERR_PROTO_MALFORMED' | 'OVC_ERR_PROTO_UNSUPPORTED' | 'OVC_ERR_PROTO_VERSION';

/** What decodeOf13 returns for bytes it cannot turn into a message: never an exception. */
export interface Of13Malformed {
  type: 'malformed';
  code: MalformedCode;
  reason: string;
  /** From the header, when there was one: lets a session answer with an OpenFlow error. */
  xid?: number;
  ofType?: number;
}

export interface Hello {
  type: 'hello';
  xid: number;
  /** The header's version (a peer announces its highest). */
  version?: number;
  /** Versions from the version-bitmap element; absent when the peer sent none. */
  versions?: number[];
}

export interface ErrorMsg {
  type: 'error';
  xid: number;
  errType: number;
  errCode: number;
  /** For errType 0xffff (experimenter): the experimenter id; errCode then holds exp_type. */
  experimenter?: number;
  /** Usually the start of the offending request. */
  data: Buffer;
}

export interface EchoRequest {
  type: 'echoRequest';
  xid: number;
  data: Buffer;
}
export interface EchoReply {
  type: 'echoReply';
  xid: number;
  data: Buffer;
}

export interface FeaturesRequest {
  type: 'featuresRequest';
  xid: number;
}
export interface FeaturesReply {
  type: 'featuresReply';
  xid: number;
  datapathId: bigint;
  nBuffers: number;
  nTables: number;
  auxiliaryId: number;
  capabilities: number;
}

export interface GetConfigRequest {
  type: 'getConfigRequest';
  xid: number;
}
export interface SwitchConfig {
  /** OFPC_FRAG_* bits. */
  flags: number;
  /** Bytes of a packet sent to the controller on a table miss (0xffff = whole packet). */
  missSendLen: number;
}
export interface GetConfigReply extends SwitchConfig {
  type: 'getConfigReply';
  xid: number;
}
export interface SetConfig extends SwitchConfig {
  type: 'setConfig';
  xid: number;
}

export interface PacketIn {
  type: 'packetIn';
  xid: number;
  bufferId: number;
  totalLen: number;
  /** 0 no match, 1 action, 2 invalid ttl. */
  reason: number;
  tableId: number;
  /** Cookie of the flow that sent it; absent when the switch says none (all ones) or it exceeds 53 bits. */
  cookie?: number;
  /** Pipeline fields (in_port, metadata, tunnel id); fields outside Overcast's catalogue are skipped. */
  match: Match;
  data: Buffer;
}

export interface PacketOut {
  type: 'packetOut';
  xid: number;
  bufferId: number;
  inPort: number;
  actions: Action[];
  data: Buffer;
}

export interface Of13PortDesc {
  portNo: number;
  hwAddr: number;
  name: string;
  config: number;
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeed: number;
  maxSpeed: number;
}

export interface PortStatus {
  type: 'portStatus';
  xid: number;
  reason: 'add' | 'delete' | 'modify';
  port: Of13PortDesc;
}

export type Of13FlowMod = { type: 'flowMod'; xid: number; /** OFPFF_* bits. */ flags?: number } & FlowMod;
export type Of13GroupMod = { type: 'groupMod'; xid: number } & GroupMod;

export type Of13MeterBand =
  | { type: 'drop'; rate: number; burstSize: number }
  | { type: 'dscpRemark'; rate: number; burstSize: number; precLevel: number };

export interface Of13MeterMod {
  type: 'meterMod';
  xid: number;
  command: 'add' | 'modify' | 'delete';
  /** OFPMF_* bits: KBPS 1, PKTPS 2, BURST 4, STATS 8. */
  flags: number;
  meterId: number;
  bands: Of13MeterBand[];
}

/** One meter as OFPMP_METER_CONFIG reports it. */
export interface Of13MeterConfig {
  /** OFPMF_* bits. */
  flags: number;
  meterId: number;
  bands: Of13MeterBand[];
}

/** One meter's counters as OFPMP_METER reports them (-1: not kept). */
export interface Of13MeterStats {
  meterId: number;
  flowCount: number;
  packetInCount: number;
  byteInCount: number;
  durationSec: number;
  durationNsec: number;
  bands: { packetBandCount: number; byteBandCount: number }[];
}

export interface MultipartCommon {
  xid: number;
  /** OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE: more parts of this request or reply follow. */
  more?: boolean;
}

export interface FlowStatsRequest extends MultipartCommon {
  type: 'flowStatsRequest';
  /** Absent = all tables. */
  tableId?: number;
  outPort?: number;
  outGroup?: number;
  cookie?: number;
  cookieMask?: number;
  match: Match;
}
export interface Of13FlowStats {
  flow: FlowEntry;
  durationSec: number;
  durationNsec: number;
  /** OFPFF_* bits the flow was added with. */
  flags: number;
  packetCount: number;
  byteCount: number;
}
export interface FlowStatsReply extends MultipartCommon {
  type: 'flowStatsReply';
  flows: Of13FlowStats[];
}

export interface PortDescRequest extends MultipartCommon {
  type: 'portDescRequest';
}
export interface PortDescReply extends MultipartCommon {
  type: 'portDescReply';
  ports: Of13PortDesc[];
}

export interface PortStatsRequest extends MultipartCommon {
  type: 'portStatsRequest';
  /** PORT.ANY for all ports. */
  portNo: number;
}
/** Counters the switch does not keep are -1 (OpenFlow's all ones). */
export interface Of13PortStats {
  portNo: number;
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxDropped: number;
  txDropped: number;
  rxErrors: number;
  txErrors: number;
  rxFrameErr: number;
  rxOverErr: number;
  rxCrcErr: number;
  collisions: number;
  durationSec: number;
  durationNsec: number;
}
export interface PortStatsReply extends MultipartCommon {
  type: 'portStatsReply';
  stats: Of13PortStats[];
}

export interface GroupDescRequest extends MultipartCommon {
  type: 'groupDescRequest';
}
export interface GroupDescReply extends MultipartCommon {
  type: 'groupDescReply';
  groups: GroupEntry[];
}

/** OFPMP_METER_CONFIG and OFPMP_METER: one meter, or OFPM_ALL. */
export interface MeterConfigRequest extends MultipartCommon {
  type: 'meterConfigRequest';
  meterId: number;
}
export interface MeterConfigReply extends MultipartCommon {
  type: 'meterConfigReply';
  meters: Of13MeterConfig[];
}
export interface MeterStatsRequest extends MultipartCommon {
  type: 'meterStatsRequest';
  meterId: number;
}
export interface MeterStatsReply extends MultipartCommon {
  type: 'meterStatsReply';
  stats: Of13MeterStats[];
}

export interface DescRequest extends MultipartCommon {
  type: 'descRequest';
}
export interface DescReply extends MultipartCommon {
  type: 'descReply';
  mfrDesc: string;
  hwDesc: string;
  swDesc: string;
  serialNum: string;
  dpDesc: string;
}

export interface BarrierRequest {
  type: 'barrierRequest';
  xid: number;
}
export interface BarrierReply {
  type: 'barrierReply';
  xid: number;
}

export type Of13ControllerRole = 'nochange' | 'equal' | 'master' | 'slave';
export interface RoleRequest {
  type: 'roleRequest';
  xid: number;
  role: Of13ControllerRole;
  generationId: bigint;
}
export interface RoleReply {
  type: 'roleReply';
  xid: number;
  role: Of13ControllerRole;
  generationId: bigint;
}

export type Of13BundleCtrlType =
  | 'openRequest'
  | 'openReply'
  | 'closeRequest'
  | 'closeReply'
  | 'commitRequest'
  | 'commitReply'
  | 'discardRequest'
  | 'discardReply';

/** ONF bundle control (OF1.3 experimenter form of OF1.4's OFPT_BUNDLE_CONTROL). Properties are not modelled. */
export interface BundleControl {
  type: 'bundleControl';
  xid: number;
  bundleId: number;
  ctrlType: Of13BundleCtrlType;
  /** OFPBF_ATOMIC 1, OFPBF_ORDERED 2. */
  flags: number;
}

/** A message added to an open bundle; Open vSwitch requires the inner xid to equal the outer one. */
export interface BundleAdd {
  type: 'bundleAdd';
  xid: number;
  bundleId: number;
  flags: number;
  message: Of13Message;
}

/** Any other experimenter message, kept raw (so a session can log or answer it). */
export interface Experimenter {
  type: 'experimenter';
  xid: number;
  experimenter: number;
  expType: number;
  data: Buffer;
}

export type Of13Message =
  | Hello
  | ErrorMsg
  | EchoRequest
  | EchoReply
  | FeaturesRequest
  | FeaturesReply
  | GetConfigRequest
  | GetConfigReply
  | SetConfig
  | PacketIn
  | PacketOut
  | PortStatus
  | Of13FlowMod
  | Of13GroupMod
  | Of13MeterMod
  | FlowStatsRequest
  | FlowStatsReply
  | PortDescRequest
  | PortDescReply
  | PortStatsRequest
  | PortStatsReply
  | GroupDescRequest
  | GroupDescReply
  | MeterConfigRequest
  | MeterConfigReply
  | MeterStatsRequest
  | MeterStatsReply
  | DescRequest
  | DescReply
  | BarrierRequest
  | BarrierReply
  | RoleRequest
  | RoleReply
  | BundleControl
  | BundleAdd
  | Experimenter;

export type Of13MessageType = Of13Message['type'];
