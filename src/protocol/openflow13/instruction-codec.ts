/**
 * Instructions (OpenFlow 1.3 §7.2.4) for a FlowEntry: meter, apply-actions, write-metadata, goto-table,
 * written in Open vSwitch's canonical order. Write-actions and clear-actions are not in the flow model.
 */
import type { Action, FlowEntry, MaskedValue } from '../../flow/index.js';
import { OFPIT } from './constants.js';
import { MAX_ACTION_BYTES, readActions, writeActions } from './action-codec.js';
import { malformed, unsupported, type Reader, type Writer } from './wire.js';

export type FlowInstructions = Pick<FlowEntry, 'actions' | 'writeMetadata' | 'gotoTable' | 'meterId'>;

export function instructionsBound(f: FlowInstructions): number {
  return 8 + 8 + 24 + 8 + f.actions.length * MAX_ACTION_BYTES;
}

export function writeInstructions(w: Writer, f: FlowInstructions): void {
  if (f.meterId !== undefined) {
    w.u32((OFPIT.METER << 16) | 8);
    w.u32(f.meterId);
  }
  if (f.actions.length > 0) {
    const start = w.off;
    w.u32(OFPIT.APPLY_ACTIONS << 16);
    w.u32(0);
    writeActions(w, f.actions);
    w.put16(start + 2, w.off - start);
  }
  if (f.writeMetadata !== undefined) {
    const { value, mask } = f.writeMetadata;
    w.u32((OFPIT.WRITE_METADATA << 16) | 24);
    w.u32(0);
    w.u32(0);
    w.u32((value & mask) >>> 0);
    w.u32(0);
    w.u32(mask);
  }
  if (f.gotoTable !== undefined) {
    w.u32((OFPIT.GOTO_TABLE << 16) | 8);
    w.u8(f.gotoTable);
    w.u8(0);
    w.u16(0);
  }
}

/** Read instructions filling the reader to its end. */
export function readInstructions(r: Reader): FlowInstructions {
  let actions: Action[] | undefined;
  let writeMetadata: MaskedValue | undefined;
  let gotoTable: number | undefined;
  let meterId: number | undefined;
  while (r.remaining > 0) {
    const type = r.u16();
    const len = r.u16();
    if (len < 8 || len % 8 !== 0) throw malformed(`instruction length ${len}`);
    const body = r.sub(len - 4, 'instruction');
    switch (type) {
      case OFPIT.GOTO_TABLE:
        if (len !== 8 || gotoTable !== undefined) throw malformed('goto_table');
        gotoTable = body.u8();
        break;
      case OFPIT.WRITE_METADATA: {
        if (len !== 24 || writeMetadata !== undefined) throw malformed('write_metadata');
        body.skip(4);
        if (body.u32() !== 0) throw unsupported('write_metadata of the upper 32 bits');
        const value = body.u32();
        body.skip(4); // mask bits over always-zero upper metadata bits change nothing
        writeMetadata = { value, mask: body.u32() };
        break;
      }
      case OFPIT.APPLY_ACTIONS:
        if (actions !== undefined) throw malformed('duplicate apply_actions');
        body.skip(4);
        actions = readActions(body);
        break;
      case OFPIT.METER:
        if (len !== 8 || meterId !== undefined) throw malformed('meter');
        meterId = body.u32();
        break;
      default:
        throw unsupported(`instruction type ${type}`);
    }
  }
  const out: FlowInstructions = { actions: actions ?? [] };
  if (writeMetadata !== undefined) out.writeMetadata = writeMetadata;
  if (gotoTable !== undefined) out.gotoTable = gotoTable;
  if (meterId !== undefined) out.meterId = meterId;
  return out;
}
