/**
 * The controller side of one native-channel TCP connection: the Hello/Features handshake, request/reply
 * matching by xid, echo keepalive, and the SwitchConnection adapter the controller works with.
 * Malformed or oversized frames are answered with an Error message and counted; a connection that
 * keeps sending garbage is closed, the process never throws out of the receive path.
 */
import type net from 'node:net';
import type { Logger } from 'pino';
import { PORT, type Action, type FlowMod, type GroupMod } from '../../flow/index.js';
import {
  FrameDecoder,
  SUPPORTED_VERSIONS,
  decodeMessage,
  encodeMessage,
  isMalformed,
  negotiateVersion,
  type Msg,
  type MsgOf,
  type PortDesc,
} from '../../protocol/index.js';
import type {
  FlowStatsEntry,
  PortStatsEntry,
  SwitchConnection,
  SwitchConnectionEvents,
  SwitchFeatures,
  SwitchPort,
} from '../switch-connection.js';

export const HANDSHAKE_TIMEOUT_MS = 5000;
export const REQUEST_TIMEOUT_MS = 10_000;
export const ECHO_INTERVAL_MS = 2000;
/** Echo replies missed in a row before the connection is declared dead. */
export const ECHO_MISSES_ALLOWED = 3;
/** Malformed frames tolerated before the connection is closed. */
export const MALFORMED_LIMIT = 100;

export interface ChannelCounters {
  rxMessages: number;
  txMessages: number;
  malformed: number;
  oversized: number;
}

interface Pending {
  resolve: (msgs: Msg[]) => void;
  reject: (e: Error) => void;
  replies: Msg[];
  timer: NodeJS.Timeout;
}

function toSwitchPort(p: PortDesc): SwitchPort {
  return { number: p.portNo, name: p.name, up: p.up, ...(p.hwAddr ? { hwAddr: p.hwAddr } : {}) };
}

/** The multipart replies that carry `more: true` until the last. */
function isFinalReply(m: Msg): boolean {
  return !('more' in m) || !m.more;
}

export class NativeConnection implements SwitchConnection {
  readonly channel = 'native' as const;
  readonly remoteAddress: string;
  readonly counters: ChannelCounters = { rxMessages: 0, txMessages: 0, malformed: 0, oversized: 0 };
  features!: SwitchFeatures;
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: { [E in keyof SwitchConnectionEvents]: SwitchConnectionEvents[E][] } = {
    packetIn: [],
    portStatus: [],
    close: [],
  };
  private nextXid = 1;
  private closed = false;
  private echoTimer: NodeJS.Timeout | undefined;
  private echoMisses = 0;
  private outbox: Buffer[] = [];
  private onHello: ((m: MsgOf<'hello'>) => void) | undefined;
  private flushScheduled = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly logger: Logger,
  ) {
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.logger.debug({ err: err.message }, 'native channel socket error'));
    socket.on('close', () => this.shutdown('connection closed'));
  }

  /** Hello (version negotiation) then Features; resolves with the switch's features. */
  async handshake(): Promise<SwitchFeatures> {
    // Both sides send Hello unprompted (as in OpenFlow), so theirs is awaited by type, not by xid.
    const theirHello = new Promise<MsgOf<'hello'>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no hello from the switch')), HANDSHAKE_TIMEOUT_MS);
      this.onHello = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
    });
    this.send({ type: 'hello', xid: this.xid(), versions: [...SUPPORTED_VERSIONS] });
    const hello = await theirHello;
    const version = negotiateVersion(SUPPORTED_VERSIONS, hello.versions);
    if (version === undefined) {
      this.send({ type: 'error', xid: hello.xid, code: 'OVC_ERR_PROTO_VERSION', message: `no common version with ${hello.versions.join(',')}` });
      this.close();
      throw new Error('no common protocol version');
    }
    const reply = await this.request<'featuresReply'>({ type: 'featuresRequest', xid: 0 }, 'featuresReply', HANDSHAKE_TIMEOUT_MS);
    this.features = { dpid: reply.dpid, ports: reply.ports.map(toSwitchPort), description: 'overcast-softswitch' };
    this.startKeepalive();
    return this.features;
  }

  on<E extends keyof SwitchConnectionEvents>(event: E, listener: SwitchConnectionEvents[E]): void {
    this.listeners[event].push(listener);
  }

  sendFlowMods(mods: readonly FlowMod[]): void {
    for (const flowMod of mods) this.send({ type: 'flowMod', xid: this.xid(), flowMod });
  }

  sendGroupMods(mods: readonly GroupMod[]): void {
    for (const groupMod of mods) this.send({ type: 'groupMod', xid: this.xid(), groupMod });
  }

  async barrier(): Promise<void> {
    await this.request({ type: 'barrierRequest', xid: 0 }, 'barrierReply');
  }

  packetOut(frame: Buffer, inPort: number, actions: Action[]): void {
    this.send({ type: 'packetOut', xid: this.xid(), inPort: inPort || PORT.CONTROLLER, actions, data: frame });
  }

  async flowStats(): Promise<FlowStatsEntry[]> {
    const replies = await this.requestAll({ type: 'flowStatsRequest', xid: 0, match: {}, cookie: 0, cookieMask: 0 });
    return replies.flatMap((r) =>
      r.type === 'flowStatsReply' ? r.flows.map((s) => ({ flow: s.flow, packets: s.packets, bytes: s.bytes, durationSec: s.durationMs / 1000 })) : [],
    );
  }

  async portStats(): Promise<PortStatsEntry[]> {
    const replies = await this.requestAll({ type: 'portStatsRequest', xid: 0 });
    return replies.flatMap((r) =>
      r.type === 'portStatsReply'
        ? r.ports.map((p) => ({
            port: p.portNo,
            rxPackets: p.rxPackets,
            txPackets: p.txPackets,
            rxBytes: p.rxBytes,
            txBytes: p.txBytes,
            rxDropped: p.rxDropped,
            txDropped: p.txDropped,
          }))
        : [],
    );
  }

  close(): void {
    this.socket.end();
    this.socket.destroySoon?.();
    this.shutdown('closed by controller');
  }

  private xid(): number {
    this.nextXid = (this.nextXid + 1) >>> 0 || 1;
    return this.nextXid;
  }

  /**
   * Messages are queued and written together once per tick: thousands of flow-mods become a few large
   * writes instead of a syscall each.
   */
  private send(msg: Msg): void {
    if (this.closed) return;
    this.outbox.push(encodeMessage(msg));
    this.counters.txMessages++;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.outbox.length === 0) return;
    const batch = this.outbox.length === 1 ? this.outbox[0] : Buffer.concat(this.outbox);
    this.outbox = [];
    this.socket.write(batch);
  }

  private async request<T extends Msg['type']>(msg: Msg, expect: T, timeoutMs = REQUEST_TIMEOUT_MS): Promise<MsgOf<T>> {
    const [reply] = await this.requestAll(msg, timeoutMs);
    if (reply.type !== expect) throw new Error(`expected ${expect}, got ${reply.type}`);
    return reply as MsgOf<T>;
  }

  private requestAll(msg: Msg, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Msg[]> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const xid = this.xid();
    return new Promise<Msg[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(xid);
        reject(new Error(`${msg.type} xid ${xid} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(xid, { resolve, reject, replies: [], timer });
      this.send({ ...msg, xid } as Msg);
    });
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.decoder.push(chunk)) {
      if (ev.type === 'oversized') {
        this.counters.oversized++;
        this.send({ type: 'error', xid: 0, code: 'OVC_ERR_PROTO_OVERSIZED', message: `frame of ${ev.length} bytes refused` });
        continue;
      }
      const msg = decodeMessage(ev.frame);
      if (isMalformed(msg)) {
        this.counters.malformed++;
        this.send({ type: 'error', xid: 0, code: msg.code, message: msg.reason });
        if (this.counters.malformed > MALFORMED_LIMIT) {
          this.logger.warn({ remote: this.remoteAddress }, 'too many malformed frames; closing');
          this.close();
          return;
        }
        continue;
      }
      this.counters.rxMessages++;
      try {
        this.dispatch(msg);
      } catch (err) {
        this.logger.error({ err, type: msg.type }, 'native channel: handler failed');
      }
    }
  }

  private dispatch(msg: Msg): void {
    const pending = this.pending.get(msg.xid);
    if (pending) {
      if (msg.type === 'error') {
        this.pending.delete(msg.xid);
        clearTimeout(pending.timer);
        pending.reject(new Error(`switch error ${msg.code}: ${msg.message}`));
        return;
      }
      pending.replies.push(msg);
      if (isFinalReply(msg)) {
        this.pending.delete(msg.xid);
        clearTimeout(pending.timer);
        pending.resolve(pending.replies);
      }
      return;
    }
    switch (msg.type) {
      case 'echoRequest':
        this.send({ type: 'echoReply', xid: msg.xid, data: msg.data });
        return;
      case 'echoReply':
        this.echoMisses = 0;
        return;
      case 'hello':
        this.onHello?.(msg);
        this.onHello = undefined;
        return;
      case 'packetIn':
        for (const l of this.listeners.packetIn) {
          l({ reason: msg.reason, table: msg.table, cookie: msg.cookie, inPort: msg.inPort, frame: Buffer.from(msg.data) });
        }
        return;
      case 'portStatus': {
        const port = toSwitchPort(msg.port);
        if (this.features) {
          const others = this.features.ports.filter((p) => p.number !== port.number);
          this.features.ports = msg.reason === 'delete' ? others : [...others, port].sort((a, b) => a.number - b.number);
        }
        for (const l of this.listeners.portStatus) l({ reason: msg.reason, port });
        return;
      }
      case 'error':
        this.logger.warn({ code: msg.code, message: msg.message, xid: msg.xid }, 'switch reported an error');
        return;
      default:
        this.logger.debug({ type: msg.type }, 'native channel: unexpected message ignored');
    }
  }

  private startKeepalive(): void {
    this.echoTimer = setInterval(() => {
      if (++this.echoMisses > ECHO_MISSES_ALLOWED) {
        this.logger.warn({ remote: this.remoteAddress }, 'echo keepalive failed; closing');
        this.close();
        return;
      }
      this.send({ type: 'echoRequest', xid: this.xid(), data: new Uint8Array(0) });
    }, ECHO_INTERVAL_MS);
    this.echoTimer.unref();
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.echoTimer) clearInterval(this.echoTimer);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`connection closed: ${reason}`));
    }
    this.pending.clear();
    this.socket.destroy();
    for (const l of this.listeners.close) l(reason);
  }
}
