/**
 * OFPT_FLOW_MOD, the controller's hot path (~100k flow-mods/s into Open vSwitch): one size bound per
 * message, byte writes into a reused scratch buffer, precomputed OXM headers, one copy out. A batch
 * encodes many flow-mods back to back into one Buffer, which Open vSwitch ingests far faster than one
 * write per message.
 */
import { PORT, type FlowEntry, type FlowMod } from '../../flow/index.js';
import {
  OFP_NO_BUFFER,
  OFP_VERSION,
  OFPFC,
  OFPG_ANY,
  OFPT,
  OFPTT_ALL,
  ONF_EXPERIMENTER_ID,
  ONFT_BUNDLE_ADD_MESSAGE,
} from './constants.js';
import { instructionsBound, readInstructions, writeInstructions } from './instruction-codec.js';
import type { Of13FlowMod } from './messages.js';
import { MAX_MATCH_BYTES, readMatch, writeMatch } from './oxm.js';
import { malformed, unsupported, Writer, type Reader } from './wire.js';

const FLOW_MOD_FIXED_LEN = 48;
const COMMANDS = ['add', 'modify', 'modifyStrict', 'delete', 'deleteStrict'] as const;

/** Reused between calls (encoding is synchronous); grows to the largest batch seen. */
const scratch = new Writer(64 * 1024);

export function writeHeader(w: Writer, type: number, xid: number): number {
  const start = w.off;
  w.u32((OFP_VERSION << 24) | (type << 16)); // length patched by the caller
  w.u32(xid);
  return start;
}

/** Append one FLOW_MOD to `w`; returns nothing, `w.off` moves past it. */
export function writeFlowMod(w: Writer, mod: FlowMod, xid: number, flags = 0): void {
  const f = mod.flow;
  w.ensure(FLOW_MOD_FIXED_LEN + MAX_MATCH_BYTES + instructionsBound(f));
  const start = writeHeader(w, OFPT.FLOW_MOD, xid);
  w.u64(f.cookie);
  w.u64Mask(mod.cookieMask ?? 0);
  w.u8(mod.allTables ? OFPTT_ALL : f.table);
  w.u8(OFPFC[mod.command]);
  w.u16(f.idleTimeoutSec ?? 0);
  w.u16(f.hardTimeoutSec ?? 0);
  w.u16(f.priority);
  w.u32(OFP_NO_BUFFER);
  w.u32(mod.outPort ?? PORT.ANY);
  w.u32(mod.outGroup ?? OFPG_ANY);
  w.u16(flags);
  w.u16(0);
  writeMatch(w, f.match);
  writeInstructions(w, f);
  w.put16(start + 2, w.off - start);
}

export function encodeFlowMod(mod: FlowMod, xid: number, flags = 0): Buffer {
  scratch.off = 0;
  writeFlowMod(scratch, mod, xid, flags);
  return scratch.copyOut();
}

/** Many FLOW_MODs in one Buffer, with xids xidStart, xidStart+1, ... (wrapping at 2^32). */
export function encodeFlowModsBatch(mods: readonly FlowMod[], xidStart: number): Buffer {
  scratch.off = 0;
  for (let i = 0; i < mods.length; i++) writeFlowMod(scratch, mods[i], (xidStart + i) >>> 0);
  return scratch.copyOut();
}

/**
 * Many flow-mods, each wrapped in an ONF BUNDLE_ADD_MESSAGE for `bundleId` (Open vSwitch wants the
 * inner xid equal to the outer one). Open and commit the bundle with bundleControl messages.
 */
export function encodeBundledFlowModsBatch(bundleId: number, mods: readonly FlowMod[], xidStart: number, bundleFlags = 0): Buffer {
  const w = scratch;
  w.off = 0;
  for (let i = 0; i < mods.length; i++) {
    const xid = (xidStart + i) >>> 0;
    const start = writeHeader(w, OFPT.EXPERIMENTER, xid);
    w.u32(ONF_EXPERIMENTER_ID);
    w.u32(ONFT_BUNDLE_ADD_MESSAGE);
    w.u32(bundleId);
    w.u16(0);
    w.u16(bundleFlags);
    writeFlowMod(w, mods[i], xid);
    w.put16(start + 2, w.off - start);
  }
  return w.copyOut();
}

/** The body of a FLOW_MOD (after the header). */
export function readFlowModBody(r: Reader, xid: number): Of13FlowMod {
  const cookie = r.u64Safe();
  const cookieMask = r.u64Mask();
  if (cookie === undefined) throw unsupported('cookie wider than 53 bits');
  const table = r.u8();
  const commandNo = r.u8();
  const command = COMMANDS[commandNo];
  if (command === undefined) throw malformed(`flow_mod command ${commandNo}`);
  const idle = r.u16();
  const hard = r.u16();
  const priority = r.u16();
  const bufferId = r.u32();
  if (bufferId !== OFP_NO_BUFFER) throw unsupported('flow_mod with a buffer id');
  const outPort = r.u32();
  const outGroup = r.u32();
  const flags = r.u16();
  r.skip(2);
  const match = readMatch(r, false);
  const ins = readInstructions(r);
  const allTables = table === OFPTT_ALL;
  const flow: FlowEntry = { table: allTables ? 0 : table, priority, match, ...ins, cookie };
  if (idle !== 0) flow.idleTimeoutSec = idle;
  if (hard !== 0) flow.hardTimeoutSec = hard;
  const msg: Of13FlowMod = { type: 'flowMod', xid, command, flow };
  if (flags !== 0) msg.flags = flags;
  if (cookieMask !== 0) msg.cookieMask = cookieMask;
  if (outPort !== PORT.ANY) msg.outPort = outPort;
  if (outGroup !== OFPG_ANY) msg.outGroup = outGroup;
  if (allTables) msg.allTables = true;
  return msg;
}
