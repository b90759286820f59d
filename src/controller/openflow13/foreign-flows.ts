/**
 * Flows on a switch that Overcast's codec cannot read back (a field or action outside its catalogue,
 * a cookie wider than 53 bits: someone else's `ovs-ofctl add-flow`, or a leftover of another
 * controller). One such entry makes the whole OFPMP_FLOW reply part undecodable, so a part that fails
 * is split into its entries here, each entry decoded alone, and each entry that still fails is turned
 * into a DELETE_STRICT built from its raw bytes (table, priority and the ofp_match copied verbatim):
 * it removes exactly that flow, whatever it matches, without the codec having to understand it.
 * Reconcile then never breaks on a foreign flow: it is removed, and ours are diffed as usual.
 */
import { of13 } from '../../protocol/index.js';

/** ofp_multipart_reply header (8) + type (2) + flags (2) + pad (4). */
const MP_REPLY_HEADER_LEN = 16;
/** ofp_flow_stats fixed part, before its ofp_match. */
const FLOW_STATS_FIXED_LEN = 48;
const FLOW_MOD_FIXED_LEN = 48;

export interface SplitFlowStats {
  /** Entries that decoded. */
  flows: of13.Of13FlowStats[];
  /** One DELETE_STRICT flow-mod (wire bytes, xid 0) per entry that did not. */
  deletes: Buffer[];
  /** The reply's OFPMPF_REPLY_MORE flag: more parts follow. */
  more: boolean;
  /** The part itself was unusable (truncated entries): nothing more could be read from it. */
  broken: boolean;
}

/** Is this raw frame an OFPMP_FLOW multipart reply? */
export function isFlowStatsReplyFrame(frame: Uint8Array): boolean {
  return (
    frame.length >= MP_REPLY_HEADER_LEN &&
    frame[1] === of13.OFPT.MULTIPART_REPLY &&
    ((frame[8] << 8) | frame[9]) === of13.OFPMP.FLOW
  );
}

/**
 * Decode a flow stats reply part entry by entry. `frame` is one whole multipart reply (from the frame
 * splitter) whose decoding as a whole failed.
 */
export function splitFlowStatsReply(frame: Uint8Array): SplitFlowStats {
  const more = (((frame[10] << 8) | frame[11]) & of13.OFPMPF_MORE) !== 0;
  const out: SplitFlowStats = { flows: [], deletes: [], more, broken: false };
  let off = MP_REPLY_HEADER_LEN;
  while (off < frame.length) {
    if (frame.length - off < FLOW_STATS_FIXED_LEN + 4) {
      out.broken = true;
      break;
    }
    const len = (frame[off] << 8) | frame[off + 1];
    if (len < FLOW_STATS_FIXED_LEN + 4 || off + len > frame.length) {
      out.broken = true;
      break;
    }
    const entry = frame.subarray(off, off + len);
    const decoded = of13.decodeOf13(singleEntryReply(frame, entry));
    if (decoded.type === 'flowStatsReply' && decoded.flows.length === 1) out.flows.push(decoded.flows[0]);
    else {
      const del = strictDeleteFromRawEntry(entry);
      if (del) out.deletes.push(del);
      else out.broken = true;
    }
    off += len;
  }
  return out;
}

/** A copy of the reply's header around one entry, so the codec decodes that entry alone. */
function singleEntryReply(frame: Uint8Array, entry: Uint8Array): Buffer {
  const b = Buffer.alloc(MP_REPLY_HEADER_LEN + entry.length);
  b.set(frame.subarray(0, MP_REPLY_HEADER_LEN), 0);
  b.writeUInt16BE(b.length, 2);
  b.writeUInt16BE(0, 10); // no MORE flag on the synthetic part
  b.set(entry, MP_REPLY_HEADER_LEN);
  return b;
}

/**
 * OFPT_FLOW_MOD DELETE_STRICT for the flow an ofp_flow_stats entry describes: same table, priority
 * and match bytes; cookie mask 0 (any cookie), out_port/out_group ANY, no instructions.
 * Undefined when the entry's match is cut short.
 */
export function strictDeleteFromRawEntry(entry: Uint8Array): Buffer | undefined {
  const table = entry[2];
  const priority = (entry[12] << 8) | entry[13];
  const m = FLOW_STATS_FIXED_LEN;
  const matchLen = (entry[m + 2] << 8) | entry[m + 3];
  const padded = (matchLen + 7) & ~7;
  if (matchLen < 4 || m + padded > entry.length) return undefined;
  const b = Buffer.alloc(FLOW_MOD_FIXED_LEN + padded);
  b[0] = of13.OFP_VERSION;
  b[1] = of13.OFPT.FLOW_MOD;
  b.writeUInt16BE(b.length, 2);
  // xid (4..7) stays 0: the caller does not wait for a reply to this one.
  // cookie (8..15) and cookie_mask (16..23) stay 0: match any cookie.
  b[24] = table;
  b[25] = of13.OFPFC.deleteStrict;
  // idle/hard timeouts (26..29) 0
  b.writeUInt16BE(priority, 30);
  b.writeUInt32BE(of13.OFP_NO_BUFFER, 32);
  b.writeUInt32BE(0xffffffff, 36); // out_port ANY
  b.writeUInt32BE(of13.OFPG_ANY, 40);
  // flags (44..45) and pad (46..47) 0
  b.set(entry.subarray(m, m + padded), FLOW_MOD_FIXED_LEN);
  return b;
}
