/**
 * A switch port's peer set after start (how a lab wires ports once every process has reported the
 * port it bound): frames then go to the new peer and come back from it; the same peer again changes
 * nothing; a port bound to port 0 refuses a second, different peer (a disconnect would cost it its
 * local port); a port bound to a fixed port can be re-pointed.
 */
import dgram from 'node:dgram';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpPort } from '../../src/switch/udp-port.js';
import { waitFor } from '../support/wait-for.js';

const PROBE = Buffer.alloc(26);
const logger = pino({ level: 'silent' });

interface Peer {
  socket: dgram.Socket;
  port: number;
  got: Buffer[];
}

async function peer(): Promise<Peer> {
  const socket = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, port: socket.address().port, got };
}

function until(what: string, cond: () => boolean): Promise<unknown> {
  return waitFor(what, cond);
}

describe('UdpPort.setPeer', () => {
  const closing: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of closing.splice(0)) await c();
  });

  const startPort = async (localPort: number, frames: Buffer[] = []) => {
    const port = new UdpPort({ portNo: 1, name: 'p1', localHost: '127.0.0.1', localPort }, (_p, f) => frames.push(f), logger, Date.now);
    await port.start();
    closing.push(() => port.stop());
    return port;
  };
  const startPeer = async () => {
    const p = await peer();
    closing.push(() => p.socket.close());
    return p;
  };

  it('sends to the peer it is given after start, probe first, and receives from it', async () => {
    const frames: Buffer[] = [];
    const port = await startPort(0, frames);
    const a = await startPeer();
    await port.setPeer('127.0.0.1', a.port, PROBE);
    expect(port.send(Buffer.alloc(60, 7))).toBe(true);
    await until('the probe and the frame at the peer', () => a.got.length === 2);
    expect(a.got.map((f) => f.length)).toEqual([PROBE.length, 60]);
    a.socket.send(Buffer.alloc(64, 1), port.localAddress().port, '127.0.0.1');
    await until('the frame from the peer', () => frames.length === 1);
  });

  it('keeps its peer when given the same one, and refuses another on a port bound to port 0', async () => {
    const port = await startPort(0);
    const [a, b] = [await startPeer(), await startPeer()];
    await port.setPeer('127.0.0.1', a.port, PROBE);
    const local = port.localAddress().port;
    await port.setPeer('127.0.0.1', a.port, PROBE);
    await expect(port.setPeer('127.0.0.1', b.port, PROBE)).rejects.toMatchObject({ code: 'OVC_ERR_SWITCH_BAD_OPTION' });
    expect(port.localAddress().port).toBe(local);
    expect(port.peer()).toEqual({ host: '127.0.0.1', port: a.port });
  });

  it('moves to a new peer on a port bound to a fixed port, keeping that port', async () => {
    // A restarted switch's case: it binds the port it had.
    const first = await startPort(0);
    const fixed = first.localAddress().port;
    await first.stop();
    const port = await startPort(fixed);
    const [a, b] = [await startPeer(), await startPeer()];
    await port.setPeer('127.0.0.1', a.port, PROBE);
    await port.setPeer('127.0.0.1', b.port, PROBE);
    expect(port.localAddress().port).toBe(fixed);
    port.send(Buffer.alloc(60));
    await until('the frame at the new peer', () => b.got.some((f) => f.length === 60));
    expect(a.got.some((f) => f.length === 60)).toBe(false);
  });
});
