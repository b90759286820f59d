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
  | { type: 'decTtl' };

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
      default:
        bad(`unknown action ${(a as { type: string }).type}`);
    }
  });
  return problems;
}
