/**
 * The OpenFlow 1.3 listener (6653 by default), beside the native channel: every accepted connection
 * handshakes, then joins the controller as a switch like any other.
 */
import type { Logger } from 'pino';
import { listenChannel, type ChannelServer, type ListenChannelOptions } from '../channel/listener.js';
import type { Controller } from '../controller.js';
import { Of13Connection, type Of13ConnectionOptions } from './of13-connection.js';

/** IANA's OpenFlow port. */
export const OPENFLOW_DEFAULT_PORT = 6653;

export type OpenFlowServer = ChannelServer;

export function listenOpenFlow(
  controller: Controller,
  host: string,
  port: number,
  logger: Logger,
  options: Of13ConnectionOptions & ListenChannelOptions = {},
): Promise<OpenFlowServer> {
  return listenChannel(controller, host, port, logger, 'openflow 1.3', (socket, o) => new Of13Connection(socket, logger, { ...options, ...o }), options);
}
