import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTopology } from '../../../src/model/index.js';

export const TOPOLOGY = parseTopology(`
name: t
switches:
  - { name: s1, dpid: 1, ports: [1, 2, 3, 4, 5, 6, 7, 8] }
  - { name: s2, dpid: 2, ports: [1, 2, 3, 4, 5, 6, 7, 8] }
links:
  - [s1:8, s2:8]
hosts:
  - { name: h1, mac: "02:00:00:00:00:01", ip: 192.168.0.1/24, attach: s1:1 }
`);

/** A fresh directory, removed by the returned function. */
export function tempDir(): { dir: string; file: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'overcast-store-'));
  return { dir, file: path.join(dir, 'intent.sqlite'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
