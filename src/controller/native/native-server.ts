/** The native channel's listener: every accepted connection handshakes, then joins the controller. */
import type { Logger } from 'pino';
import type { ChannelOptions } from '../channel/connection.js';
import { listenChannel, type ChannelServer, type ListenChannelOptions } from '../channel/listener.js';
import type { Controller } from '../controller.js';
import { NativeConnection } from './native-connection.js';

export type NativeServer = ChannelServer;

export interface NativeListenOptions extends ListenChannelOptions {
  connection?: ChannelOptions;
}

export function listenNative(controller: Controller, host: string, port: number, logger: Logger, options: NativeListenOptions = {}): Promise<NativeServer> {
  return listenChannel(controller, host, port, logger, 'native', (socket, o) => new NativeConnection(socket, logger, { ...options.connection, ...o }), options);
}
