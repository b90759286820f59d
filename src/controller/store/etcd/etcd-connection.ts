/**
 * One connection to etcd (the npm `etcd3` client over gRPC) shared by everything a controller keeps
 * there: intent, webhook subscriptions, API tokens, idempotency keys and the cluster's membership and
 * mastership. All keys live under one prefix (default `/overcast/`), so several clusters can share an
 * etcd. docs/cluster.md lists the keys.
 */
import { createRequire } from 'node:module';
import type { Etcd3, Namespace } from 'etcd3';
import { OvercastError } from '../../../errors/index.js';

/**
 * etcd3 (with gRPC and its protocol files) is loaded when a controller connects to etcd, not when any
 * `overcast` process starts: switches and hosts never need it, and a lab starts dozens of them.
 */
const loadModule = createRequire(import.meta.url);
const loadEtcd3 = (): typeof import('etcd3') => loadModule('etcd3') as typeof import('etcd3');

export const DEFAULT_ETCD_PREFIX = '/overcast/';
/** How long one etcd call may take before the request that made it fails (503). */
export const ETCD_CALL_TIMEOUT_MS = 5000;

export interface EtcdStoreUrl {
  /** `http://HOST:PORT` of every member given. */
  readonly hosts: readonly string[];
  readonly prefix: string;
}

/** Parses `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]`; throws OVC_ERR_STORE_BAD_URL. */
export function parseEtcdUrl(url: string, field = 'store'): EtcdStoreUrl {
  const m = /^etcd:\/\/([^/]+)(\/.*)?$/.exec(url);
  if (!m) throw new OvercastError('OVC_ERR_STORE_BAD_URL', `not an etcd://HOST:PORT[,HOST:PORT...] URL: ${url}`, field);
  const hosts = m[1].split(',').map((h) => h.trim());
  for (const h of hosts) {
    if (!/^[A-Za-z0-9.\-[\]:]+:[0-9]{1,5}$/.test(h)) throw new OvercastError('OVC_ERR_STORE_BAD_URL', `not HOST:PORT: ${h}`, field);
  }
  const path = m[2] && m[2] !== '/' ? m[2] : DEFAULT_ETCD_PREFIX;
  return { hosts: hosts.map((h) => `http://${h}`), prefix: path.endsWith('/') ? path : `${path}/` };
}

export interface EtcdConnection {
  /** `etcd://...`, for logs and GET /v1/cluster. */
  readonly location: string;
  readonly client: Etcd3;
  /** The client inside the cluster's prefix. */
  readonly ns: Namespace;
  /** The key prefix of `ns`. */
  readonly prefix: string;
  close(): void;
}

export function connectEtcd(url: string): EtcdConnection {
  const parsed = parseEtcdUrl(url);
  const { Etcd3: Client } = loadEtcd3();
  const client: Etcd3 = new Client({
    hosts: [...parsed.hosts], dialTimeout: ETCD_CALL_TIMEOUT_MS, defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS }),
  });
  return {
    location: `etcd://${parsed.hosts.map((h) => h.slice('http://'.length)).join(',')}${parsed.prefix === DEFAULT_ETCD_PREFIX ? '' : parsed.prefix.slice(0, -1)}`,
    client,
    ns: client.namespace(parsed.prefix),
    prefix: parsed.prefix,
    close: () => client.close(),
  };
}

/** An etcd call's failure as the API reports it (503): the store did not answer. */
export function storeUnavailable(err: unknown, what: string): OvercastError {
  if (err instanceof OvercastError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  const e = new OvercastError('OVC_ERR_STORE_UNAVAILABLE', `the intent store did not answer (${what}): ${reason}`);
  (e as { cause?: unknown }).cause = err;
  return e;
}

/** Runs an etcd call, turning its failure into OVC_ERR_STORE_UNAVAILABLE. */
export async function etcdCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw storeUnavailable(err, what);
  }
}
