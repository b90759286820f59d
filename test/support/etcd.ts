/**
 * A real etcd for a test: started in a temp dir on loopback ports (src/lab/etcd-process.ts), ready
 * once etcd's /health answers, stopped and its dir removed by `stop()`. Skips nothing: a machine
 * without `etcd` (Debian's etcd-server) fails the test that asks for one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEtcd, type EtcdCluster } from '../../src/lab/etcd-process.js';

export interface TestEtcd extends EtcdCluster {
  readonly dir: string;
}

export async function startTestEtcd(members = 1): Promise<TestEtcd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overcast-etcd-'));
  try {
    const cluster = await startEtcd({ dir, members });
    return {
      ...cluster,
      dir,
      async stop() {
        await cluster.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A fresh key prefix per test, so tests sharing one etcd never see each other's keys. */
let prefixes = 0;
export function etcdUrl(etcd: EtcdCluster, name = `t${++prefixes}`): string {
  return `${etcd.url}/${name}-${process.pid}`;
}
