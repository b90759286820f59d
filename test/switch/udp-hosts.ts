/** Test hosts: UDP sockets on 127.0.0.1 that send frames to a switch port and collect what comes back. */
import dgram from 'node:dgram';

export interface TestHost {
  port: number;
  received: Buffer[];
  send(frame: Uint8Array, toPort: number): void;
  waitFrames(n: number, timeoutMs?: number): Promise<Buffer[]>;
  close(): Promise<void>;
}

export async function startHost(): Promise<TestHost> {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  let waiters: (() => void)[] = [];
  socket.on('message', (m) => {
    // Hosts ignore the switch's link liveness probes (LLDP EtherType), as real hosts ignore LLDP.
    if (m.length >= 14 && m[12] === 0x88 && m[13] === 0xcc) return;
    received.push(m);
    for (const w of waiters) w();
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    received,
    send: (frame, toPort) => socket.send(frame, toPort, '127.0.0.1'),
    waitFrames: (n, timeoutMs = 3000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (received.length >= n) {
            clearTimeout(timer);
            waiters = waiters.filter((w) => w !== check);
            resolve(received.slice(0, n));
          }
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} frames, got ${received.length}`)), timeoutMs);
        waiters.push(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        try {
          socket.close(() => resolve());
        } catch {
          resolve(); // already closed
        }
      }),
  };
}
