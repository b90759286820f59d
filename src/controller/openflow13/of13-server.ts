/**
 * The OpenFlow 1.3 listener (6653 by default), beside the native channel: every accepted connection
 * handshakes, then joins the controller as a switch like any other.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import type { Controller } from '../controller.js';
import { Of13Connection, type Of13ConnectionOptions } from './of13-connection.js';

/** IANA's OpenFlow port. */
export const OPENFLOW_DEFAULT_PORT = 6653;

export interface OpenFlowServer {
  port: number;
  close(): Promise<void>;
}

export async function listenOpenFlow(
  controller: Controller,
  host: string,
  port: number,
  logger: Logger,
  options: Of13ConnectionOptions = {},
): Promise<OpenFlowServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const conn = new Of13Connection(socket, logger, options);
    conn
      .handshake()
      .then(() => controller.attach(conn))
      .catch((err: Error) => {
        logger.warn({ remote: conn.remoteAddress, err: err.message }, 'openflow handshake failed');
        conn.close();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  logger.info({ host, port: bound }, 'openflow 1.3 channel listening');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
