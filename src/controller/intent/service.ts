/**
 * The intent service: the one place that validates and applies a change to the intent (VPCs, subnets,
 * endpoints, elastic IPs, load balancers, volumes, security groups, network ACLs) or to the topology.
 * Callers reach each resource by name (`await intent.vpcs.create(...)`, `await intent.topology.addLink(...)`);
 * each resource is a module of this folder that validates against the committed state and hands its
 * changes to the one commit path here:
 *
 *   validate against the applied state -> one store transaction, guarded by the revision validated
 *   against -> the store's watch applies it to the in-memory index -> the change listeners
 *
 * A write resolves once it is committed AND applied here (read-your-writes); `settled()` then waits
 * for the switches. The SQLite store applies a commit before `commit` returns; the etcd store as this
 * controller's watch hears it, which also applies every other controller's commits in the same order.
 * A commit that loses a race with another controller is validated again against the newer state a few
 * times, then refused (OVC_ERR_STORE_CONFLICT). Writes from this process run one at a time.
 *
 * Addresses come in as text (`10.0.0.0/24`, `02:00:00:00:00:01`) exactly as the API receives them;
 * errors name the API field (`body.cidr`, `params.id`) so the REST layer passes them through unchanged.
 */
import type { Logger } from 'pino';
import { OvercastError } from '../../errors/index.js';
import type { Intent, Topology } from '../../model/index.js';
import { IntentIndex } from '../store/intent-index.js';
import { ID_KINDS, formatId, type IdCounters, type IdKind, type IntentStore, type StoreBatch, type StoreWrite, type StoredState } from '../store/intent-store.js';
import { PlacementIndex } from '../store/placement-index.js';
import type { CommittedChange, CommittedChangeListener, IntentObjects, ObjectKind } from './changes.js';
import type { IntentContext, IntentDraft, IntentView } from './context.js';
import { ElasticIpResource } from './elastic-ips.js';
import { EndpointResource } from './endpoints.js';
import { LoadBalancerResource } from './load-balancers.js';
import { NetworkAclResource } from './network-acls.js';
import { SecurityGroupResource, defaultGroup, missingDefaultGroups } from './security-groups.js';
import { OrderedLists, paginate, type Page, type PageRequest } from './pagination.js';
import { SubnetResource } from './subnets.js';
import { TopologyResource } from './topology.js';
import { VolumeResource } from './volumes.js';
import { VpcResource } from './vpcs.js';

/** The resource modules by the name callers reach them by. A new resource is one line here. */
const RESOURCES = {
  vpcs: VpcResource,
  subnets: SubnetResource,
  endpoints: EndpointResource,
  elasticIps: ElasticIpResource,
  loadBalancers: LoadBalancerResource,
  volumes: VolumeResource,
  securityGroups: SecurityGroupResource,
  networkAcls: NetworkAclResource,
  topology: TopologyResource,
} satisfies Record<string, new (ctx: IntentContext) => object>;

export type IntentResources = { readonly [K in keyof typeof RESOURCES]: InstanceType<(typeof RESOURCES)[K]> };

/** Times a write is validated and committed before a race lost every time refuses it. */
export const COMMIT_ATTEMPTS = 8;
/**
 * A write that lost a race waits a random time below this, doubled per loss, before it validates
 * again, so that two controllers writing steadily do not keep colliding in step.
 */
export const CONFLICT_BACKOFF_MS = 4;
/**
 * How long a write waits for this controller's watch to deliver its own commit. Past it the request
 * fails (OVC_ERR_STORE_UNAVAILABLE: committed, not yet readable here) instead of hanging.
 */
export const APPLY_TIMEOUT_MS = 10_000;
/** How often the applied state is checked against the store's newest revision (stores that can tell). */
export const FRESHNESS_CHECK_INTERVAL_MS = 1000;

/** How current the state reads come from is. */
export interface Freshness {
  /** The store revision applied here. */
  revision: number;
  /**
   * Milliseconds since this controller last knew the store held nothing newer than `revision`: reads
   * may miss changes committed elsewhere within that window. 0 with the embedded SQLite store.
   */
  stalenessMs: number;
}

export interface IntentService extends IntentResources {
  /** The committed intent, immutable: later changes leave a handed-out snapshot as it was. */
  intent(): Intent;
  /** Returns the unsubscribe function. */
  onChange(listener: CommittedChangeListener): () => void;
  /**
   * Resolves once every committed change is installed on the switches. The intent runtime provides
   * the waiting (setSettler); without one (no runtime) a change counts as installed once committed.
   */
  settled(): Promise<void>;
  setSettler(settler: (() => Promise<void>) | undefined): void;
  /** The revision the in-memory state is at, and how stale it may be. */
  freshness(): Freshness;
  /** Resolves once the in-memory state has applied `revision` (or a later one). */
  applied(revision: number): Promise<void>;
  /** Stops watching the store (the store itself is the caller's to close). */
  close(): void;
}

export interface IntentServiceOptions {
  /** The topology a new store starts with (from the topology file); ignored once the store has one. */
  seedTopology?: Topology;
}
export interface IntentServiceComponents {
  store: IntentStore;
  logger?: Logger;
  /** Monotonic milliseconds for freshness (default performance.now). */
  nowMs?: () => number;
  /** [0, 1) for the backoff after a lost race (default Math.random). */
  random?: () => number;
}

export async function createIntentService(options: IntentServiceOptions, components: IntentServiceComponents): Promise<IntentService> {
  const state = new CommittedState(await components.store.load(), components);
  const seed = options.seedTopology ?? EMPTY_TOPOLOGY;
  // A new store gets the seed; of two controllers seeding one store, one wins and the other finds it.
  await state.write((tx) => {
    if (!state.hasTopology) tx.commit([{ kind: 'topology', before: EMPTY_TOPOLOGY, topology: seed }]);
  });
  // A VPC stored before security groups existed gets its default group, and its endpoints that name
  // no group join it (docs/security-groups.md); a controller that finds this done commits nothing.
  await state.write((tx) => addMissingDefaultGroups(state.index, tx));
  const resources = Object.fromEntries(Object.entries(RESOURCES).map(([name, Resource]) => [name, new Resource(state)])) as IntentResources;
  return {
    ...resources,
    intent: () => state.index.snapshot(),
    onChange: (listener) => state.onChange(listener),
    settled: () => state.settled(),
    setSettler: (settler) => state.setSettler(settler),
    freshness: () => state.freshness(),
    applied: (revision) => state.applied(revision),
    close: () => state.close(),
  };
}

const EMPTY_TOPOLOGY: Topology = { name: 'overcast', switches: [], links: [], hosts: [] };

function addMissingDefaultGroups(index: IntentView, tx: IntentDraft): void {
  const defaults = new Map(index.defaultGroupOf);
  for (const vpc of missingDefaultGroups(index)) defaults.set(vpc.id, tx.create('securityGroup', (id) => defaultGroup(vpc, id)).id);
  tx.commit(
    [...index.endpoints.values()]
      .filter((e) => e.securityGroups === undefined && defaults.has(e.vpcId))
      .map((e): CommittedChange => ({ kind: 'endpoint', op: 'update', before: e, after: { ...e, securityGroups: [defaults.get(e.vpcId) ?? ''] } })),
  );
}
const NONE = new Map<string, never>();

/**
 * How a change of each object kind updates the index, and where a snapshot holds the objects. A new
 * kind of stored object is one entry here (the type checker asks for it).
 */
interface KindOps<T> {
  index(index: IntentIndex, x: T): void;
  unindex(index: IntentIndex, id: string): void;
  all(intent: Intent): ReadonlyMap<string, T>;
}

const KINDS: { [K in ObjectKind]: KindOps<IntentObjects[K]> } = {
  vpc: { index: (i, x) => i.putVpc(x), unindex: (i, id) => i.removeVpc(id), all: (t) => t.vpcs },
  subnet: { index: (i, x) => i.putSubnet(x), unindex: (i, id) => i.removeSubnet(id), all: (t) => t.subnets },
  endpoint: { index: (i, x) => i.putEndpoint(x), unindex: (i, id) => i.removeEndpoint(id), all: (t) => t.endpoints },
  elasticIp: { index: (i, x) => i.putElasticIp(x), unindex: (i, id) => i.removeElasticIp(id), all: (t) => t.elasticIps ?? NONE },
  loadBalancer: { index: (i, x) => i.putLoadBalancer(x), unindex: (i, id) => i.removeLoadBalancer(id), all: (t) => t.loadBalancers ?? NONE },
  volume: { index: (i, x) => i.putVolume(x), unindex: (i, id) => i.removeVolume(id), all: (t) => t.volumes ?? NONE },
  attachment: { index: (i, x) => i.putAttachment(x), unindex: (i, id) => i.removeAttachment(id), all: (t) => t.attachments ?? NONE },
  securityGroup: { index: (i, x) => i.putSecurityGroup(x), unindex: (i, id) => i.removeSecurityGroup(id), all: (t) => t.securityGroups ?? NONE },
  networkAcl: { index: (i, x) => i.putNetworkAcl(x), unindex: (i, id) => i.removeNetworkAcl(id), all: (t) => t.networkAcls ?? NONE },
};

function all<K extends ObjectKind>(kind: K, intent: Intent): ReadonlyMap<string, IntentObjects[K]> {
  const ops: KindOps<IntentObjects[K]> = KINDS[kind];
  return ops.all(intent);
}

/** The change applied to the index. */
function indexChange(index: IntentIndex, c: Exclude<CommittedChange, { kind: 'topology' }>): void {
  const ops = KINDS[c.kind] as KindOps<unknown>;
  if (c.op === 'delete') ops.unindex(index, c.before.id);
  else ops.index(index, c.after);
}

/** The store record of a change. */
function toWrite(c: CommittedChange): StoreWrite {
  if (c.kind === 'topology') return { kind: 'topology', value: c.topology };
  return (c.op === 'delete' ? { kind: c.kind, id: c.before.id } : { kind: c.kind, id: c.after.id, value: c.after }) as StoreWrite;
}

/** The changes a transaction collects while a resource validates (IntentDraft). */
class Draft implements IntentDraft {
  readonly changes: CommittedChange[] = [];
  readonly lastSeq: Partial<Record<IdKind, number>> = {};

  constructor(private readonly seqs: IdCounters) {}

  commit(changes: readonly CommittedChange[]): void {
    // One by one: a migration commits one change per endpoint, past what a spread call's arguments hold.
    for (const c of changes) this.changes.push(c);
  }

  create<K extends ObjectKind>(kind: K, build: (id: string) => IntentObjects[K]): IntentObjects[K] {
    const seq = (this.lastSeq[kind] ?? this.seqs[kind]) + 1;
    this.lastSeq[kind] = seq;
    const after = build(formatId(kind, seq));
    this.changes.push({ kind, op: 'add', after } as CommittedChange);
    return after;
  }
}

/** The applied state and the commit protocol: the context every resource module works in. */
class CommittedState implements IntentContext {
  index: IntentIndex;
  placement: PlacementIndex;
  hasTopology: boolean;
  private lastSeq: Record<IdKind, number>;
  private revision: number;
  private readonly store: IntentStore;
  private readonly logger: Logger | undefined;
  private readonly nowMs: () => number;
  private readonly random: () => number;
  private readonly listeners = new Set<CommittedChangeListener>();
  private readonly lists = new OrderedLists();
  private settler: (() => Promise<void>) | undefined;
  /** Writes of this process, one at a time: each validates against the state the one before left. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly waiters: { revision: number; resolve: () => void }[] = [];
  private readonly unwatch: () => void;
  private confirmedAtMs: number;
  private confirming = false;
  private readonly freshnessTimer: NodeJS.Timeout | undefined;

  constructor(loaded: StoredState, components: IntentServiceComponents) {
    this.store = components.store;
    this.logger = components.logger;
    this.nowMs = components.nowMs ?? (() => performance.now());
    this.random = components.random ?? Math.random;
    this.index = new IntentIndex(loaded.intent);
    this.placement = new PlacementIndex(loaded.topology ?? EMPTY_TOPOLOGY);
    this.hasTopology = loaded.topology !== undefined;
    this.lastSeq = { ...loaded.lastSeq };
    this.revision = loaded.revision;
    this.confirmedAtMs = this.nowMs();
    this.unwatch = this.store.watch(loaded.revision, {
      batch: (b) => this.apply(b),
      reset: (s) => this.reset(s),
      error: (err) => this.logger?.error({ err }, 'intent store watch failed'),
    });
    if (this.store.head) {
      this.freshnessTimer = setInterval(() => void this.confirm(), FRESHNESS_CHECK_INTERVAL_MS);
      this.freshnessTimer.unref();
    }
  }

  /**
   * Runs `decide` (validation, then the changes through the draft) against the applied state and
   * commits what it collected; again against the newer state when another writer got in first.
   */
  write<T>(decide: (tx: IntentDraft) => T): Promise<T> {
    const run = this.queue.then(() => this.attempt(decide, 1));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async attempt<T>(decide: (tx: IntentDraft) => T, n: number): Promise<T> {
    const draft = new Draft(this.lastSeq);
    const result = decide(draft);
    if (draft.changes.length === 0) return result;
    const r = await this.store.commit({ basedOn: this.revision, writes: draft.changes.map(toWrite), lastSeq: draft.lastSeq });
    await this.appliedWithin(r.revision);
    if (r.ok) return result;
    if (n >= COMMIT_ATTEMPTS) throw new OvercastError('OVC_ERR_STORE_CONFLICT', `the intent kept changing under this request (${n} attempts); send it again`, 'body');
    await new Promise((resolve) => setTimeout(resolve, this.random() * CONFLICT_BACKOFF_MS * 2 ** (n - 1)));
    return this.attempt(decide, n + 1);
  }

  private async appliedWithin(revision: number): Promise<void> {
    if (this.revision >= revision) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OvercastError('OVC_ERR_STORE_UNAVAILABLE', `revision ${revision} is committed but did not reach this controller within ${APPLY_TIMEOUT_MS} ms`)), APPLY_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.applied(revision), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  list<K extends ObjectKind>(kind: K, page: PageRequest, keep: (x: IntentObjects[K]) => boolean): Page<IntentObjects[K]> {
    return paginate(kind, this.lists.of(kind, all(kind, this.index.snapshot())), page, keep);
  }

  onChange(listener: CommittedChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  settled(): Promise<void> {
    return this.settler ? this.settler() : Promise.resolve();
  }

  setSettler(settler: (() => Promise<void>) | undefined): void {
    this.settler = settler;
  }

  applied(revision: number): Promise<void> {
    if (this.revision >= revision) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ revision, resolve }));
  }

  freshness(): Freshness {
    return { revision: this.revision, stalenessMs: this.store.head ? Math.max(0, Math.round(this.nowMs() - this.confirmedAtMs)) : 0 };
  }

  close(): void {
    clearInterval(this.freshnessTimer);
    this.unwatch();
  }

  /** Asks the store for its newest revision: when this state has it, the state was current just now. */
  private async confirm(): Promise<void> {
    if (this.confirming || !this.store.head) return;
    this.confirming = true;
    const askedAtMs = this.nowMs();
    try {
      if ((await this.store.head()) <= this.revision) this.confirmedAtMs = askedAtMs;
    } catch (err) {
      this.logger?.debug({ err }, 'intent store freshness check failed');
    } finally {
      this.confirming = false;
    }
  }

  /** One committed transaction, from the watch: the in-memory state in its order, then the listeners. */
  private apply(b: StoreBatch): void {
    if (b.revision <= this.revision) return;
    const changes: CommittedChange[] = [];
    for (const w of b.writes) {
      const c = this.toChange(w);
      if (!c) continue;
      changes.push(c);
      if (c.kind === 'topology') {
        this.placement = new PlacementIndex(c.topology);
        this.hasTopology = true;
      } else indexChange(this.index, c);
    }
    for (const kind of ID_KINDS) this.lastSeq[kind] = Math.max(this.lastSeq[kind], b.lastSeq[kind] ?? 0);
    this.advance(b.revision);
    this.report(changes);
  }

  /** The watch starts over from a whole state: what differs from ours is reported as one batch. */
  private reset(s: StoredState): void {
    const before = this.index.snapshot();
    const changes: CommittedChange[] = [];
    for (const kind of ID_KINDS) {
      const was: ReadonlyMap<string, { id: string }> = all(kind, before);
      const now: ReadonlyMap<string, { id: string }> = all(kind, s.intent);
      for (const [id, x] of was) if (!now.has(id)) changes.push({ kind, op: 'delete', before: x } as CommittedChange);
      for (const [id, x] of now) {
        const old = was.get(id);
        if (!old) changes.push({ kind, op: 'add', after: x } as CommittedChange);
        else if (JSON.stringify(old) !== JSON.stringify(x)) changes.push({ kind, op: 'update', before: old, after: x } as CommittedChange);
      }
    }
    if (s.topology && JSON.stringify(s.topology) !== JSON.stringify(this.placement.topology)) changes.push({ kind: 'topology', before: this.placement.topology, topology: s.topology });
    this.index = new IntentIndex(s.intent);
    if (s.topology) this.placement = new PlacementIndex(s.topology);
    this.hasTopology = s.topology !== undefined;
    this.lastSeq = { ...s.lastSeq };
    this.logger?.warn({ from: this.revision, to: s.revision, changes: changes.length }, 'intent store watch restarted from a full load');
    this.advance(s.revision);
    this.report(changes);
  }

  private advance(revision: number): void {
    this.revision = Math.max(this.revision, revision);
    this.confirmedAtMs = this.nowMs();
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].revision > this.revision) continue;
      this.waiters[i].resolve();
      this.waiters.splice(i, 1);
    }
  }

  private toChange(w: StoreWrite): CommittedChange | undefined {
    if (w.kind === 'topology') return { kind: 'topology', before: this.placement.topology, topology: w.value };
    // The index's own maps (an Intent too): a snapshot here would copy every map once per write.
    const before = all(w.kind, this.index).get(w.id);
    if (w.value === undefined) return before ? ({ kind: w.kind, op: 'delete', before } as CommittedChange) : undefined;
    return (before ? { kind: w.kind, op: 'update', before, after: w.value } : { kind: w.kind, op: 'add', after: w.value }) as CommittedChange;
  }

  private report(changes: readonly CommittedChange[]): void {
    if (changes.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch (err) {
        // The change is committed and acknowledged; a failing consumer must not turn it into an error.
        this.logger?.error({ err }, 'intent change listener failed');
      }
    }
  }
}
