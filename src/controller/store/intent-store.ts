/**
 * The intent store's contract, which both the embedded SQLite store (./sqlite-intent-store.ts) and
 * the etcd store (./etcd/etcd-intent-store.ts) implement: a transaction of writes that commits or fails
 * whole, guarded by the revision of the state it was validated against, and a watch that delivers
 * every committed transaction in revision order.
 *
 * The store only persists and orders; the intent service (src/controller/intent/service.ts)
 * validates, and applies what the watch delivers to its in-memory state. docs/cluster.md.
 */
import type { Attachment, ElasticIp, Endpoint, Intent, LoadBalancer, NetworkAcl, SecurityGroup, Subnet, Topology, Volume, Vpc } from '../../model/index.js';

/** Id prefixes; an id is `<prefix>-<seq>`. */
export const ID_PREFIX = {
  vpc: 'vpc',
  subnet: 'subnet',
  endpoint: 'ep',
  elasticIp: 'eip',
  loadBalancer: 'lb',
  volume: 'vol',
  attachment: 'att',
  securityGroup: 'sg',
  networkAcl: 'acl',
} as const;
export type IdKind = keyof typeof ID_PREFIX;
export const ID_KINDS = Object.keys(ID_PREFIX) as readonly IdKind[];

/** The stored intent objects by kind. */
export interface StoredObjects {
  vpc: Vpc;
  subnet: Subnet;
  endpoint: Endpoint;
  elasticIp: ElasticIp;
  loadBalancer: LoadBalancer;
  volume: Volume;
  attachment: Attachment;
  securityGroup: SecurityGroup;
  networkAcl: NetworkAcl;
}

/** One record a transaction writes: an object put (`value`) or deleted (no `value`), or the topology. */
export type StoreWrite = { [K in IdKind]: { readonly kind: K; readonly id: string; readonly value?: StoredObjects[K] } }[IdKind] | { readonly kind: 'topology'; readonly value: Topology };

/** Highest seq given out per kind (ids are never reused). */
export type IdCounters = Readonly<Record<IdKind, number>>;

/** Everything the store holds, as of one revision. */
export interface StoredState {
  readonly intent: Intent;
  /** Absent in a new store: the caller seeds it (from the topology file). */
  readonly topology: Topology | undefined;
  readonly lastSeq: IdCounters;
  /** The revision of the last transaction this state includes (0: none yet). */
  readonly revision: number;
}

export interface StoreTransaction {
  /**
   * The revision of the state the writes were validated against. The transaction commits only if no
   * other transaction committed since: two writers that validated against the same state cannot both win.
   */
  readonly basedOn: number;
  readonly writes: readonly StoreWrite[];
  /** The id counters this transaction advanced, with their new values. */
  readonly lastSeq?: Partial<IdCounters>;
}

/**
 * `ok`: committed at `revision`. Not ok: another transaction committed first; `revision` is a revision
 * the store has reached, which the writer's state must catch up with before it validates again.
 */
export type CommitResult = { readonly ok: true; readonly revision: number } | { readonly ok: false; readonly revision: number };

/** A committed transaction as the watch delivers it: its writes in order and the counters it advanced. */
export interface StoreBatch {
  readonly revision: number;
  readonly writes: readonly StoreWrite[];
  readonly lastSeq: Partial<IdCounters>;
}

export interface StoreWatchHandlers {
  batch(b: StoreBatch): void;
  /**
   * The watch cannot go on from where it was (etcd compacted the revisions it needed): the watcher
   * reloads the whole state. The store then delivers batches after that state.
   */
  reset?(state: StoredState): void;
  error?(e: Error): void;
}

export interface IntentStore {
  /** Where it keeps intent, for logs and GET /v1/cluster (`sqlite:<file>`, `etcd://...`). */
  readonly location: string;
  load(): Promise<StoredState>;
  /** Commits the writes as one transaction, or nothing when the state moved since `basedOn`. */
  commit(tx: StoreTransaction): Promise<CommitResult>;
  /**
   * Delivers every transaction committed after `afterRevision`, in revision order, one batch per
   * transaction. The SQLite store delivers synchronously inside `commit`; etcd as its watch hears.
   * Returns the unsubscribe.
   */
  watch(afterRevision: number, handlers: StoreWatchHandlers): () => void;
  /**
   * The store's newest intent revision, asked of the store now (a store shared across processes has
   * it; one in this process needs none: its watch is never behind).
   */
  head?(): Promise<number>;
  close(): Promise<void>;
}

/** `seq` of an id of the kind (`ep-17` -> 17), or undefined. */
export function idSeq(kind: IdKind, id: string): number | undefined {
  const prefix = `${ID_PREFIX[kind]}-`;
  if (!id.startsWith(prefix)) return undefined;
  const digits = id.slice(prefix.length);
  if (!/^[1-9][0-9]{0,14}$/.test(digits)) return undefined;
  return Number(digits);
}

export function formatId(kind: IdKind, seq: number): string {
  return `${ID_PREFIX[kind]}-${seq}`;
}

export const NO_IDS: IdCounters = { vpc: 0, subnet: 0, endpoint: 0, elasticIp: 0, loadBalancer: 0, volume: 0, attachment: 0, securityGroup: 0, networkAcl: 0 };
