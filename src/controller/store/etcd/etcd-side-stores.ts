/**
 * What a controller keeps beside the intent, on etcd so that every controller of a cluster shares it:
 * webhook subscriptions (`webhooks/<id>`), API tokens (`tokens/<id>`) and idempotency keys
 * (`idempotency/<owner>/<key>`), each one JSON value. Writes that depend on what is there (a token
 * inserted only when new, a revocation, an idempotency reservation) are etcd Txns compared on the
 * key's revision, retried when another controller wrote the key between the read and the write.
 */
import { createHash } from 'node:crypto';
import type { Namespace, Watcher } from 'etcd3';
import { IDEMPOTENCY_PENDING_MS, IDEMPOTENCY_RETENTION_MS, type IdempotencyStore, type IdempotencyWindows, type Reservation } from '../../auth/idempotency-store.js';
import type { StoredToken, TokenStore } from '../../auth/token-store.js';
import type { StoredWebhook, WebhookStore } from '../../webhook-store.js';
import { etcdCall, type EtcdConnection } from './etcd-connection.js';

/** Compare-and-set attempts before a write that keeps racing gives up (503). */
const CAS_ATTEMPTS = 10;

async function values<T>(ns: Namespace, prefix: string, what: string): Promise<T[]> {
  const all = await etcdCall(what, () => ns.getAll().prefix(prefix).strings());
  return Object.values(all).map((v) => JSON.parse(v) as T);
}

/** The value and mod revision of a key (revision 0: absent). */
async function read<T>(ns: Namespace, key: string, what: string): Promise<{ value: T | undefined; mod: number }> {
  const res = await etcdCall(what, () => ns.get(key).exec());
  const kv = res.kvs[0];
  return kv ? { value: JSON.parse(kv.value.toString()) as T, mod: Number(kv.mod_revision) } : { value: undefined, mod: 0 };
}

/** Puts the key only if its mod revision is still `mod` (0: only if absent). */
async function putIf(ns: Namespace, key: string, mod: number, value: unknown, what: string): Promise<boolean> {
  const res = await etcdCall(what, () => ns.if(key, 'Mod', '==', mod).then(ns.put(key).value(JSON.stringify(value))).commit());
  return res.succeeded;
}

export function createEtcdWebhookStore(conn: EtcdConnection): WebhookStore {
  const ns = conn.ns;
  return {
    async insert(w) {
      await etcdCall('store a webhook', () => ns.put(`webhooks/${w.id}`).value(JSON.stringify(w)).exec());
    },
    async remove(id) {
      const res = await etcdCall('delete a webhook', () => ns.delete().key(`webhooks/${id}`).exec());
      return Number(res.deleted) > 0;
    },
    async list() {
      const all = await values<StoredWebhook>(ns, 'webhooks/', 'list webhooks');
      return all.sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
    },
    watch(changed) {
      let stopped = false;
      let watcher: Watcher | undefined;
      ns.watch()
        .prefix('webhooks/')
        .create()
        .then((w) => {
          if (stopped) return void w.cancel().catch(() => undefined);
          watcher = w;
          w.on('data', () => changed());
          // A watch resumed after etcd was away may have missed changes: read them again.
          w.on('connected', () => changed());
          w.on('error', () => undefined);
        })
        .catch(() => undefined);
      return () => {
        stopped = true;
        void watcher?.cancel().catch(() => undefined);
      };
    },
  };
}

export function createEtcdTokenStore(conn: EtcdConnection): TokenStore {
  const ns = conn.ns;
  const key = (id: string) => `tokens/${id}`;
  return {
    async insert(t) {
      return putIf(ns, key(t.id), 0, t, 'store a token');
    },
    async get(id) {
      return (await read<StoredToken>(ns, key(id), 'read a token')).value;
    },
    async list() {
      const all = await values<StoredToken>(ns, 'tokens/', 'list tokens');
      return all.sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
    },
    async revoke(id, atMs) {
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const { value, mod } = await read<StoredToken>(ns, key(id), 'read a token');
        if (!value) return undefined;
        if (value.revokedAtMs !== undefined) return value;
        const revoked = { ...value, revokedAtMs: atMs };
        if (await putIf(ns, key(id), mod, revoked, 'revoke a token')) return revoked;
      }
      throw await etcdCall('revoke a token', () => Promise.reject(new Error('the token kept changing')));
    },
  };
}

interface KeyRecord {
  fingerprint: string;
  createdAtMs: number;
  status?: number;
  body?: string;
}

export function createEtcdIdempotencyStore(
  conn: EtcdConnection,
  windows: IdempotencyWindows = { retentionMs: IDEMPOTENCY_RETENTION_MS, pendingMs: IDEMPOTENCY_PENDING_MS },
): IdempotencyStore {
  const ns = conn.ns;
  // The owner (a token id) and the client's key, hashed: any text makes a valid etcd key.
  const key = (owner: string, k: string) => `idempotency/${createHash('sha256').update(owner).update('\0').update(k).digest('hex')}`;
  return {
    async reserve(owner, k, fingerprint, nowMs): Promise<Reservation> {
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const { value, mod } = await read<KeyRecord>(ns, key(owner, k), 'read an idempotency key');
        const expired = value && (value.createdAtMs < nowMs - windows.retentionMs || (value.status === undefined && value.createdAtMs < nowMs - windows.pendingMs));
        if (value && !expired) {
          if (value.fingerprint !== fingerprint) return { kind: 'mismatch' };
          if (value.status === undefined || value.body === undefined) return { kind: 'in-flight' };
          return { kind: 'replay', answer: { status: value.status, body: value.body } };
        }
        if (await putIf(ns, key(owner, k), mod, { fingerprint, createdAtMs: nowMs }, 'reserve an idempotency key')) return { kind: 'reserved' };
      }
      return { kind: 'in-flight' };
    },
    async complete(owner, k, answer) {
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const { value, mod } = await read<KeyRecord>(ns, key(owner, k), 'read an idempotency key');
        if (!value || value.status !== undefined) return;
        if (await putIf(ns, key(owner, k), mod, { ...value, status: answer.status, body: answer.body }, 'complete an idempotency key')) return;
      }
    },
    async release(owner, k) {
      await etcdCall('release an idempotency key', () => ns.delete().key(key(owner, k)).exec());
    },
  };
}
