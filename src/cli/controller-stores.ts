/**
 * Where a controller keeps what must outlive it: intent, API tokens, idempotency keys and webhook
 * subscriptions. By default one SQLite file (`--data DIR`, or memory without it), the embedded store
 * of a single controller; with `--store etcd://HOST:PORT[,...]` an etcd every controller of a cluster
 * shares (docs/cluster.md).
 */
import type { IdempotencyStore } from '../controller/auth/idempotency-store.js';
import { createSqliteIdempotencyStore, createSqliteTokenStore } from '../controller/auth/index.js';
import type { TokenStore } from '../controller/auth/token-store.js';
import { connectEtcd, type EtcdConnection } from '../controller/store/etcd/etcd-connection.js';
import { createEtcdIntentStore } from '../controller/store/etcd/etcd-intent-store.js';
import { createEtcdIdempotencyStore, createEtcdTokenStore, createEtcdWebhookStore } from '../controller/store/etcd/etcd-side-stores.js';
import { openIntentStore, openIntentStoreInDir, type IntentStore } from '../controller/store/index.js';
import { createSqliteWebhookStore, type WebhookStore } from '../controller/webhook-store.js';
import { OvercastError } from '../errors/index.js';

export interface ControllerStores {
  readonly intent: IntentStore;
  readonly tokens: TokenStore;
  readonly idempotency: IdempotencyStore;
  readonly webhooks: WebhookStore;
  /** The etcd connection when the stores are on etcd (the cluster's membership uses it too). */
  readonly etcd?: EtcdConnection;
  close(): Promise<void>;
}

/** `--store` (`etcd://...`; absent: SQLite) and `--data` (SQLite's directory). */
export function openControllerStores(o: { store?: string; data?: string }): ControllerStores {
  if (o.store !== undefined && o.store !== 'sqlite') {
    if (!o.store.startsWith('etcd://')) throw new OvercastError('OVC_ERR_STORE_BAD_URL', `--store takes sqlite or etcd://HOST:PORT[,HOST:PORT...]: ${o.store}`, 'store');
    if (o.data !== undefined) throw new OvercastError('OVC_ERR_STORE_BAD_URL', '--data (SQLite) and --store etcd://... exclude each other', 'data');
    const etcd = connectEtcd(o.store);
    const intent = createEtcdIntentStore(etcd);
    return {
      intent,
      tokens: createEtcdTokenStore(etcd),
      idempotency: createEtcdIdempotencyStore(etcd),
      webhooks: createEtcdWebhookStore(etcd),
      etcd,
      async close() {
        await intent.close();
        etcd.close();
      },
    };
  }
  const sqlite = o.data ? openIntentStoreInDir(o.data) : openIntentStore(':memory:');
  return {
    intent: sqlite,
    tokens: createSqliteTokenStore(sqlite.database),
    idempotency: createSqliteIdempotencyStore(sqlite.database),
    webhooks: createSqliteWebhookStore(sqlite.database),
    close: () => sqlite.close(),
  };
}
