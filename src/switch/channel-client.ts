/**
 * The switch's end of the control channel: a TCP connection to the controller, framed protobuf
 * messages, the Hello exchange (version negotiation), echo keepalive, and reconnection with
 * exponential backoff and jitter. Bad frames are answered with an Error and counted; nothing thrown
 * from a receive handler escapes. What the messages mean is the caller's business (onMessage).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { isControllerSubjectAltName } from '../protocol/identity.js';
import {
  FrameDecoder,
  MAX_FRAME_BYTES,
  SUPPORTED_VERSIONS,
  decodeMessage,
  encodeMessage,
  isMalformed,
  negotiateVersion,
  type Msg,
} from '../protocol/index.js';
import { DEFAULT_BACKOFF, backoffDelayMs, type BackoffOptions } from './backoff.js';
import { CHANNEL_DROP, countDrop, type DropCounters } from './counters.js';

export interface ChannelClientOptions {
  host: string;
  port: number;
  versions?: readonly number[];
  /** Send an EchoRequest when the channel has been quiet this long. */
  echoIntervalMs?: number;
  /** Drop the connection (and reconnect) when nothing arrived for this long. */
  echoTimeoutMs?: number;
  backoff?: BackoffOptions;
  maxFrameBytes?: number;
  /** Stop sending best-effort messages (packet-ins) when this much is queued on the socket. */
  maxQueuedBytes?: number;
  /** Mutual TLS: this switch's certificate and key, and the CA the controller's certificate must chain to. */
  tls?: ChannelClientTls;
}

/** PEM text (or buffers). */
export interface ChannelClientTls {
  cert: string | Buffer;
  key: string | Buffer;
  ca: string | Buffer;
}

/**
 * The controller is whoever holds a certificate from the CA that carries urn:overcast:controller
 * (src/protocol/identity.ts): a switch's certificate from the same CA cannot stand in for it, and the
 * address the switch dials (an IP, a service name) needs no place in the certificate.
 */
function checkControllerIdentity(_host: string, cert: tls.PeerCertificate): Error | undefined {
  return isControllerSubjectAltName(cert.subjectaltname) ? undefined : new Error(`the peer's certificate (${cert.subject?.CN ?? '?'}) is not a controller's`);
}

export interface ChannelClientComponents {
  logger: Logger;
  now: () => number;
  random: () => number;
  drops: DropCounters;
}

export interface ChannelHandlers {
  /** The Hello exchange succeeded: the controller will now ask for features. */
  onReady(version: number): void;
  onMessage(msg: Msg): void;
  onDisconnect(): void;
}

export const ECHO_INTERVAL_MS = 5000;
export const ECHO_TIMEOUT_MS = 15000;
export const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

export interface ChannelStats {
  connected: boolean;
  version: number | undefined;
  connects: number;
  disconnects: number;
  reconnectAttempt: number;
}

export class ChannelClient {
  private socket: net.Socket | undefined;
  private ready = false;
  private version: number | undefined;
  private stopped = true;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private lastRxMs = 0;
  private lastTxMs = 0;
  private xid = 1;
  private connects = 0;
  private disconnects = 0;
  private readonly versions: readonly number[];
  private readonly echoIntervalMs: number;
  private readonly echoTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly maxQueuedBytes: number;

  constructor(
    private readonly opts: ChannelClientOptions,
    private readonly c: ChannelClientComponents,
    private readonly handlers: ChannelHandlers,
  ) {
    this.versions = opts.versions ?? SUPPORTED_VERSIONS;
    this.echoIntervalMs = opts.echoIntervalMs ?? ECHO_INTERVAL_MS;
    this.echoTimeoutMs = opts.echoTimeoutMs ?? ECHO_TIMEOUT_MS;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  }

  get connected(): boolean {
    return this.ready;
  }

  stats(): ChannelStats {
    return { connected: this.ready, version: this.version, connects: this.connects, disconnects: this.disconnects, reconnectAttempt: this.attempt };
  }

  nextXid(): number {
    this.xid = (this.xid + 1) >>> 0 || 1;
    return this.xid;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
    const tick = Math.max(10, Math.min(this.echoIntervalMs, this.echoTimeoutMs) / 2);
    this.keepaliveTimer = setInterval(() => this.keepalive(), tick);
    this.keepaliveTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.keepaliveTimer);
    this.socket?.destroy();
    this.socket = undefined;
    this.ready = false;
  }

  /** Send a message; false when not connected (or, for best-effort sends, when the socket is backed up). */
  send(msg: Msg, bestEffort = false): boolean {
    const s = this.socket;
    if (!s || !this.ready) return false;
    if (bestEffort && s.writableLength > this.maxQueuedBytes) return false;
    return this.write(s, msg);
  }

  private write(s: net.Socket, msg: Msg): boolean {
    let bytes: Buffer;
    try {
      bytes = encodeMessage(msg);
    } catch (e) {
      this.c.logger.warn({ type: msg.type, err: (e as Error).message }, 'could not encode a message');
      return false;
    }
    this.lastTxMs = this.c.now();
    s.write(bytes);
    return true;
  }

  private connect(): void {
    if (this.stopped) return;
    const { host, port } = this.opts;
    const secure = this.opts.tls;
    const s: net.Socket = secure
      ? tls.connect({ host, port, ...secure, minVersion: 'TLSv1.2', checkServerIdentity: checkControllerIdentity }).setNoDelay(true)
      : net.connect({ host, port, noDelay: true });
    this.socket = s;
    const decoder = new FrameDecoder(this.opts.maxFrameBytes ?? MAX_FRAME_BYTES);
    s.on(secure ? 'secureConnect' : 'connect', () => {
      this.c.logger.info({ controller: `${host}:${port}`, tls: Boolean(secure) }, 'connected to the controller');
      this.lastRxMs = this.c.now();
      this.write(s, { type: 'hello', xid: this.nextXid(), versions: [...this.versions] });
    });
    s.on('data', (chunk: Buffer) => {
      if (this.socket !== s) return;
      this.lastRxMs = this.c.now();
      for (const ev of decoder.push(chunk)) {
        if (this.socket !== s) return;
        if (ev.type === 'oversized') {
          countDrop(this.c.drops, CHANNEL_DROP.OVERSIZED);
          this.write(s, { type: 'error', xid: 0, code: 'OVC_ERR_PROTO_OVERSIZED', message: `frame of ${ev.length} bytes exceeds ${MAX_FRAME_BYTES}` });
          continue;
        }
        this.receive(s, ev.frame);
      }
    });
    s.on('error', (err) => this.c.logger[secure ? 'warn' : 'debug']({ err: err.message }, 'control channel error'));
    s.on('close', () => {
      if (this.socket === s) this.socket = undefined;
      const wasReady = this.ready;
      this.ready = false;
      this.version = undefined;
      if (wasReady) {
        this.disconnects++;
        this.c.logger.warn('controller connection lost; keeping flows (fail-secure)');
        try {
          this.handlers.onDisconnect();
        } catch (e) {
          this.c.logger.error({ err: (e as Error).message }, 'disconnect handler failed');
        }
      }
      this.scheduleReconnect();
    });
  }

  private receive(s: net.Socket, frame: Buffer): void {
    const msg = decodeMessage(frame);
    if (isMalformed(msg)) {
      countDrop(this.c.drops, CHANNEL_DROP.MALFORMED);
      this.write(s, { type: 'error', xid: 0, code: msg.code, message: msg.reason, data: frame.subarray(0, 64) });
      return;
    }
    if (!this.ready) {
      if (msg.type !== 'hello') {
        countDrop(this.c.drops, CHANNEL_DROP.UNEXPECTED);
        this.write(s, { type: 'error', xid: msg.xid, code: 'OVC_ERR_PROTO_UNEXPECTED', message: `expected hello, got ${msg.type}` });
        return;
      }
      const version = negotiateVersion(this.versions, msg.versions);
      if (version === undefined) {
        this.write(s, { type: 'error', xid: msg.xid, code: 'OVC_ERR_PROTO_VERSION', message: `no common version: ours ${this.versions.join(',')}, theirs ${msg.versions.join(',')}` });
        this.c.logger.error({ theirs: msg.versions }, 'no common protocol version');
        s.end();
        return;
      }
      this.ready = true;
      this.version = version;
      this.attempt = 0;
      this.connects++;
      this.safely(() => this.handlers.onReady(version));
      return;
    }
    switch (msg.type) {
      case 'echoRequest':
        this.write(s, { type: 'echoReply', xid: msg.xid, data: msg.data });
        return;
      case 'echoReply':
      case 'hello':
        return;
      default:
        this.safely(() => this.handlers.onMessage(msg));
    }
  }

  private safely(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.c.logger.error({ err: (e as Error).message }, 'control message handler failed');
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = backoffDelayMs(this.attempt++, this.backoff, this.c.random);
    this.c.logger.debug({ delay, attempt: this.attempt }, 'reconnecting to the controller');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private keepalive(): void {
    const s = this.socket;
    if (!s || !this.ready) return;
    const now = this.c.now();
    if (now - this.lastRxMs > this.echoTimeoutMs) {
      this.c.logger.warn({ silentMs: now - this.lastRxMs }, 'controller silent too long; reconnecting');
      s.destroy();
      return;
    }
    if (now - this.lastRxMs >= this.echoIntervalMs && now - this.lastTxMs >= this.echoIntervalMs / 2) {
      this.write(s, { type: 'echoRequest', xid: this.nextXid(), data: new Uint8Array(0) });
    }
  }
}
