/**
 * A switch channel's TCP listener, whatever the protocol: every accepted socket becomes a connection,
 * handshakes, and joins the controller as a switch; a failed handshake closes it. The native and the
 * OpenFlow 1.3 listeners differ only in the connection they build.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import type { Controller } from '../controller.js';
import type { SwitchConnection } from '../switch-connection.js';

export interface ChannelServer {
  port: number;
  close(): Promise<void>;
}

export interface HandshakingConnection extends SwitchConnection {
  handshake(): Promise<unknown>;
}

export async function listenChannel(
  controller: Controller,
  host: string,
  port: number,
  logger: Logger,
  channelName: string,
  connect: (socket: net.Socket) => HandshakingConnection,
): Promise<ChannelServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const conn = connect(socket);
    conn
      .handshake()
      .then(() => controller.attach(conn))
      .catch((err: Error) => {
        logger.warn({ remote: conn.remoteAddress, err: err.message }, `${channelName} handshake failed`);
        conn.close();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  logger.info({ host, port: bound }, `${channelName} channel listening`);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
