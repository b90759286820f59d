/**
 * OpenFlow 1.3 wire constants (OpenFlow Switch Specification 1.3.5, section 7), plus the two extensions
 * Open vSwitch speaks in OF1.3 that Overcast uses: ONF bundles (EXT-230) and Nicira's reg_move.
 */
export const OFP_VERSION = 0x04;
export const OFP_HEADER_LEN = 8;
/** The header's length field is 16 bits: no OpenFlow message is longer. */
export const OFP_MAX_MESSAGE_LEN = 0xffff;

export const OFPT = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  EXPERIMENTER: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  GROUP_MOD: 15,
  PORT_MOD: 16,
  TABLE_MOD: 17,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  QUEUE_GET_CONFIG_REQUEST: 22,
  QUEUE_GET_CONFIG_REPLY: 23,
  ROLE_REQUEST: 24,
  ROLE_REPLY: 25,
  GET_ASYNC_REQUEST: 26,
  GET_ASYNC_REPLY: 27,
  SET_ASYNC: 28,
  METER_MOD: 29,
} as const;

export const OFPHET_VERSIONBITMAP = 1;

/** Error types (ofp_error_type); codes within each type are numbers the caller interprets. */
export const OFPET = {
  HELLO_FAILED: 0,
  BAD_REQUEST: 1,
  BAD_ACTION: 2,
  BAD_INSTRUCTION: 3,
  BAD_MATCH: 4,
  FLOW_MOD_FAILED: 5,
  GROUP_MOD_FAILED: 6,
  PORT_MOD_FAILED: 7,
  TABLE_MOD_FAILED: 8,
  QUEUE_OP_FAILED: 9,
  SWITCH_CONFIG_FAILED: 10,
  ROLE_REQUEST_FAILED: 11,
  METER_MOD_FAILED: 12,
  TABLE_FEATURES_FAILED: 13,
  EXPERIMENTER: 0xffff,
} as const;

/** A few error codes a controller sends or checks. */
export const OFPBRC_BAD_TYPE = 1;
export const OFPBRC_BAD_EXPERIMENTER = 3;
export const OFPHFC_INCOMPATIBLE = 0;

export const OFP_NO_BUFFER = 0xffffffff;
export const OFPG_ANY = 0xffffffff;
export const OFPG_ALL = 0xfffffffc;
export const OFPTT_ALL = 0xff;
export const OFPM_ALL = 0xffffffff;
/** The meter of packets sent to the controller (packet-ins), as opposed to a flow's meter. */
export const OFPM_CONTROLLER = 0xfffffffe;

export const OFPFC = { add: 0, modify: 1, modifyStrict: 2, delete: 3, deleteStrict: 4 } as const;
export const OFPFF = { SEND_FLOW_REM: 1, CHECK_OVERLAP: 2, RESET_COUNTS: 4, NO_PKT_COUNTS: 8, NO_BYT_COUNTS: 16 } as const;

export const OFPGC = { add: 0, modify: 1, delete: 2 } as const;
export const OFPGT = { all: 0, select: 1, indirect: 2, fastFailover: 3 } as const;

export const OFPMC = { add: 0, modify: 1, delete: 2 } as const;
export const OFPMF = { KBPS: 1, PKTPS: 2, BURST: 4, STATS: 8 } as const;
export const OFPMBT_DROP = 1;
export const OFPMBT_DSCP_REMARK = 2;

export const OFPMT_OXM = 1;

export const OFPIT = {
  GOTO_TABLE: 1,
  WRITE_METADATA: 2,
  WRITE_ACTIONS: 3,
  APPLY_ACTIONS: 4,
  CLEAR_ACTIONS: 5,
  METER: 6,
  EXPERIMENTER: 0xffff,
} as const;

export const OFPAT = {
  OUTPUT: 0,
  PUSH_VLAN: 17,
  POP_VLAN: 18,
  PUSH_MPLS: 19,
  POP_MPLS: 20,
  GROUP: 22,
  DEC_NW_TTL: 24,
  SET_FIELD: 25,
  EXPERIMENTER: 0xffff,
} as const;

export const OFPMP = {
  DESC: 0,
  FLOW: 1,
  PORT_STATS: 4,
  GROUP_DESC: 7,
  METER: 9,
  METER_CONFIG: 10,
  PORT_DESC: 13,
} as const;
export const OFPMPF_MORE = 1;

export const OFPCR_ROLE = { nochange: 0, equal: 1, master: 2, slave: 3 } as const;

export const OFPPR = { add: 0, delete: 1, modify: 2 } as const;

/** Nicira's vendor id and the reg_move subtype (Open vSwitch's copy-field in OF1.3). */
export const NX_VENDOR_ID = 0x00002320;
export const NXAST_REG_MOVE = 6;
/** Nicira subtypes for connection tracking and conjunctive match (nicira-actions.ts). */
export const NXAST_REG_LOAD = 7;
export const NXAST_REG_LOAD2 = 33;
export const NXAST_CONJUNCTION = 34;
export const NXAST_CT = 35;

/** ONF's experimenter id: bundles in OF1.3 (EXT-230) and the tcp_flags OXM (EXT-109). */
export const ONF_EXPERIMENTER_ID = 0x4f4e4600;
export const ONFT_BUNDLE_CONTROL = 2300;
export const ONFT_BUNDLE_ADD_MESSAGE = 2301;
export const ONFOXM_ET_TCP_FLAGS = 42;

export const OFPBCT = {
  openRequest: 0,
  openReply: 1,
  closeRequest: 2,
  closeReply: 3,
  commitRequest: 4,
  commitReply: 5,
  discardRequest: 6,
  discardReply: 7,
} as const;
export const OFPBF = { ATOMIC: 1, ORDERED: 2 } as const;

/** Inverse of a name->number table, for decoding. */
export function invert<T extends Record<string, number>>(table: T): Map<number, keyof T> {
  const m = new Map<number, keyof T>();
  for (const [k, v] of Object.entries(table)) m.set(v, k as keyof T);
  return m;
}
