/**
 * TCP tracking for the connection table (conntrack.ts): a state machine per connection and a window
 * check per direction, after the Linux and Open vSwitch trackers (Guido van Rooij's "Real Stateful TCP
 * Packet Filtering"), cut to what a stateful firewall needs: a connection starts with a SYN, a segment
 * is valid only inside the window its receiver advertised, and nothing but a new SYN passes once a
 * connection is reset or both sides have closed. Pure: it reads the frame and updates `TcpConn`.
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../net/index.js';

/** Connection states; their timeouts are in conntrack.ts. */
export const TCP_STATE = {
  SYN_SENT: 0,
  SYN_RECV: 1,
  ESTABLISHED: 2,
  /** One side has sent a FIN. */
  FIN_WAIT: 3,
  /** Both sides have sent a FIN, not yet both acknowledged. */
  CLOSING: 4,
  /** Both FINs acknowledged. */
  TIME_WAIT: 5,
  /** Reset. */
  CLOSED: 6,
} as const;
export type TcpState = (typeof TCP_STATE)[keyof typeof TCP_STATE];

/** One direction's view: what it has sent and what its peer lets it send. */
export interface TcpPeer {
  /** Highest sequence number sent plus one (seq + length). */
  end: number;
  /** Highest sequence number the peer's acknowledgements and windows allow this side to send. */
  maxEnd: number;
  /** Largest window this side has advertised (scaled); 0 = this side has sent nothing yet. */
  maxWin: number;
  /** Window scale shift (RFC 7323), used only when both SYNs carried the option. */
  scale: number;
  /** The sequence number after this side's FIN, once it sent one (-1: no FIN yet). */
  finEnd: number;
  /** The peer has acknowledged this side's FIN. */
  finAcked: boolean;
}

export interface TcpConn {
  state: TcpState;
  /** [original direction, reply direction]. */
  peers: [TcpPeer, TcpPeer];
}

/** How a segment fits its connection. */
export const TCP_VERDICT = { VALID: 0, INVALID: 1, /** A SYN that starts the connection over (after a reset or close). */ RESTART: 2 } as const;
export type TcpVerdict = (typeof TCP_VERDICT)[keyof typeof TCP_VERDICT];

/** The largest gap allowed between an ACK and what it acknowledges (Linux's MAXACKWINDOW floor). */
const MIN_ACK_WINDOW = 66000;
const NO_SCALE = -1;

/** The fields of one segment the tracker reads, parsed once. */
export interface TcpSegment {
  flags: number;
  seq: number;
  ack: number;
  window: number;
  /** Sequence space it takes: payload bytes, plus one for SYN and one for FIN. */
  len: number;
  /** The window scale option on a SYN, or -1. */
  wscale: number;
}

/** Read a segment at `l4` of an IPv4 frame whose header starts at `l3`; undefined when truncated. */
export function readTcpSegment(b: Uint8Array, l3: number, l4: number, out: TcpSegment): TcpSegment | undefined {
  if (b.length < l4 + 20) return undefined;
  const ipEnd = Math.min(b.length, l3 + ((b[l3 + 2] << 8) | b[l3 + 3]));
  const dataOff = (b[l4 + 12] >>> 4) * 4;
  if (dataOff < 20 || l4 + dataOff > ipEnd) return undefined;
  const flags = ((b[l4 + 12] & 0x0f) << 8) | b[l4 + 13];
  out.flags = flags;
  out.seq = ((b[l4 + 4] << 24) | (b[l4 + 5] << 16) | (b[l4 + 6] << 8) | b[l4 + 7]) >>> 0;
  out.ack = ((b[l4 + 8] << 24) | (b[l4 + 9] << 16) | (b[l4 + 10] << 8) | b[l4 + 11]) >>> 0;
  out.window = (b[l4 + 14] << 8) | b[l4 + 15];
  out.len = ipEnd - l4 - dataOff + ((flags & TCP_SYN) !== 0 ? 1 : 0) + ((flags & TCP_FIN) !== 0 ? 1 : 0);
  out.wscale = (flags & TCP_SYN) !== 0 ? windowScaleOption(b, l4 + 20, l4 + dataOff) : NO_SCALE;
  return out;
}

function windowScaleOption(b: Uint8Array, at: number, end: number): number {
  while (at < end) {
    const kind = b[at];
    if (kind === 0) break;
    if (kind === 1) {
      at++;
      continue;
    }
    if (at + 1 >= end) break;
    const len = b[at + 1];
    if (len < 2) break;
    if (kind === 3 && len === 3 && at + 2 < end) return Math.min(b[at + 2], 14);
    at += len;
  }
  return NO_SCALE;
}

/** Flag combinations no TCP sends (Linux's tcp_valid_flags, less URG/ECN subtleties). */
export function tcpFlagsInvalid(flags: number): boolean {
  const f = flags & (TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK);
  if ((f & TCP_SYN) !== 0) return (f & (TCP_RST | TCP_FIN)) !== 0;
  if ((f & TCP_RST) !== 0) return (f & TCP_FIN) !== 0;
  // Neither SYN nor RST: everything else carries an ACK (a FIN without one, or no flags at all, is a probe).
  return (f & TCP_ACK) === 0;
}

/** May this segment open a connection? A SYN without ACK (a SYN+ACK is the middle of a handshake). */
export function tcpStartsConnection(seg: TcpSegment): boolean {
  return (seg.flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) === TCP_SYN;
}

const before = (a: number, b: number): boolean => ((a - b) | 0) < 0;
const after = (a: number, b: number): boolean => ((b - a) | 0) < 0;

/** A new connection from its first SYN. */
export function newTcpConn(seg: TcpSegment): TcpConn {
  const end = (seg.seq + seg.len) >>> 0;
  const orig: TcpPeer = { end, maxEnd: end, maxWin: Math.max(seg.window, 1), scale: seg.wscale, finEnd: -1, finAcked: false };
  const reply: TcpPeer = { end: 0, maxEnd: 0, maxWin: 0, scale: NO_SCALE, finEnd: -1, finAcked: false };
  return { state: TCP_STATE.SYN_SENT, peers: [orig, reply] };
}

/**
 * Track one segment of a connection travelling in direction `dir` (0 original, 1 reply). Updates the
 * connection when the segment is valid.
 */
export function trackTcp(conn: TcpConn, dir: 0 | 1, seg: TcpSegment): TcpVerdict {
  const flags = seg.flags;
  if (tcpFlagsInvalid(flags)) return TCP_VERDICT.INVALID;
  const syn = (flags & TCP_SYN) !== 0;
  const ack = (flags & TCP_ACK) !== 0;
  const state = conn.state;
  if (state === TCP_STATE.CLOSED || state === TCP_STATE.TIME_WAIT) {
    // A fresh SYN from the originator reopens; anything else is a stray from the dead connection.
    return dir === 0 && tcpStartsConnection(seg) ? TCP_VERDICT.RESTART : TCP_VERDICT.INVALID;
  }
  const sender = conn.peers[dir];
  const receiver = conn.peers[1 - dir];
  if (state === TCP_STATE.SYN_SENT) {
    if (dir === 0) return syn && !ack && ((seg.seq + seg.len) >>> 0) === sender.end ? TCP_VERDICT.VALID : TCP_VERDICT.INVALID;
    // The reply side's first segment: a SYN+ACK (or a RST) acknowledging exactly the SYN.
    if (!ack || seg.ack !== receiver.end) return TCP_VERDICT.INVALID;
    if ((flags & TCP_RST) !== 0) {
      conn.state = TCP_STATE.CLOSED;
      return TCP_VERDICT.VALID;
    }
    if (!syn) return TCP_VERDICT.INVALID;
    const scaled = seg.wscale !== NO_SCALE && receiver.scale !== NO_SCALE;
    if (!scaled) receiver.scale = 0;
    sender.scale = scaled ? seg.wscale : 0;
    sender.end = sender.maxEnd = (seg.seq + seg.len) >>> 0;
    sender.maxWin = Math.max(seg.window, 1);
    receiver.maxEnd = (seg.ack + Math.max(seg.window, 1)) >>> 0;
    conn.state = TCP_STATE.SYN_RECV;
    return TCP_VERDICT.VALID;
  }
  if (syn) {
    // Only a retransmitted SYN+ACK of the handshake in progress.
    return state === TCP_STATE.SYN_RECV && dir === 1 && ack && ((seg.seq + seg.len) >>> 0) === sender.end ? TCP_VERDICT.VALID : TCP_VERDICT.INVALID;
  }
  // Nothing after a side's FIN but its retransmission and acknowledgements.
  if (sender.finEnd !== -1 && after((seg.seq + seg.len) >>> 0, sender.finEnd)) return TCP_VERDICT.INVALID;
  if (!inWindow(sender, receiver, seg)) return TCP_VERDICT.INVALID;
  if ((flags & TCP_RST) !== 0) {
    conn.state = TCP_STATE.CLOSED;
    return TCP_VERDICT.VALID;
  }
  if ((flags & TCP_FIN) !== 0 && sender.finEnd === -1) sender.finEnd = (seg.seq + seg.len) >>> 0;
  conn.state = nextState(conn, dir, seg);
  return TCP_VERDICT.VALID;
}

function nextState(conn: TcpConn, dir: 0 | 1, seg: TcpSegment): TcpState {
  const [orig, reply] = conn.peers;
  if (conn.state === TCP_STATE.SYN_RECV) return dir === 0 && (seg.flags & TCP_ACK) !== 0 ? TCP_STATE.ESTABLISHED : TCP_STATE.SYN_RECV;
  if (orig.finEnd === -1 && reply.finEnd === -1) return TCP_STATE.ESTABLISHED;
  if (orig.finEnd === -1 || reply.finEnd === -1) return TCP_STATE.FIN_WAIT;
  return orig.finAcked && reply.finAcked ? TCP_STATE.TIME_WAIT : TCP_STATE.CLOSING;
}

/** Linux's four window checks, then the updates they allow. */
function inWindow(sender: TcpPeer, receiver: TcpPeer, seg: TcpSegment): boolean {
  const win = seg.window << (sender.scale > 0 ? sender.scale : 0);
  const seq = seg.seq;
  const end = (seq + seg.len) >>> 0;
  const ackSet = (seg.flags & TCP_ACK) !== 0;
  const ack = ackSet ? seg.ack : receiver.end;
  const maxAckWindow = Math.max(sender.maxWin, MIN_ACK_WINDOW);
  const ok =
    !after(seq, sender.maxEnd) && // I: starts inside the receiver's window
    !before(end, (sender.end - receiver.maxWin) >>> 0) && // II: not older than a window ago
    !after(ack, receiver.end) && // III: acknowledges nothing unsent
    !before(ack, (receiver.end - maxAckWindow) >>> 0); // IV: not an ancient ack
  if (!ok) return false;
  if (sender.maxWin < win) sender.maxWin = Math.max(win, 1);
  if (after(end, sender.end)) sender.end = end;
  if (ackSet) {
    const reach = (ack + Math.max(win, 1)) >>> 0;
    if (after(reach, receiver.maxEnd)) receiver.maxEnd = reach;
    if (receiver.finEnd !== -1 && !before(ack, receiver.finEnd)) receiver.finAcked = true;
  }
  return true;
}
