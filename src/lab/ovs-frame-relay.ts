/**
 * Joins an Open vSwitch dummy port to a UDP test host: Overcast's hosts send one Ethernet frame per
 * datagram, and netdev-dummy speaks a unix stream where each frame is a 2-byte big-endian length then
 * the frame (lib/netdev-dummy.c: dummy_packet_stream_send/run). The relay connects to the port's
 * `pstream=punix:` socket (reconnecting if OVS restarts it), binds the UDP address the host sends to,
 * and copies frames both ways: `overcast host` works unchanged on OVS bridges.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { SocketAddress } from '../net/index.js';

export interface FrameRelayOptions {
  /** The dummy port's unix socket (its `options:pstream=punix:PATH`). */
  unixPath: string;
  /** Where the relay receives the host's datagrams (port 0: any free port; address() tells which). */
  bind: SocketAddress;
  /** The host's own data address: frames leaving the port go there (setPeer sets it later). */
  peer?: SocketAddress;
}

export interface FrameRelayCounters {
  toSwitch: number;
  toHost: number;
  /** Frames refused: shorter than an Ethernet header, longer than the 16-bit length allows, or for a host not yet known. */
  dropped: number;
}

export interface FrameRelay {
  readonly counters: FrameRelayCounters;
  /** Resolves once the unix stream is connected. */
  ready(): Promise<void>;
  /** Where the relay receives the host's datagrams: the address the host sends to. */
  address(): SocketAddress;
  /** The host's data address; frames leaving the port before it is known are dropped. */
  setPeer(peer: SocketAddress): void;
  close(): Promise<void>;
}

const ETH_HEADER_LEN = 14;
const MAX_FRAME_LEN = 0xffff;
const RECONNECT_MS = 100;

/** Split a netdev-dummy stream into frames; returns the unconsumed tail. */
export function splitDummyStream(buf: Buffer, onFrame: (frame: Buffer) => void): Buffer {
  let off = 0;
  while (buf.length - off >= 2) {
    const len = buf.readUInt16BE(off);
    if (buf.length - off - 2 < len) break;
    onFrame(buf.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return off === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
}

export function frameForDummyStream(frame: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(2 + frame.length);
  b.writeUInt16BE(frame.length, 0);
  b.set(frame, 2);
  return b;
}

export async function startFrameRelay(o: FrameRelayOptions): Promise<FrameRelay> {
  const counters: FrameRelayCounters = { toSwitch: 0, toHost: 0, dropped: 0 };
  const udp = dgram.createSocket('udp4');
  let stream: net.Socket | undefined;
  let closed = false;
  let rest: Buffer = Buffer.alloc(0);
  let peer = o.peer;
  let markReady: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => (markReady = resolve));

  const connect = () => {
    if (closed) return;
    const s = net.createConnection(o.unixPath);
    s.on('connect', () => {
      stream = s;
      rest = Buffer.alloc(0);
      markReady();
    });
    s.on('data', (chunk: Buffer) => {
      rest = splitDummyStream(rest.length === 0 ? chunk : Buffer.concat([rest, chunk]), (frame) => {
        if (!peer) {
          counters.dropped++;
          return;
        }
        counters.toHost++;
        udp.send(frame, peer.port, peer.host);
      });
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (stream === s) stream = undefined;
      if (!closed) setTimeout(connect, RECONNECT_MS).unref();
    });
  };

  udp.on('message', (frame) => {
    if (frame.length < ETH_HEADER_LEN || frame.length > MAX_FRAME_LEN || !stream) {
      counters.dropped++;
      return;
    }
    counters.toSwitch++;
    stream.write(frameForDummyStream(frame));
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(o.bind.port, o.bind.host, () => resolve());
  });
  connect();

  return {
    counters,
    ready: () => readyPromise,
    address: () => ({ host: o.bind.host, port: udp.address().port }),
    setPeer(p) {
      peer = p;
    },
    async close() {
      closed = true;
      stream?.destroy();
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    },
  };
}
