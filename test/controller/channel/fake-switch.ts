/**
 * A scripted native-channel switch for the channel tests: it connects (plain TCP or TLS with the
 * certificate it is given), says hello, answers the handshake and the controller's reads with empty
 * tables, answers echoes unless told to stay silent, and records what it receives. An impostor is one
 * of these claiming another switch's dpid.
 */
import net from 'node:net';
import tls from 'node:tls';
import { FrameDecoder, decodeMessage, encodeMessage, isMalformed, type Msg, type PortDesc } from '../../../src/protocol/index.js';

export interface FakeSwitchOptions {
  port: number;
  dpid: number;
  ports?: PortDesc[];
  tls?: { cert: string; key: string; ca: string };
  /** Do not answer echo requests (a switch that hangs). */
  silent?: boolean;
}

export interface FakeSwitch {
  readonly received: Msg[];
  send(msg: Msg): void;
  /** Raw bytes on the channel. */
  write(bytes: Uint8Array): void;
  /** Resolves when the controller closed the connection (or it failed). */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  /** Start or stop answering echoes. */
  silent: boolean;
  close(): void;
}

export function connectFakeSwitch(o: FakeSwitchOptions): FakeSwitch {
  const socket: net.Socket = o.tls
    ? tls.connect({ host: '127.0.0.1', port: o.port, ...o.tls, checkServerIdentity: () => undefined })
    : net.connect({ host: '127.0.0.1', port: o.port });
  const decoder = new FrameDecoder();
  const received: Msg[] = [];
  let isClosed = false;
  const send = (msg: Msg) => {
    if (!socket.destroyed) socket.write(encodeMessage(msg));
  };
  const fake: FakeSwitch = {
    received,
    send,
    write: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    closed: new Promise<void>((resolve) => socket.once('close', () => resolve())),
    get isClosed() {
      return isClosed;
    },
    silent: o.silent ?? false,
    close: () => socket.destroy(),
  };
  socket.once('close', () => (isClosed = true));
  socket.on('error', () => undefined);
  socket.once(o.tls ? 'secureConnect' : 'connect', () => send({ type: 'hello', xid: 1, versions: [1] }));
  socket.on('data', (chunk: Buffer) => {
    for (const ev of decoder.push(chunk)) {
      if (ev.type !== 'frame') continue;
      const m = decodeMessage(ev.frame);
      if (isMalformed(m)) continue;
      received.push(m);
      answer(m);
    }
  });
  const answer = (m: Msg) => {
    switch (m.type) {
      case 'featuresRequest':
        return send({ type: 'featuresReply', xid: m.xid, dpid: o.dpid, nTables: 16, ports: o.ports ?? [] });
      case 'flowStatsRequest':
        return send({ type: 'flowStatsReply', xid: m.xid, flows: [], more: false });
      case 'groupDescRequest':
        return send({ type: 'groupDescReply', xid: m.xid, groups: [], more: false });
      case 'portStatsRequest':
        return send({ type: 'portStatsReply', xid: m.xid, ports: [], more: false });
      case 'barrierRequest':
        return send({ type: 'barrierReply', xid: m.xid });
      case 'echoRequest':
        if (!fake.silent) send({ type: 'echoReply', xid: m.xid, data: m.data });
        return;
      default:
        return;
    }
  };
  return fake;
}
