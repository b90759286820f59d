/**
 * The intent store on etcd, shared by every controller of a cluster. Keys (under the cluster prefix):
 *
 *   intent/obj/<kind>/<id>   one object, JSON
 *   intent/topology          the topology document (./../topology-document.ts)
 *   intent/seq/<kind>        the highest id seq given out
 *   intent/tx                the last transaction: its writes, counters and id, JSON
 *
 * A transaction is one etcd Txn: if `intent/tx`'s mod revision is still the revision the writes were
 * validated against, put and delete every key and `intent/tx`; else nothing. So the intent revision
 * is `intent/tx`'s mod revision, two controllers that validated against one state cannot both commit
 * (no lost update), and each controller's watch of `intent/tx` sees every transaction once, whole, in
 * etcd's order. A watch whose history etcd compacted starts again from a full load.
 *
 * A Txn the client retried after its first attempt did commit fails the compare the second time; the
 * id in `intent/tx` tells that the committed transaction is this one.
 *
 * Fairness: a controller that loses a race takes `intent-claim` (on a short lease) if nobody holds
 * it; while it is held only its holder's Txn can commit (the others' compare that it is absent), and
 * the holder's commit deletes it. So two controllers writing without pause take turns instead of the
 * faster one winning every race.
 */
import { randomUUID } from 'node:crypto';
import type { IOperation, Lease, Namespace, Watcher } from 'etcd3';
import type { Endpoint, Intent, Topology } from '../../../model/index.js';
import {
  ID_KINDS,
  NO_IDS,
  idSeq,
  type CommitResult,
  type IdCounters,
  type IdKind,
  type IntentStore,
  type StoreBatch,
  type StoreTransaction,
  type StoreWatchHandlers,
  type StoreWrite,
  type StoredObjects,
  type StoredState,
} from '../intent-store.js';
import { decodeTopologyDocument, encodeTopologyDocument } from '../topology-document.js';
import { etcdCall, type EtcdConnection } from './etcd-connection.js';

const TX_KEY = 'intent/tx';
/** Outside `intent/`: not part of the state a load reads. */
const CLAIM_KEY = 'intent-claim';
/** A claim whose holder died is gone after this long. */
const CLAIM_TTL_S = 2;
/** A claim its holder does not use this soon (its write gave up) is released. */
const CLAIM_IDLE_MS = 250;
const TOPOLOGY_KEY = 'intent/topology';
const objKey = (kind: IdKind, id: string) => `intent/obj/${kind}/${id}`;
const seqKey = (kind: IdKind) => `intent/seq/${kind}`;

/** A write as `intent/tx` records it: the topology as its document. */
type TxWrite = Exclude<StoreWrite, { kind: 'topology' }> | { kind: 'topology'; doc: string };
interface TxRecord {
  id: string;
  writes: TxWrite[];
  lastSeq: Partial<IdCounters>;
}

const isKind = (k: string): k is IdKind => (ID_KINDS as readonly string[]).includes(k);

function encodeWrite(w: StoreWrite): TxWrite {
  return w.kind === 'topology' ? { kind: 'topology', doc: encodeTopologyDocument(w.value) } : w;
}

function decodeWrite(w: TxWrite): StoreWrite {
  return w.kind === 'topology' ? { kind: 'topology', value: decodeTopologyDocument(w.doc) } : w;
}

function emptyObjects(): { [K in IdKind]: Map<string, StoredObjects[K]> } {
  return {
    vpc: new Map(),
    subnet: new Map(),
    endpoint: new Map(),
    elasticIp: new Map(),
    loadBalancer: new Map(),
    volume: new Map(),
    attachment: new Map(),
    securityGroup: new Map(),
    networkAcl: new Map(),
  };
}

/** Objects of a kind in id-seq order (etcd lists keys as text: `ep-10` before `ep-2`). */
function bySeq<T>(kind: IdKind, m: Map<string, T>): Map<string, T> {
  return new Map([...m].sort(([a], [b]) => (idSeq(kind, a) ?? 0) - (idSeq(kind, b) ?? 0)));
}

export function createEtcdIntentStore(conn: EtcdConnection): IntentStore {
  return new EtcdIntentStore(conn);
}

class EtcdIntentStore implements IntentStore {
  readonly location: string;
  private readonly ns: Namespace;
  private readonly watchers = new Set<Watcher>();
  private closed = false;
  /** This store's id in `intent-claim`. */
  private readonly writer = randomUUID();
  /** The lease of the claim this store holds (undefined: holds none). */
  private claim: Lease | undefined;
  /** Commits started, to tell whether a claim was used. */
  private commits = 0;

  constructor(conn: EtcdConnection) {
    this.location = conn.location;
    this.ns = conn.ns;
  }

  async load(): Promise<StoredState> {
    const res = await etcdCall('load the intent', () => this.ns.getAll().prefix('intent/').exec());
    const objects = emptyObjects();
    const lastSeq: Record<IdKind, number> = { ...NO_IDS };
    let topology: Topology | undefined;
    let revision = 0;
    for (const kv of res.kvs) {
      const key = kv.key.toString(); // a multi-key range answer's keys come without the namespace
      const value = kv.value.toString();
      if (key === TX_KEY) revision = Number(kv.mod_revision);
      else if (key === TOPOLOGY_KEY) topology = decodeTopologyDocument(value);
      else if (key.startsWith('intent/seq/')) {
        const kind = key.slice('intent/seq/'.length);
        if (isKind(kind)) lastSeq[kind] = Number(value);
      } else if (key.startsWith('intent/obj/')) {
        const [kind, id] = key.slice('intent/obj/'.length).split('/');
        if (isKind(kind)) (objects[kind] as Map<string, unknown>).set(id, JSON.parse(value));
      }
    }
    const intent: Intent = {
      vpcs: bySeq('vpc', objects.vpc),
      subnets: bySeq('subnet', objects.subnet),
      endpoints: bySeq('endpoint', objects.endpoint) as Map<string, Endpoint>,
      elasticIps: bySeq('elasticIp', objects.elasticIp),
      loadBalancers: bySeq('loadBalancer', objects.loadBalancer),
      volumes: bySeq('volume', objects.volume),
      attachments: bySeq('attachment', objects.attachment),
      securityGroups: bySeq('securityGroup', objects.securityGroup),
      networkAcls: bySeq('networkAcl', objects.networkAcl),
    };
    return { intent, topology, lastSeq, revision };
  }

  async commit(t: StoreTransaction): Promise<CommitResult> {
    const id = randomUUID();
    this.commits++;
    const record: TxRecord = { id, writes: t.writes.map(encodeWrite), lastSeq: t.lastSeq ?? {} };
    const ops: IOperation[] = [];
    for (const w of t.writes) {
      if (w.kind === 'topology') ops.push(this.ns.put(TOPOLOGY_KEY).value(encodeTopologyDocument(w.value)));
      else if (w.value === undefined) ops.push(this.ns.delete().key(objKey(w.kind, w.id)));
      else ops.push(this.ns.put(objKey(w.kind, w.id)).value(JSON.stringify(w.value)));
    }
    for (const kind of ID_KINDS) {
      const seq = t.lastSeq?.[kind];
      if (seq !== undefined) ops.push(this.ns.put(seqKey(kind)).value(String(seq)));
    }
    ops.push(this.ns.put(TX_KEY).value(JSON.stringify(record)));
    const claim = this.claim;
    if (claim) ops.push(this.ns.delete().key(CLAIM_KEY));
    const res = await etcdCall('commit', () => {
      const txn = this.ns.if(TX_KEY, 'Mod', '==', t.basedOn);
      if (claim) txn.and(CLAIM_KEY, 'Value', '==', this.writer);
      else txn.and(CLAIM_KEY, 'Create', '==', 0);
      return txn
        .then(...ops)
        .else(this.ns.get(TX_KEY), this.ns.get(CLAIM_KEY))
        .commit();
    });
    if (res.succeeded) {
      if (claim) this.dropClaim(claim);
      return { ok: true, revision: Number(res.header.revision) };
    }
    const kv = res.responses[0]?.response_range?.kvs[0];
    const revision = kv ? Number(kv.mod_revision) : 0;
    if (kv && (JSON.parse(kv.value.toString()) as TxRecord).id === id) return { ok: true, revision };
    const holder = res.responses[1]?.response_range?.kvs[0];
    if (claim && holder?.value.toString() !== this.writer) this.dropClaim(claim); // it expired
    if (!this.claim && !holder) await this.takeClaim();
    return { ok: false, revision };
  }

  /** After a lost race: the next commit is this store's turn, unless another store holds the claim. */
  private async takeClaim(): Promise<void> {
    const lease = this.ns.lease(CLAIM_TTL_S, { autoKeepAlive: false });
    try {
      const leaseId = await lease.grant();
      const res = await this.ns.if(CLAIM_KEY, 'Create', '==', 0).then(this.ns.put(CLAIM_KEY).value(this.writer).lease(leaseId)).commit();
      if (!res.succeeded) return this.dropClaim(lease);
      this.claim = lease;
      const commits = this.commits;
      setTimeout(() => {
        if (this.claim === lease && this.commits === commits) this.dropClaim(lease);
      }, CLAIM_IDLE_MS).unref();
    } catch {
      this.dropClaim(lease);
    }
  }

  private dropClaim(lease: Lease): void {
    if (this.claim === lease) this.claim = undefined;
    void lease.revoke().catch(() => undefined);
  }

  async head(): Promise<number> {
    const res = await etcdCall('read the intent revision', () => this.ns.get(TX_KEY).exec());
    const kv = res.kvs[0];
    return kv ? Number(kv.mod_revision) : 0;
  }

  watch(afterRevision: number, handlers: StoreWatchHandlers): () => void {
    let stopped = false;
    let current: Watcher | undefined;
    let delivered = afterRevision;
    const start = async (from: number): Promise<void> => {
      const w = await this.ns
        .watch()
        .key(TX_KEY)
        .startRevision(String(from + 1))
        .create();
      if (stopped || this.closed) {
        await w.cancel();
        return;
      }
      current = w;
      this.watchers.add(w);
      w.on('put', (kv) => {
        const revision = Number(kv.mod_revision);
        if (revision <= delivered) return;
        delivered = revision;
        try {
          const r = JSON.parse(kv.value.toString()) as TxRecord;
          const batch: StoreBatch = { revision, writes: r.writes.map(decodeWrite), lastSeq: r.lastSeq };
          handlers.batch(batch);
        } catch (err) {
          handlers.error?.(err as Error);
        }
      });
      w.on('error', (err: Error) => {
        this.watchers.delete(w);
        if (stopped || this.closed) return;
        // etcd ends a watch whose start revision it compacted: start over from a full load.
        void this.restart(w, handlers, (s) => {
          delivered = s.revision;
          return start(s.revision);
        }, err);
      });
    };
    start(afterRevision).catch((err: unknown) => handlers.error?.(err as Error));
    return () => {
      stopped = true;
      if (current) {
        this.watchers.delete(current);
        void current.cancel().catch(() => undefined);
      }
    };
  }

  private async restart(old: Watcher, handlers: StoreWatchHandlers, resume: (s: StoredState) => Promise<void>, why: Error): Promise<void> {
    void old.cancel().catch(() => undefined);
    handlers.error?.(why);
    for (;;) {
      if (this.closed) return;
      try {
        const s = await this.load();
        handlers.reset?.(s);
        await resume(s);
        return;
      } catch (err) {
        handlers.error?.(err as Error);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.claim) this.dropClaim(this.claim);
    await Promise.all([...this.watchers].map((w) => w.cancel().catch(() => undefined)));
    this.watchers.clear();
  }
}
