/**
 * `overcast host` as a process: a control port already taken ends it at once with exit code 1 and a
 * message naming the address and the reason, never with an unhandled 'error' event's stack.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/overcast.js', import.meta.url));

describe('overcast host', () => {
  it('exits 1 with a clear message when its control port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const child = spawn(process.execPath, [BIN, 'host', '--name', 'hx', '--mac', '02:00:00:00:00:01', '--ip', '10.0.0.5/24', '--port', 'udp://127.0.0.1:0@udp://127.0.0.1:9', '--control', `http://127.0.0.1:${port}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(1);
      expect(stderr).toContain(`host hx: cannot listen on http://127.0.0.1:${port} for its control API: EADDRINUSE`);
      expect(stderr).not.toContain("Unhandled 'error' event");
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  }, 60_000);
});
