/** The native channel's TCP listener: every accepted connection handshakes, then joins the controller. */
import type { Logger } from 'pino';
import { listenChannel, type ChannelServer } from '../channel/listener.js';
import type { Controller } from '../controller.js';
import { NativeConnection } from './native-connection.js';

export type NativeServer = ChannelServer;

export function listenNative(controller: Controller, host: string, port: number, logger: Logger): Promise<NativeServer> {
  return listenChannel(controller, host, port, logger, 'native', (socket) => new NativeConnection(socket, logger));
}
