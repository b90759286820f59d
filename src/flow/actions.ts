/**
 * Actions, modelled on OpenFlow 1.3 apply-actions. An empty action list drops the packet.
 * `copyField` is OpenFlow 1.5's copy-field (Nicira reg_move on Open vSwitch): the ARP responder needs
 * it to turn a request into a reply in the switch, without a flow per requester.
 */
import type { ProblemDetail } from '../errors/index.js';
import { FIELDS, fullMask, isFieldName, type FieldName } from './fields.js';

/** Reserved port numbers (OpenFlow 1.3 values, so the OpenFlow codec passes them through). */
export const PORT = {
  MAX: 0xffffff00,
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  ANY: 0xffffffff,
} as const;

/** How many bytes of a packet sent to the controller: the whole frame. */
export const CONTROLLER_MAX_LEN_NO_BUFFER = 0xffff;

export type Action =
  | { type: 'output'; port: number; maxLen?: number }
  | { type: 'group'; groupId: number }
  | { type: 'setField'; field: FieldName; value: number }
  | { type: 'copyField'; src: FieldName; dst: FieldName }
  | { type: 'pushVlan'; ethType: number }
  | { type: 'popVlan' }
  /** Push an MPLS label stack entry (ethType 0x8847 or 0x8848): label 0 over a non-MPLS payload, else a copy of the top entry. */
  | { type: 'pushMpls'; ethType: number }
  /** Pop the top label stack entry; `ethType` becomes the frame's (the payload's type once the bottom entry goes). */
  | { type: 'popMpls'; ethType: number }
  | { type: 'decTtl' }
  /**
   * Connection tracking in `zone` (Open vSwitch's `ct`): with `commit`, record the connection (and
   * set its mark under `mark.mask`); with `table`, continue the lookup in that table with ctState,
   * ctZone and ctMark filled in (a recirculation, so it is the flow's last action; in a select group's
   * bucket run by a flow, the bucket's packet recirculates). As in Open vSwitch, the current pass goes
   * on untracked: what ct found is seen only in the pass `table` starts.
   */
  | { type: 'ct'; zone: number; table?: number; commit?: boolean; mark?: CtMark }
  /**
   * One clause of conjunctive match `id` (Open vSwitch's `conjunction(id, clause/nClauses)`, clause
   * 1-based): when a packet matches a flow carrying one of these in every clause of `id` at one
   * priority, the table's flow matching `conjId = id` runs. A flow with conjunction actions has no
   * other actions.
   */
  | { type: 'conjunction'; id: number; clause: number; nClauses: number };

/** The mark a committing `ct` writes: the `mask` bits of the connection's mark become `value`'s. */
export interface CtMark {
  value: number;
  mask: number;
}

export interface CtOptions {
  table?: number;
  commit?: boolean;
  mark?: CtMark;
}

/** The highest table id (OpenFlow's 0-254; 255 is OFPTT_ALL). */
export const MAX_TABLE_ID = 254;
/** Open vSwitch allows conjunctions of 2 to 64 clauses. */
export const MAX_CONJUNCTION_CLAUSES = 64;

export const output = (port: number, maxLen?: number): Action =>
  maxLen === undefined ? { type: 'output', port } : { type: 'output', port, maxLen };
export const toController = (): Action => ({ type: 'output', port: PORT.CONTROLLER, maxLen: CONTROLLER_MAX_LEN_NO_BUFFER });
export const setField = (field: FieldName, value: number): Action => ({ type: 'setField', field, value });
export const copyField = (src: FieldName, dst: FieldName): Action => ({ type: 'copyField', src, dst });
export const pushVlan = (ethType = 0x8100): Action => ({ type: 'pushVlan', ethType });
export const popVlan = (): Action => ({ type: 'popVlan' });
export const pushMpls = (ethType = 0x8847): Action => ({ type: 'pushMpls', ethType });
export const popMpls = (ethType: number): Action => ({ type: 'popMpls', ethType });
export const decTtl = (): Action => ({ type: 'decTtl' });
export const group = (groupId: number): Action => ({ type: 'group', groupId });
export const ct = (zone: number, options: CtOptions = {}): Action => ({
  type: 'ct',
  zone,
  ...(options.table === undefined ? {} : { table: options.table }),
  ...(options.commit === true ? { commit: true } : {}),
  ...(options.mark === undefined ? {} : { mark: { value: options.mark.value, mask: options.mark.mask } }),
});
export const conjunction = (id: number, clause: number, nClauses: number): Action => ({ type: 'conjunction', id, clause, nClauses });

const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

export function checkActions(actions: readonly Action[], path = 'actions'): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  actions.forEach((a, i) => {
    const bad = (message: string) => problems.push({ code: 'OVC_ERR_FLOW_BAD_ACTION', message, field: `${path}[${i}]` });
    switch (a.type) {
      case 'output':
        if (!Number.isInteger(a.port) || a.port < 0 || a.port > 0xffffffff) bad(`bad output port ${a.port}`);
        break;
      case 'group':
        if (!Number.isInteger(a.groupId) || a.groupId < 0 || a.groupId > 0xffffff00) bad(`bad group id ${a.groupId}`);
        break;
      case 'setField':
        if (!isFieldName(a.field) || !FIELDS[a.field].settable) bad(`field ${a.field} cannot be set`);
        else if (!Number.isInteger(a.value) || a.value < 0 || a.value > fullMask(a.field)) bad(`value ${a.value} does not fit ${a.field}`);
        break;
      case 'copyField':
        if (!isFieldName(a.src) || !isFieldName(a.dst)) bad(`unknown field in copy ${a.src} -> ${a.dst}`);
        else if (FIELDS[a.src].bits !== FIELDS[a.dst].bits) bad(`copy ${a.src} -> ${a.dst}: widths differ`);
        break;
      case 'pushVlan':
        if (a.ethType !== 0x8100 && a.ethType !== 0x88a8) bad(`push-vlan ethertype must be 0x8100 or 0x88a8`);
        break;
      case 'pushMpls':
        if (a.ethType !== 0x8847 && a.ethType !== 0x8848) bad(`push-mpls ethertype must be 0x8847 or 0x8848`);
        break;
      case 'popMpls':
        if (!Number.isInteger(a.ethType) || a.ethType < 0 || a.ethType > 0xffff) bad(`pop-mpls ethertype ${a.ethType} does not fit 16 bits`);
        break;
      case 'popVlan':
      case 'decTtl':
        break;
      case 'ct':
        if (!Number.isInteger(a.zone) || a.zone < 0 || a.zone > 0xffff) bad(`ct zone ${a.zone} does not fit 16 bits`);
        if (a.table !== undefined) {
          if (!Number.isInteger(a.table) || a.table < 0 || a.table > MAX_TABLE_ID) bad(`ct table ${a.table} is not a table id`);
          if (i !== actions.length - 1) bad(`ct with a table must be the last action`);
        }
        if (a.mark !== undefined) {
          if (a.commit !== true) bad(`ct mark needs commit`);
          if (!isU32(a.mark.value) || !isU32(a.mark.mask)) bad(`ct mark does not fit 32 bits`);
        }
        break;
      case 'conjunction':
        if (!isU32(a.id)) bad(`conjunction id ${a.id} does not fit 32 bits`);
        if (!Number.isInteger(a.nClauses) || a.nClauses < 2 || a.nClauses > MAX_CONJUNCTION_CLAUSES) {
          bad(`conjunction needs 2 to ${MAX_CONJUNCTION_CLAUSES} clauses, not ${a.nClauses}`);
        } else if (!Number.isInteger(a.clause) || a.clause < 1 || a.clause > a.nClauses) {
          bad(`conjunction clause ${a.clause} is not in 1..${a.nClauses}`);
        }
        if (actions.some((o) => o.type !== 'conjunction')) bad(`a conjunction flow carries only conjunction actions`);
        break;
      default:
        bad(`unknown action ${(a as { type: string }).type}`);
    }
  });
  return problems;
}
