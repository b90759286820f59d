/** Parsing of the CLI's address arguments: udp://HOST:PORT, tcp://HOST:PORT, and BIND@PEER pairs. */
import type { SocketAddress } from '../net/index.js';

export function parseUrlAddress(text: string, scheme: 'udp' | 'tcp' | 'http'): SocketAddress {
  const m = new RegExp(`^(?:${scheme}://)?\\[?([^\\]]+?)\\]?:(\\d{1,5})$`).exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`"${text}" is not ${scheme}://HOST:PORT`);
  return { host: m[1], port };
}

/** `udp://BIND[@udp://PEER]`: where a port or host listens, and where it sends. */
export function parseBindPeer(text: string): { bind: SocketAddress; peer?: SocketAddress } {
  const [bind, peer] = text.split('@');
  return { bind: parseUrlAddress(bind, 'udp'), ...(peer ? { peer: parseUrlAddress(peer, 'udp') } : {}) };
}
