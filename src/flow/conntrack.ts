/**
 * The softswitch's connection table: what the `ct` action consults (Open vSwitch's conntrack, in the
 * small). Connections live in zones (16-bit, one per local endpoint in Overcast's pipeline); each is
 * found by its 5-tuple in either direction, so a reply sees `EST | RPL`. States:
 * - NEW: no connection yet (a TCP one must start with a bare SYN); `commit` records it;
 * - EST: a committed connection, its segment valid (TCP: in the window of the state machine in
 *   conntrack-tcp.ts); RPL in the reply direction;
 * - REL: an ICMP error quoting a tracked connection's packet;
 * - INV: anything else (a stray TCP segment, an unrelated ICMP error, a truncated or non-IPv4 packet).
 * Every tracked packet has TRK. A committed connection expires after its state's timeout since its
 * last packet; a zone holds at most its limit of connections, and a commit beyond it is counted and
 * the packet dropped.
 *
 * Pure: the clock is passed in (milliseconds, monotonic), expiry is lazy on lookup plus `expire(now)`.
 */
import { ETH_TYPE_IPV4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP } from '../net/index.js';
import type { CtMark } from './actions.js';
import { CT_STATE } from './fields.js';
import { K, type PacketKey } from './packet-key.js';
import { TCP_STATE, TCP_VERDICT, newTcpConn, readTcpSegment, tcpStartsConnection, trackTcp, type TcpConn, type TcpSegment } from './conntrack-tcp.js';

/** How long a connection lives after its last packet, by state (milliseconds). */
export interface ConntrackTimeouts {
  tcpSynSentMs: number;
  tcpSynRecvMs: number;
  tcpEstablishedMs: number;
  /** FIN_WAIT and CLOSING. */
  tcpClosingMs: number;
  tcpTimeWaitMs: number;
  tcpClosedMs: number;
  /** UDP and other protocols: before a reply is seen, and after. */
  udpFirstMs: number;
  udpMultipleMs: number;
  icmpMs: number;
  otherFirstMs: number;
  otherMultipleMs: number;
}

/** Open vSwitch's userspace datapath defaults, FIN states shortened. */
export const DEFAULT_CONNTRACK_TIMEOUTS: ConntrackTimeouts = {
  tcpSynSentMs: 30_000,
  tcpSynRecvMs: 30_000,
  tcpEstablishedMs: 24 * 3600_000,
  tcpClosingMs: 120_000,
  tcpTimeWaitMs: 30_000,
  tcpClosedMs: 30_000,
  udpFirstMs: 30_000,
  udpMultipleMs: 180_000,
  icmpMs: 30_000,
  otherFirstMs: 60_000,
  otherMultipleMs: 180_000,
};

/** Connections a zone may hold when no limit is set for it. */
export const DEFAULT_ZONE_LIMIT = 65536;

export interface ConntrackOptions {
  timeouts?: Partial<ConntrackTimeouts>;
  /** The limit of every zone without its own (setZoneLimit); 0 = unlimited. */
  zoneLimit?: number;
}

export interface ConntrackStats {
  /** Connections held now. */
  connections: number;
  created: number;
  /** Packets found invalid. */
  invalid: number;
  /** Commits refused because their zone was full (the packet dropped). */
  zoneLimitDrops: number;
  expired: number;
}

/** One committed connection, as `connections()` lists it (original direction). */
export interface ConnectionInfo {
  zone: number;
  proto: number;
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  mark: number;
  /** TCP_STATE for TCP; for others 0 until a reply is seen, then 1. */
  state: number;
  expiresAtMs: number;
}

interface Conn {
  zone: number;
  proto: number;
  mark: number;
  expiresAtMs: number;
  /** Non-TCP: a reply has been seen. */
  replied: boolean;
  tcp: TcpConn | undefined;
  orig: Entry;
  reply: Entry;
}

/** One direction's tuple in the hash table (a connection has two). */
interface Entry {
  hash: number;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  isReply: boolean;
  conn: Conn;
  next: Entry | undefined;
}

/** ICMP query types and their replies; a reply's tuple names its request type plus ICMP_REPLY_BIT. */
const ICMP_REQUEST_OF_REPLY = new Map<number, number>([
  [0, 8],
  [14, 13],
  [16, 15],
  [18, 17],
]);
const ICMP_REQUESTS = new Set<number>([8, 13, 15, 17]);
const ICMP_ERRORS = new Set<number>([3, 4, 5, 11, 12]);
const ICMP_REPLY_BIT = 0x100;

const STATE_INVALID = CT_STATE.TRK | CT_STATE.INV;
const INITIAL_BUCKETS = 1024;

function tupleHash(zone: number, proto: number, src: number, dst: number, sport: number, dport: number): number {
  let h = Math.imul(src ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ dst, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ ((sport << 16) | (dport & 0xffff)), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ ((zone << 9) | (dport & ICMP_REPLY_BIT) | proto), 0x2c1b3c6d);
  // Within V8's small-integer range, so Map keys stay unboxed.
  return (h ^ (h >>> 16)) & 0x3fffffff;
}

export class ConnTable {
  /** Open hashing: a power-of-two array of chains, doubled when entries outnumber buckets. */
  private buckets: (Entry | undefined)[] = new Array<Entry | undefined>(INITIAL_BUCKETS).fill(undefined);
  private bucketMask = INITIAL_BUCKETS - 1;
  private entries = 0;
  private readonly conns = new Set<Conn>();
  private readonly zoneCounts = new Map<number, number>();
  private readonly zoneLimits = new Map<number, number>();
  private readonly timeouts: ConntrackTimeouts;
  private readonly defaultLimit: number;
  private readonly seg: TcpSegment = { flags: 0, seq: 0, ack: 0, window: 0, len: 0, wscale: -1 };
  readonly stats: ConntrackStats = { connections: 0, created: 0, invalid: 0, zoneLimitDrops: 0, expired: 0 };
  // The tuple of the packet being tracked (fields, not an object: no allocation per packet).
  private tProto = 0;
  private tSrc = 0;
  private tDst = 0;
  private tSport = 0;
  private tDport = 0;

  constructor(
    options: ConntrackOptions,
    private readonly nowMs: () => number,
  ) {
    this.timeouts = { ...DEFAULT_CONNTRACK_TIMEOUTS, ...options.timeouts };
    this.defaultLimit = options.zoneLimit ?? DEFAULT_ZONE_LIMIT;
  }

  get size(): number {
    return this.conns.size;
  }

  /** A zone's own limit (0 = unlimited); undefined puts it back on the default. */
  setZoneLimit(zone: number, limit: number | undefined): void {
    if (limit === undefined) this.zoneLimits.delete(zone);
    else this.zoneLimits.set(zone, limit);
  }

  zoneCount(zone: number): number {
    return this.zoneCounts.get(zone) ?? 0;
  }

  /**
   * Track one packet in `zone` and fill the key's CT_STATE, CT_ZONE and CT_MARK. With `commit`, a new
   * connection is recorded and `mark` applied. Returns false when the packet must be dropped: its
   * commit would overflow the zone.
   */
  track(key: PacketKey, frame: Uint8Array, zone: number, commit: boolean, mark: CtMark | undefined): boolean {
    key[K.CT_ZONE] = zone;
    key[K.CT_MARK] = 0;
    if (key[K.ETH_TYPE] !== ETH_TYPE_IPV4 || key[K.L3_OFFSET] === 0 || !this.packetTuple(key, frame)) return this.invalid(key);
    const now = this.nowMs();
    const proto = this.tProto;
    if (proto === IP_PROTO_ICMP && ICMP_ERRORS.has(key[K.L4_SRC])) return this.related(key, frame, zone, now);
    let seg: TcpSegment | undefined;
    if (proto === IP_PROTO_TCP) {
      seg = readTcpSegment(frame, key[K.L3_OFFSET], key[K.L4_OFFSET], this.seg);
      if (seg === undefined) return this.invalid(key);
    }
    const e = this.find(zone, now);
    if (e !== undefined) {
      const conn = e.conn;
      const dir = e.isReply ? 1 : 0;
      if (seg !== undefined && conn.tcp !== undefined) {
        const verdict = trackTcp(conn.tcp, dir, seg);
        if (verdict === TCP_VERDICT.INVALID) return this.invalid(key);
        if (verdict === TCP_VERDICT.RESTART) {
          this.remove(conn);
          return this.fresh(key, zone, commit, mark, seg, now);
        }
      } else if (dir === 1) {
        conn.replied = true;
      }
      conn.expiresAtMs = now + this.timeoutOf(conn);
      if (commit && mark !== undefined) conn.mark = ((conn.mark & ~mark.mask) | (mark.value & mark.mask)) >>> 0;
      key[K.CT_STATE] = CT_STATE.TRK | CT_STATE.EST | (dir === 1 ? CT_STATE.RPL : 0);
      key[K.CT_MARK] = conn.mark;
      return true;
    }
    return this.fresh(key, zone, commit, mark, seg, now);
  }

  /** Remove connections whose timeout has passed; returns how many. */
  expire(): number {
    const now = this.nowMs();
    let n = 0;
    for (const c of this.conns) {
      if (c.expiresAtMs <= now) {
        this.remove(c);
        n++;
      }
    }
    this.stats.expired += n;
    return n;
  }

  /** Forget every connection of a zone (or all, without one). */
  flush(zone?: number): void {
    for (const c of this.conns) if (zone === undefined || c.zone === zone) this.remove(c);
  }

  *connections(): IterableIterator<ConnectionInfo> {
    for (const c of this.conns) {
      const o = c.orig;
      const state = c.tcp !== undefined ? c.tcp.state : c.replied ? 1 : 0;
      yield { zone: c.zone, proto: c.proto, src: o.src, dst: o.dst, srcPort: o.sport, dstPort: o.dport, mark: c.mark, state, expiresAtMs: c.expiresAtMs };
    }
  }

  private invalid(key: PacketKey): boolean {
    key[K.CT_STATE] = STATE_INVALID;
    key[K.CT_MARK] = 0;
    this.stats.invalid++;
    return true;
  }

  /** A packet with no connection: NEW if it may start one (recorded on commit), else invalid. */
  private fresh(key: PacketKey, zone: number, commit: boolean, mark: CtMark | undefined, seg: TcpSegment | undefined, now: number): boolean {
    if (seg !== undefined && !tcpStartsConnection(seg)) return this.invalid(key);
    // An ICMP reply starts nothing.
    if (this.tProto === IP_PROTO_ICMP && (this.tDport & ICMP_REPLY_BIT) !== 0) return this.invalid(key);
    key[K.CT_STATE] = CT_STATE.TRK | CT_STATE.NEW;
    if (!commit) return true;
    const count = this.zoneCounts.get(zone) ?? 0;
    const limit = this.zoneLimits.get(zone) ?? this.defaultLimit;
    if (limit > 0 && count >= limit) {
      this.stats.zoneLimitDrops++;
      return false;
    }
    const conn = this.insert(zone, seg === undefined ? undefined : newTcpConn(seg), now);
    if (mark !== undefined) conn.mark = (mark.value & mark.mask) >>> 0;
    key[K.CT_MARK] = conn.mark;
    return true;
  }

  /** An ICMP error: REL when the packet it quotes belongs to a connection, else invalid. */
  private related(key: PacketKey, frame: Uint8Array, zone: number, now: number): boolean {
    const inner = key[K.L4_OFFSET] + 8;
    if (frame.length < inner + 20 || frame[inner] >>> 4 !== 4) return this.invalid(key);
    const ihl = (frame[inner] & 0x0f) * 4;
    const proto = frame[inner + 9];
    const l4 = inner + ihl;
    this.tProto = proto;
    this.tSrc = ((frame[inner + 12] << 24) | (frame[inner + 13] << 16) | (frame[inner + 14] << 8) | frame[inner + 15]) >>> 0;
    this.tDst = ((frame[inner + 16] << 24) | (frame[inner + 17] << 16) | (frame[inner + 18] << 8) | frame[inner + 19]) >>> 0;
    this.tSport = 0;
    this.tDport = 0;
    if (proto === IP_PROTO_TCP || proto === IP_PROTO_UDP) {
      if (frame.length < l4 + 4) return this.invalid(key);
      this.tSport = (frame[l4] << 8) | frame[l4 + 1];
      this.tDport = (frame[l4 + 2] << 8) | frame[l4 + 3];
    } else if (proto === IP_PROTO_ICMP) {
      if (frame.length < l4 + 8 || !this.icmpQueryPorts(frame[l4], (frame[l4 + 4] << 8) | frame[l4 + 5])) return this.invalid(key);
    }
    const e = this.find(zone, now);
    if (e === undefined) return this.invalid(key);
    // The quoted packet went the entry's way; the error comes back the other way.
    key[K.CT_STATE] = CT_STATE.TRK | CT_STATE.REL | (e.isReply ? 0 : CT_STATE.RPL);
    key[K.CT_MARK] = e.conn.mark;
    return true;
  }

  /** The packet's tuple into tProto..tDport; false when it has none (truncated L4, unknown ICMP). */
  private packetTuple(key: PacketKey, frame: Uint8Array): boolean {
    const proto = key[K.IP_PROTO];
    this.tProto = proto;
    this.tSrc = key[K.IP_SRC];
    this.tDst = key[K.IP_DST];
    if (proto === IP_PROTO_TCP || proto === IP_PROTO_UDP) {
      if (key[K.L4_OFFSET] === 0) return false;
      this.tSport = key[K.L4_SRC];
      this.tDport = key[K.L4_DST];
      return true;
    }
    if (proto === IP_PROTO_ICMP) {
      const l4 = key[K.L4_OFFSET];
      if (l4 === 0) return false;
      const type = key[K.L4_SRC];
      if (ICMP_ERRORS.has(type)) return true;
      if (frame.length < l4 + 8) return false;
      return this.icmpQueryPorts(type, (frame[l4 + 4] << 8) | frame[l4 + 5]);
    }
    this.tSport = 0;
    this.tDport = 0;
    return true;
  }

  private icmpQueryPorts(type: number, id: number): boolean {
    this.tSport = id;
    if (ICMP_REQUESTS.has(type)) {
      this.tDport = type;
      return true;
    }
    const request = ICMP_REQUEST_OF_REPLY.get(type);
    if (request === undefined) return false;
    this.tDport = request | ICMP_REPLY_BIT;
    return true;
  }

  /** The entry of the current tuple in `zone`, dropping it when expired. */
  private find(zone: number, now: number): Entry | undefined {
    const { tProto: proto, tSrc: src, tDst: dst, tSport: sport, tDport: dport } = this;
    let e = this.buckets[tupleHash(zone, proto, src, dst, sport, dport) & this.bucketMask];
    while (e !== undefined) {
      const c = e.conn;
      if (e.src === src && e.dst === dst && e.sport === sport && e.dport === dport && c.proto === proto && c.zone === zone) {
        if (c.expiresAtMs > now) return e;
        this.remove(c);
        this.stats.expired++;
        return undefined;
      }
      e = e.next;
    }
    return undefined;
  }

  private insert(zone: number, tcp: TcpConn | undefined, now: number): Conn {
    const { tProto: proto, tSrc: src, tDst: dst, tSport: sport, tDport: dport } = this;
    // The reply of an ICMP query carries the reply bit; of anything else, the ports swapped.
    const icmp = proto === IP_PROTO_ICMP;
    const rSport = icmp ? sport : dport;
    const rDport = icmp ? dport | ICMP_REPLY_BIT : sport;
    const conn = { zone, proto, mark: 0, expiresAtMs: 0, replied: false, tcp } as Conn;
    conn.orig = { hash: tupleHash(zone, proto, src, dst, sport, dport), src, dst, sport, dport, isReply: false, conn, next: undefined };
    conn.reply = { hash: tupleHash(zone, proto, dst, src, rSport, rDport), src: dst, dst: src, sport: rSport, dport: rDport, isReply: true, conn, next: undefined };
    conn.expiresAtMs = now + this.timeoutOf(conn);
    this.link(conn.orig);
    this.link(conn.reply);
    this.conns.add(conn);
    this.zoneCounts.set(zone, (this.zoneCounts.get(zone) ?? 0) + 1);
    this.stats.created++;
    this.stats.connections = this.conns.size;
    return conn;
  }

  private link(e: Entry): void {
    if (++this.entries > this.buckets.length) this.grow();
    const i = e.hash & this.bucketMask;
    e.next = this.buckets[i];
    this.buckets[i] = e;
  }

  private unlink(e: Entry): void {
    this.entries--;
    const i = e.hash & this.bucketMask;
    let head = this.buckets[i];
    if (head === e) {
      this.buckets[i] = e.next;
      return;
    }
    while (head !== undefined && head.next !== e) head = head.next;
    if (head !== undefined) head.next = e.next;
  }

  private grow(): void {
    const old = this.buckets;
    const size = old.length * 2;
    this.buckets = new Array<Entry | undefined>(size).fill(undefined);
    this.bucketMask = size - 1;
    for (let b of old) {
      while (b !== undefined) {
        const next = b.next;
        const i = b.hash & this.bucketMask;
        b.next = this.buckets[i];
        this.buckets[i] = b;
        b = next;
      }
    }
  }

  private remove(c: Conn): void {
    if (!this.conns.delete(c)) return;
    this.unlink(c.orig);
    this.unlink(c.reply);
    const n = (this.zoneCounts.get(c.zone) ?? 1) - 1;
    if (n === 0) this.zoneCounts.delete(c.zone);
    else this.zoneCounts.set(c.zone, n);
    this.stats.connections = this.conns.size;
  }

  private timeoutOf(c: Conn): number {
    const t = this.timeouts;
    if (c.tcp !== undefined) {
      switch (c.tcp.state) {
        case TCP_STATE.SYN_SENT:
          return t.tcpSynSentMs;
        case TCP_STATE.SYN_RECV:
          return t.tcpSynRecvMs;
        case TCP_STATE.ESTABLISHED:
          return t.tcpEstablishedMs;
        case TCP_STATE.FIN_WAIT:
        case TCP_STATE.CLOSING:
          return t.tcpClosingMs;
        case TCP_STATE.TIME_WAIT:
          return t.tcpTimeWaitMs;
        default:
          return t.tcpClosedMs;
      }
    }
    if (c.proto === IP_PROTO_UDP) return c.replied ? t.udpMultipleMs : t.udpFirstMs;
    if (c.proto === IP_PROTO_ICMP) return t.icmpMs;
    return c.replied ? t.otherMultipleMs : t.otherFirstMs;
  }
}
