/**
 * A switch channel's listener, whatever the protocol: every accepted socket becomes a connection,
 * handshakes, and joins the controller as a switch; a failed handshake closes it. The native and the
 * OpenFlow 1.3 listeners differ only in the connection they build.
 *
 * With TLS the peer must present a certificate signed by the configured CA (mutual TLS); the dpids
 * it lists (./peer-identity.ts) travel with the connection and the controller refuses a switch that
 * claims another. Whatever the transport, the listener bounds what strangers can cost: connections
 * in all, connections still handshaking, the time a handshake may take, and the bytes all
 * connections hold for partial messages (docs/security.md).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Controller } from '../controller.js';
import type { SwitchConnection } from '../switch-connection.js';
import type { PeerIdentity } from '../switch-connection.js';
import type { ChannelOptions } from './connection.js';
import { peerIdentityOf } from './peer-identity.js';
import { DEFAULT_RECEIVE_BUDGET_BYTES, ReceiveBudget } from './receive-budget.js';
import { throttledWarn } from './throttled-log.js';

/** Switch connections one listener keeps open at once (handshaking ones included). */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Connections still in their TLS or channel handshake at once; more are closed on arrival. */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 64;
/** From accept to a finished channel handshake (TLS included). */
export const DEFAULT_CHANNEL_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface ChannelServer {
  port: number;
  close(): Promise<void>;
}

export interface HandshakingConnection extends SwitchConnection {
  handshake(): Promise<unknown>;
  readonly isClosed: boolean;
}

/** PEM text (or buffers) of the controller's certificate and key, and the CA switch certificates must chain to. */
export interface ChannelTlsCredentials {
  cert: string | Buffer;
  key: string | Buffer;
  ca: string | Buffer;
}

export interface ChannelLimits {
  maxConnections: number;
  maxPendingHandshakes: number;
  handshakeTimeoutMs: number;
  /** Bytes all connections may hold for partial messages, together. */
  receiveBudgetBytes: number;
}

export interface ListenChannelOptions {
  /** Mutual TLS; without it the channel is plain TCP (development only). */
  tls?: ChannelTlsCredentials;
  limits?: Partial<ChannelLimits>;
}

export type BuildConnection = (socket: net.Socket, options: ChannelOptions) => HandshakingConnection;

export async function listenChannel(
  controller: Controller,
  host: string,
  port: number,
  logger: Logger,
  channelName: string,
  connect: BuildConnection,
  options: ListenChannelOptions = {},
): Promise<ChannelServer> {
  const limits: ChannelLimits = {
    maxConnections: DEFAULT_MAX_CONNECTIONS,
    maxPendingHandshakes: DEFAULT_MAX_PENDING_HANDSHAKES,
    handshakeTimeoutMs: DEFAULT_CHANNEL_HANDSHAKE_TIMEOUT_MS,
    receiveBudgetBytes: DEFAULT_RECEIVE_BUDGET_BYTES,
    ...options.limits,
  };
  const counters = controller.channelCounters;
  const warn = throttledWarn(logger);
  const receiveBudget = new ReceiveBudget(limits.receiveBudgetBytes, () => counters.receiveBudgetClosed++);
  /** Raw sockets open now, and how many of them belong to attached switches. */
  const sockets = new Set<net.Socket>();
  let attached = 0;

  const onConnection = (raw: net.Socket) => {
    if (sockets.size >= limits.maxConnections) {
      counters.connectionsRefused++;
      warn(`${channelName}: connection limit reached; refusing`, { remote: raw.remoteAddress, open: sockets.size });
      raw.destroy();
      return;
    }
    if (sockets.size - attached >= limits.maxPendingHandshakes) {
      counters.handshakesRefused++;
      warn(`${channelName}: too many handshakes in progress; refusing`, { remote: raw.remoteAddress, pending: sockets.size - attached });
      raw.destroy();
      return;
    }
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => undefined);
    if (tlsServer) tlsServer.emit('connection', raw);
    else start(raw, undefined);
  };

  // Not listening itself: the plain server above accepts (and caps) connections and hands them here.
  const tlsServer = options.tls
    ? tls.createServer({
        cert: options.tls.cert,
        key: options.tls.key,
        ca: options.tls.ca,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        handshakeTimeout: limits.handshakeTimeoutMs,
      })
    : undefined;
  tlsServer?.on('tlsClientError', (err, socket) => {
    counters.tlsRefused++;
    warn(`${channelName}: TLS handshake refused`, { remote: socket.remoteAddress, err: err.message });
    socket.destroy();
  });
  tlsServer?.on('secureConnection', (socket: tls.TLSSocket) => {
    const identity = peerIdentityOf(socket);
    if (identity.dpids.length === 0) {
      counters.identityRefused++;
      warn(`${channelName}: client certificate names no dpid; refusing`, { remote: socket.remoteAddress, subject: identity.subject });
      socket.destroy();
      return;
    }
    start(socket, identity);
  });

  /** The channel handshake, then the controller decides whether the switch joins. */
  const start = (socket: net.Socket, identity: PeerIdentity | undefined) => {
    const conn = connect(socket, { receiveBudget, ...(identity ? { peerIdentity: identity } : {}) });
    const deadline = setTimeout(() => {
      counters.handshakeTimeouts++;
      warn(`${channelName}: handshake took too long; closing`, { remote: conn.remoteAddress });
      conn.close('handshake timeout');
    }, limits.handshakeTimeoutMs);
    deadline.unref();
    conn
      .handshake()
      .then(() => controller.attach(conn))
      .then((joined) => {
        clearTimeout(deadline);
        if (!joined || conn.isClosed) return;
        attached++;
        conn.on('close', () => attached--);
      })
      .catch((err: Error) => {
        clearTimeout(deadline);
        warn(`${channelName} handshake failed: ${err.message}`, { remote: conn.remoteAddress });
        conn.close();
      });
  };

  const server = net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  logger.info({ host, port: bound, tls: Boolean(options.tls) }, `${channelName} channel listening`);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
