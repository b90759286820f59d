/** The native channel's TCP listener: every accepted connection handshakes, then joins the controller. */
import net from 'node:net';
import type { Logger } from 'pino';
import type { Controller } from '../controller.js';
import { NativeConnection } from './native-connection.js';

export interface NativeServer {
  port: number;
  close(): Promise<void>;
}

export async function listenNative(controller: Controller, host: string, port: number, logger: Logger): Promise<NativeServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const conn = new NativeConnection(socket, logger);
    conn
      .handshake()
      .then(() => controller.attach(conn))
      .catch((err: Error) => {
        logger.warn({ remote: conn.remoteAddress, err: err.message }, 'native handshake failed');
        conn.close();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  logger.info({ host, port: bound }, 'native channel listening');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
