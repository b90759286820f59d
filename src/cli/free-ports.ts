/** Find free ports on 127.0.0.1 by binding port 0 and closing (the lab needs addresses before peers start). */
import dgram from 'node:dgram';
import net from 'node:net';

interface Held {
  port: number;
  close(): Promise<void>;
}

/** Binds `count` sockets at once and closes them only when every port is known, so none repeats. */
async function holdFreePorts(count: number, bind: () => Promise<Held>): Promise<number[]> {
  const held = await Promise.all(Array.from({ length: count }, bind));
  await Promise.all(held.map((h) => h.close()));
  return held.map((h) => h.port);
}

const bindUdp = () =>
  new Promise<Held>((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve({ port: s.address().port, close: () => new Promise<void>((r) => s.close(() => r())) }));
  });

const bindTcp = () =>
  new Promise<Held>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve({ port: (srv.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => srv.close(() => r())) }));
  });

export function freeUdpPorts(count: number): Promise<number[]> {
  return holdFreePorts(count, bindUdp);
}

/** Free TCP ports: for anything listening over HTTP or TCP (a port free in UDP may be taken in TCP). */
export function freeTcpPorts(count: number): Promise<number[]> {
  return holdFreePorts(count, bindTcp);
}

export async function freeTcpPort(): Promise<number> {
  return (await freeTcpPorts(1))[0];
}
