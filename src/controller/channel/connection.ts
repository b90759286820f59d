/**
 * The controller side of one switch connection, whatever protocol it speaks: requests matched to
 * replies by xid (multipart replies collected, timeouts), barriers, the switch's refusals of messages
 * nobody waits on (kept, failing the next barrier), echo keepalive, batched writes, close, the
 * packet-in / port-status / close listeners and the counters. Writes wait for the end of the
 * event-loop turn to go out together, except that a barrier sends what is queued at once. A channel
 * (native protobuf, OpenFlow 1.3) is a subclass that supplies the codec (the abstract members) and
 * its handshake.
 *
 * Nothing thrown while handling a received message escapes the receive path: it is logged.
 */
import type net from 'node:net';
import type { Logger } from 'pino';
import type { Action, FlowMod, GroupEntry, GroupMod } from '../../flow/index.js';
import type {
  FlowStatsEntry,
  PacketInEvent,
  PeerIdentity,
  PortStatsEntry,
  PortStatusEvent,
  SwitchConnection,
  SwitchConnectionEvents,
  SwitchFeatures,
} from '../switch-connection.js';
import { PendingRequests } from './pending-requests.js';
import type { ReceiveBudget } from './receive-budget.js';
import { SentLedger, type SwitchRefusedError } from './refusals.js';
import { TokenBucket, type TokenBucketOptions } from '../../flow/index.js';
import { TransmitQueue } from './transmit-queue.js';

export const HANDSHAKE_TIMEOUT_MS = 5000;
export const REQUEST_TIMEOUT_MS = 10_000;
export const ECHO_INTERVAL_MS = 2000;
/** Echo replies missed in a row before the connection is declared dead. */
export const ECHO_MISSES_ALLOWED = 3;
/**
 * Packet-ins a switch may send the controller: 1000 a second, bursts of 2000. Beyond that they are
 * dropped and counted (`packetInsDropped`) before any listener sees them. docs/security.md.
 */
export const DEFAULT_PACKET_IN_BUDGET: TokenBucketOptions = { ratePerSec: 1000, burst: 2000 };

export interface ChannelOptions {
  handshakeTimeoutMs?: number;
  requestTimeoutMs?: number;
  echoIntervalMs?: number;
  echoMissesAllowed?: number;
  /** Packet-ins accepted per second (token bucket); false accepts all. */
  packetInBudget?: TokenBucketOptions | false;
  /** Shared bound on bytes held for partial messages (the listener's); none by default. */
  receiveBudget?: ReceiveBudget;
  peerIdentity?: PeerIdentity;
  /** Monotonic milliseconds for the packet-in budget (default performance.now). */
  nowMs?: () => number;
}

export interface ChannelCounters {
  rxMessages: number;
  txMessages: number;
  /** Received messages that could not be decoded. */
  malformed: number;
  /** Received frames over the size limit. */
  oversized: number;
  /** Error messages the switch sent (refusals and failed requests). */
  switchErrors: number;
  /** Packet-ins over the budget, dropped before any listener. */
  packetInsDropped: number;
}

export function createChannelCounters(): ChannelCounters {
  return { rxMessages: 0, txMessages: 0, malformed: 0, oversized: 0, switchErrors: 0, packetInsDropped: 0 };
}

/**
 * What a received message is to the core. 'part' is a multipart reply with more parts to come;
 * 'message' anything else (a reply, or something the channel handles in onMessage).
 */
export type InboundKind = 'hello' | 'echoRequest' | 'echoReply' | 'error' | 'part' | 'message';

type ChannelMessage = { type: string; xid: number };

export abstract class ChannelConnection<M extends ChannelMessage, C extends ChannelCounters = ChannelCounters> implements SwitchConnection {
  abstract readonly channel: SwitchConnection['channel'];
  readonly remoteAddress: string;
  readonly peerIdentity: PeerIdentity | undefined;
  features!: SwitchFeatures;
  protected readonly tx: TransmitQueue;
  protected readonly handshakeTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly echoIntervalMs: number;
  private readonly echoMissesAllowed: number;
  private readonly pending = new PendingRequests<M>();
  private readonly sent = new SentLedger();
  private readonly listeners: { [E in keyof SwitchConnectionEvents]: SwitchConnectionEvents[E][] } = {
    packetIn: [],
    portStatus: [],
    close: [],
  };
  /** The first refusal since the last barrier reply, and how many came in all. */
  private refusal: SwitchRefusedError | undefined;
  private refusalCount = 0;
  private nextXid = 1;
  private closed = false;
  private echoTimer: NodeJS.Timeout | undefined;
  private echoMisses = 0;
  private echoSentAtMs: number | undefined;
  /** Round trip of the last answered echo keepalive, in ms. */
  echoRttMs: number | undefined;
  private hello: M | undefined;
  private onHello: ((m: M) => void) | undefined;
  private readonly packetIns: TokenBucket | undefined;
  private readonly receiveBudget: ReceiveBudget | undefined;
  /** Bytes this connection holds in the receive budget. */
  private heldBytes = 0;

  constructor(
    private readonly socket: net.Socket,
    protected readonly logger: Logger,
    readonly counters: C,
    options: ChannelOptions = {},
  ) {
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.echoIntervalMs = options.echoIntervalMs ?? ECHO_INTERVAL_MS;
    this.echoMissesAllowed = options.echoMissesAllowed ?? ECHO_MISSES_ALLOWED;
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.peerIdentity = options.peerIdentity;
    const budget = options.packetInBudget ?? DEFAULT_PACKET_IN_BUDGET;
    this.packetIns = budget ? new TokenBucket(budget, options.nowMs ?? (() => performance.now())) : undefined;
    this.receiveBudget = options.receiveBudget;
    this.tx = new TransmitQueue(socket);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.logger.debug({ err: err.message, channel: this.channel }, 'switch channel socket error'));
    socket.on('close', () => this.shutdown('connection closed'));
  }

  // --- the codec: what a channel supplies ---

  protected abstract encode(msg: M): Buffer;
  /** Split received bytes into messages and hand each to receive(); malformed input is the codec's to count. */
  protected abstract decode(chunk: Buffer): void;
  /** Bytes the decoder holds waiting for the rest of a message. */
  protected abstract bufferedBytes(): number;
  protected abstract kindOf(msg: M): InboundKind;
  protected abstract echoRequest(xid: number): M;
  protected abstract echoReply(request: M): M;
  protected abstract barrierRequest(xid: number): M;
  /** The error `msg` as a SwitchRefusedError; `refused` names the message it refuses, when known. */
  protected abstract refusalOf(msg: M, refused: string | undefined): SwitchRefusedError;
  /** A message that is no reply, hello, echo or error: packet-in, port status... */
  protected abstract onMessage(msg: M): void;

  abstract sendFlowMods(mods: readonly FlowMod[]): void;
  abstract sendGroupMods(mods: readonly GroupMod[]): void;
  abstract packetOut(frame: Buffer, inPort: number, actions: Action[]): void;
  abstract flowStats(): Promise<FlowStatsEntry[]>;
  abstract groupStats(): Promise<GroupEntry[]>;
  abstract portStats(): Promise<PortStatsEntry[]>;

  // --- SwitchConnection ---

  get isClosed(): boolean {
    return this.closed;
  }

  get packetInsDropped(): number {
    return this.counters.packetInsDropped;
  }

  on<E extends keyof SwitchConnectionEvents>(event: E, listener: SwitchConnectionEvents[E]): void {
    this.listeners[event].push(listener);
  }

  /**
   * Resolves when the switch has processed everything sent before; rejects with the first
   * SwitchRefusedError when the switch refused any of that, and on timeout or close.
   */
  async barrier(): Promise<void> {
    const mark = this.sent.mark();
    let refused: SwitchRefusedError | undefined;
    // Taken when the reply arrives, not when the promise settles: refusals received after the reply
    // (in the same chunk) belong to the next barrier.
    const replied = this.request(this.barrierRequest(0), undefined, () => {
      this.sent.settle(mark);
      refused = this.refusal?.followedBy(this.refusalCount - 1);
      this.refusal = undefined;
      this.refusalCount = 0;
    });
    // A barrier ends a batch and someone waits on it: the batch goes to the socket now rather than
    // at the end of this event-loop turn.
    this.tx.flush();
    await replied;
    if (refused) throw refused;
  }

  /**
   * Does the switch still answer? An echo request answered within `timeoutMs` says yes; a closed
   * connection, an error or silence says no.
   */
  async isAlive(timeoutMs: number): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.request(this.echoRequest(0), timeoutMs);
      return !this.closed;
    } catch {
      return false;
    }
  }

  close(reason = 'closed by controller'): void {
    if (this.closed) return;
    this.tx.flush();
    this.socket.end();
    this.shutdown(reason);
  }

  // --- for channels ---

  protected xid(): number {
    this.nextXid = (this.nextXid + 1) >>> 0 || 1;
    return this.nextXid;
  }

  /** A run of `n` consecutive xids (a batch numbers its messages from the first). */
  protected reserveXids(n: number): number {
    const first = (this.nextXid + 1) >>> 0 || 1;
    this.nextXid = (first + n - 1) >>> 0;
    return first;
  }

  /** Queue a message; it goes out with the others of this event-loop turn. */
  protected send(msg: M): void {
    if (this.closed) return;
    this.tx.push(this.encode(msg));
    this.counters.txMessages++;
  }

  /**
   * Remember what `count` fire-and-forget messages from xid `first` were, to name a refusal of one.
   * A refused message that changes no table (`changesTables` false: a packet-out) is counted and
   * logged but fails no barrier: the tables are as the controller believes.
   */
  protected track(first: number, count: number, describe: (i: number) => string, changesTables = true): void {
    this.sent.record(first, count, describe, changesTables);
  }

  /** Send `msg` with a fresh xid and resolve with its replies (every part of a multipart reply). */
  protected request(msg: M, timeoutMs = this.requestTimeoutMs, onLast?: () => void): Promise<M[]> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const xid = this.xid();
    const replies = this.pending.open(xid, msg.type, timeoutMs, onLast);
    this.send({ ...msg, xid });
    return replies;
  }

  /** A request answered by one message of type `expect`. */
  protected async requestOne<T extends M['type']>(msg: M, expect: T, timeoutMs?: number): Promise<Extract<M, { type: T }>> {
    const [reply] = await this.request(msg, timeoutMs);
    if (reply.type !== expect) throw new Error(`expected ${expect}, got ${reply.type}`);
    return reply as Extract<M, { type: T }>;
  }

  protected isAwaited(xid: number): boolean {
    return this.pending.has(xid);
  }

  /** Fail the request waiting on `xid` (e.g. its reply could not be decoded). */
  protected failRequest(xid: number, error: Error): void {
    this.pending.fail(xid, error);
  }

  /** The switch's Hello: both sides send one unprompted, so it is awaited by type, not by xid. */
  protected waitForHello(): Promise<M> {
    if (this.hello) return Promise.resolve(this.hello);
    return new Promise<M>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no hello from the switch')), this.handshakeTimeoutMs);
      this.onHello = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
    });
  }

  /**
   * An echo request every echoIntervalMs; echoMissesAllowed intervals in a row with nothing heard from
   * the switch close the connection. Any message counts, not only the echo's reply (as Open vSwitch's
   * rconn does): a switch applying a large batch answers an echo only after the batch, while the
   * batch's barrier replies keep proving it alive.
   */
  protected startKeepalive(): void {
    this.echoTimer = setInterval(() => {
      if (++this.echoMisses > this.echoMissesAllowed) {
        this.logger.warn({ remote: this.remoteAddress, channel: this.channel }, 'echo keepalive failed; closing');
        this.close('echo keepalive failed');
        return;
      }
      this.echoSentAtMs = performance.now();
      this.send(this.echoRequest(this.xid()));
    }, this.echoIntervalMs);
    this.echoTimer.unref();
  }

  /** One decoded message from the switch. */
  protected receive(msg: M): void {
    this.counters.rxMessages++;
    this.echoMisses = 0;
    try {
      this.dispatch(msg);
    } catch (err) {
      this.logger.error({ err, type: msg.type, channel: this.channel }, 'switch channel: handler failed');
    }
  }

  /** A packet-in within the budget goes to the listeners; one over it is counted and dropped. */
  protected emitPacketIn(e: PacketInEvent): void {
    if (this.packetIns && !this.packetIns.take()) {
      this.counters.packetInsDropped++;
      return;
    }
    for (const l of this.listeners.packetIn) l(e);
  }

  /** A port came, went or changed: the features follow, then the listeners hear of it. */
  protected emitPortStatus(e: PortStatusEvent): void {
    if (this.features) {
      const others = this.features.ports.filter((p) => p.number !== e.port.number);
      this.features.ports = e.reason === 'delete' ? others : [...others, e.port].sort((a, b) => a.number - b.number);
    }
    for (const l of this.listeners.portStatus) l(e);
  }

  // --- internals ---

  private onData(chunk: Buffer): void {
    try {
      this.decode(chunk);
    } catch (err) {
      this.counters.malformed++;
      this.logger.error({ err, channel: this.channel }, 'switch channel: decoder failed');
    }
    if (this.receiveBudget && !this.closed) {
      const held = this.bufferedBytes();
      if (this.receiveBudget.adjust(this.heldBytes, held)) this.heldBytes = held;
      else {
        this.logger.warn({ remote: this.remoteAddress, channel: this.channel, held }, 'receive budget exhausted; closing');
        this.close('receive budget exhausted');
      }
    }
  }

  private dispatch(msg: M): void {
    const kind = this.kindOf(msg);
    switch (kind) {
      case 'hello':
        if (this.onHello) this.onHello(msg);
        else this.hello ??= msg;
        this.onHello = undefined;
        return;
      case 'echoRequest':
        this.send(this.echoReply(msg));
        return;
      case 'echoReply':
        if (this.echoSentAtMs !== undefined) this.echoRttMs = performance.now() - this.echoSentAtMs;
        this.echoSentAtMs = undefined;
        this.pending.reply(msg.xid, msg, true);
        return;
      case 'error': {
        this.counters.switchErrors++;
        const refusal = this.refusalOf(msg, this.sent.describe(msg.xid) ?? this.pending.label(msg.xid));
        if (this.pending.fail(msg.xid, refusal)) return;
        if (this.sent.changesTables(msg.xid)) {
          this.refusal ??= refusal;
          this.refusalCount++;
        }
        this.logger.warn({ code: refusal.code, refused: refusal.refused, detail: refusal.detail, xid: msg.xid, channel: this.channel }, 'switch refused a message');
        return;
      }
      default:
        if (this.pending.reply(msg.xid, msg, kind === 'message')) return;
        this.onMessage(msg);
    }
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.receiveBudget?.adjust(this.heldBytes, 0);
    this.heldBytes = 0;
    if (this.echoTimer) clearInterval(this.echoTimer);
    this.tx.close();
    this.pending.failAll(new Error(`connection closed: ${reason}`));
    this.socket.destroy();
    for (const l of this.listeners.close) l(reason);
  }
}
