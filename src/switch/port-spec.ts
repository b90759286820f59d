/**
 * Port specs on the command line: `N=udp://LOCALHOST:LOCALPORT@PEERHOST:PEERPORT`. The port binds the
 * local address and sends to the peer. Without `@PEER` the port learns its peer from the first
 * datagram it receives (handy for a test host that attaches later).
 */
import { OvercastError } from '../errors/index.js';

export interface UdpPortSpec {
  portNo: number;
  name: string;
  localHost: string;
  localPort: number;
  peerHost?: string;
  peerPort?: number;
}

const SPEC = /^(\d+)(?::([\w.-]+))?=udp:\/\/([^:@/\s]+):(\d+)(?:@([^:@/\s]+):(\d+))?$/;

function udpPort(text: string, field: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', `bad UDP port ${text}`, field);
  return n;
}

/** Parse `N[:name]=udp://HOST:PORT[@PEERHOST:PEERPORT]`. */
export function parsePortSpec(text: string, field = 'port'): UdpPortSpec {
  const m = SPEC.exec(text.trim());
  if (!m) throw new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', `port spec "${text}" is not N=udp://HOST:PORT[@PEERHOST:PEERPORT]`, field);
  const portNo = Number(m[1]);
  if (!Number.isInteger(portNo) || portNo < 1 || portNo >= 0xffffff00) {
    throw new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', `port number ${m[1]} out of range`, field);
  }
  const spec: UdpPortSpec = { portNo, name: m[2] ?? `p${portNo}`, localHost: m[3], localPort: udpPort(m[4], field) };
  if (m[5] !== undefined) {
    spec.peerHost = m[5];
    spec.peerPort = udpPort(m[6], field);
    if (spec.peerPort === 0) throw new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', 'peer UDP port must not be 0', field);
  }
  return spec;
}

export function formatPortSpec(s: UdpPortSpec): string {
  const peer = s.peerHost !== undefined ? `@${s.peerHost}:${s.peerPort}` : '';
  return `${s.portNo}=udp://${s.localHost}:${s.localPort}${peer}`;
}

/** `tcp://HOST:PORT` -> host and port. */
export function parseControllerUrl(text: string, field = 'controller'): { host: string; port: number } {
  const m = /^tcp:\/\/([^:/\s]+|\[[0-9a-fA-F:]+\]):(\d+)\/?$/.exec(text.trim());
  if (!m) throw new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', `controller "${text}" is not tcp://HOST:PORT`, field);
  const port = udpPort(m[2], field);
  if (port === 0) throw new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', 'controller port must not be 0', field);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** A datapath id: decimal or 0x-hex, up to 2^53 - 1. */
export function parseDpid(text: string, field = 'dpid'): number {
  const t = text.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', `dpid "${text}" is not a number below 2^53`, field);
  return n;
}
