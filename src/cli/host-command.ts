/**
 * `overcast host`: one test host process (data socket + control API), as run by the lab and containers.
 * Either address may use port 0 (any free port); started by a lab, the host reports the ports it got.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { TestHost, createHostControlServer } from '../host/index.js';
import { reportReady } from '../lab/index.js';
import { cidrContaining, parseIpv4, parseMac } from '../net/index.js';
import { parseBindPeer, parseUrlAddress } from './addresses.js';

export interface HostCommandOptions {
  name: string;
  mac: string;
  /** a.b.c.d/len */
  ip: string;
  gateway?: string;
  port: string;
  control: string;
}

export async function runHostCommand(o: HostCommandOptions, logger: Logger): Promise<() => Promise<void>> {
  const [ipText, lenText = '24'] = o.ip.split('/');
  const ip = parseIpv4(ipText, 'ip');
  const { bind, peer } = parseBindPeer(o.port);
  if (!peer) throw new Error('--port needs a peer: udp://BIND@udp://SWITCH_PORT');
  const host = new TestHost(
    {
      name: o.name,
      mac: parseMac(o.mac, 'mac'),
      ip,
      subnet: cidrContaining(ip, Number(lenText), 'ip'),
      ...(o.gateway ? { gateway: parseIpv4(o.gateway, 'gateway') } : {}),
      bind,
      peer,
    },
    { logger, nowMs: () => performance.now() },
  );
  await host.start();
  const control = parseUrlAddress(o.control, 'http');
  const server = createHostControlServer(host);
  // A port already taken ends the process with that message, not with an unhandled 'error' event.
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      host.stop();
      reject(new Error(`host ${o.name}: cannot listen on ${o.control} for its control API: ${e.code ?? e.message}`));
    });
    server.listen(control.port, control.host, resolve);
  });
  const dataPort = host.boundPort;
  const controlPort = (server.address() as AddressInfo).port;
  logger.info({ host: o.name, ip: o.ip, data: { ...bind, port: dataPort }, control: { ...control, port: controlPort } }, 'host up');
  reportReady({ kind: 'host', dataPort, controlPort });
  return async () => {
    host.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
