/**
 * The intent service: the one place that validates and applies a change to the intent (VPCs, subnets,
 * endpoints, elastic IPs, load balancers) or to the topology. Callers reach each resource by name
 * (`intent.vpcs.create(...)`, `intent.topology.addLink(...)`); each resource is a module of this
 * folder that validates against the committed state and hands its changes to the commit here:
 * one store transaction, then the in-memory index, then the change listeners, all before the caller
 * acknowledges.
 *
 * Addresses come in as text (`10.0.0.0/24`, `02:00:00:00:00:01`) exactly as the API receives them;
 * errors name the API field (`body.cidr`, `params.id`) so the REST layer passes them through unchanged.
 */
import type { Logger } from 'pino';
import type { Intent, Topology } from '../../model/index.js';
import { IntentIndex } from '../store/intent-index.js';
import type { IntentStore, StoreWriter } from '../store/intent-store.js';
import { PlacementIndex } from '../store/placement-index.js';
import type { CommittedChange, CommittedChangeListener, IntentObjects, ObjectChangeOf, ObjectKind } from './changes.js';
import type { IntentContext } from './context.js';
import { ElasticIpResource } from './elastic-ips.js';
import { EndpointResource } from './endpoints.js';
import { LoadBalancerResource } from './load-balancers.js';
import { NetworkAclResource } from './network-acls.js';
import { SecurityGroupResource, defaultGroup, missingDefaultGroups } from './security-groups.js';
import { OrderedLists, paginate, type Page, type PageRequest } from './pagination.js';
import { SubnetResource } from './subnets.js';
import { TopologyResource } from './topology.js';
import { VpcResource } from './vpcs.js';

/** The resource modules by the name callers reach them by. A new resource is one line here. */
const RESOURCES = {
  vpcs: VpcResource,
  subnets: SubnetResource,
  endpoints: EndpointResource,
  elasticIps: ElasticIpResource,
  loadBalancers: LoadBalancerResource,
  securityGroups: SecurityGroupResource,
  networkAcls: NetworkAclResource,
  topology: TopologyResource,
} satisfies Record<string, new (ctx: IntentContext) => object>;

export type IntentResources = { readonly [K in keyof typeof RESOURCES]: InstanceType<(typeof RESOURCES)[K]> };

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
}

export interface IntentServiceOptions {
  /** The topology a new store starts with (from the topology file); ignored once the store has one. */
  seedTopology?: Topology;
}
export interface IntentServiceComponents {
  store: IntentStore;
  logger?: Logger;
}

export function createIntentService(options: IntentServiceOptions, components: IntentServiceComponents): IntentService {
  const state = new CommittedState(options, components);
  const resources = Object.fromEntries(Object.entries(RESOURCES).map(([name, Resource]) => [name, new Resource(state)])) as IntentResources;
  return {
    ...resources,
    intent: () => state.index.snapshot(),
    onChange: (listener) => state.onChange(listener),
    settled: () => state.settled(),
    setSettler: (settler) => state.setSettler(settler),
  };
}

/** How a change of each object kind is stored and indexed, and where a snapshot holds the objects. */
interface KindOps<T> {
  write(w: StoreWriter, x: T): void;
  erase(w: StoreWriter, id: string): void;
  index(index: IntentIndex, x: T): void;
  unindex(index: IntentIndex, id: string): void;
  all(intent: Intent): ReadonlyMap<string, T>;
}

const NONE = new Map<string, never>();

const KINDS: { [K in ObjectKind]: KindOps<IntentObjects[K]> } = {
  vpc: {
    write: (w, x) => w.putVpc(x),
    erase: (w, id) => w.deleteVpc(id),
    index: (i, x) => i.putVpc(x),
    unindex: (i, id) => i.removeVpc(id),
    all: (t) => t.vpcs,
  },
  subnet: {
    write: (w, x) => w.putSubnet(x),
    erase: (w, id) => w.deleteSubnet(id),
    index: (i, x) => i.putSubnet(x),
    unindex: (i, id) => i.removeSubnet(id),
    all: (t) => t.subnets,
  },
  endpoint: {
    write: (w, x) => w.putEndpoint(x),
    erase: (w, id) => w.deleteEndpoint(id),
    index: (i, x) => i.putEndpoint(x),
    unindex: (i, id) => i.removeEndpoint(id),
    all: (t) => t.endpoints,
  },
  elasticIp: {
    write: (w, x) => w.putElasticIp(x),
    erase: (w, id) => w.deleteElasticIp(id),
    index: (i, x) => i.putElasticIp(x),
    unindex: (i, id) => i.removeElasticIp(id),
    all: (t) => t.elasticIps ?? NONE,
  },
  loadBalancer: {
    write: (w, x) => w.putLoadBalancer(x),
    erase: (w, id) => w.deleteLoadBalancer(id),
    index: (i, x) => i.putLoadBalancer(x),
    unindex: (i, id) => i.removeLoadBalancer(id),
    all: (t) => t.loadBalancers ?? NONE,
  },
  securityGroup: {
    write: (w, x) => w.putSecurityGroup(x),
    erase: (w, id) => w.deleteSecurityGroup(id),
    index: (i, x) => i.putSecurityGroup(x),
    unindex: (i, id) => i.removeSecurityGroup(id),
    all: (t) => t.securityGroups ?? NONE,
  },
  networkAcl: {
    write: (w, x) => w.putNetworkAcl(x),
    erase: (w, id) => w.deleteNetworkAcl(id),
    index: (i, x) => i.putNetworkAcl(x),
    unindex: (i, id) => i.removeNetworkAcl(id),
    all: (t) => t.networkAcls ?? NONE,
  },
};

function writeChange<K extends ObjectKind>(w: StoreWriter, c: ObjectChangeOf<K>): void {
  const ops: KindOps<IntentObjects[K]> = KINDS[c.kind];
  if (c.op === 'delete') ops.erase(w, c.before.id);
  else ops.write(w, c.after);
}

function indexChange<K extends ObjectKind>(index: IntentIndex, c: ObjectChangeOf<K>): void {
  const ops: KindOps<IntentObjects[K]> = KINDS[c.kind];
  if (c.op === 'delete') ops.unindex(index, c.before.id);
  else ops.index(index, c.after);
}

const EMPTY_TOPOLOGY: Topology = { name: 'overcast', switches: [], links: [], hosts: [] };

/** The committed state and the commit protocol: the context every resource module works in. */
class CommittedState implements IntentContext {
  readonly index: IntentIndex;
  placement: PlacementIndex;
  private readonly store: IntentStore;
  private readonly logger: Logger | undefined;
  private readonly listeners = new Set<CommittedChangeListener>();
  private readonly lists = new OrderedLists();
  private settler: (() => Promise<void>) | undefined;

  constructor(options: IntentServiceOptions, components: IntentServiceComponents) {
    this.store = components.store;
    this.logger = components.logger;
    const loaded = this.store.load();
    this.index = new IntentIndex(loaded.intent);
    let topology = loaded.topology;
    if (!topology) {
      const seed = options.seedTopology ?? EMPTY_TOPOLOGY;
      this.store.transaction((w) => w.putTopology(seed));
      topology = seed;
    }
    this.placement = new PlacementIndex(topology);
    // A VPC stored before security groups existed gets its default group now, and its endpoints join
    // it (docs/security-groups.md).
    for (const vpc of missingDefaultGroups(this.index)) this.create('securityGroup', (id) => defaultGroup(vpc, id));
    this.commit(
      [...this.index.endpoints.values()]
        .filter((e) => e.securityGroups === undefined && this.index.defaultGroupOf.has(e.vpcId))
        .map((e): CommittedChange => ({ kind: 'endpoint', op: 'update', before: e, after: { ...e, securityGroups: [this.index.defaultGroupOf.get(e.vpcId) ?? ''] } })),
    );
  }

  commit(changes: readonly CommittedChange[]): void {
    if (changes.length === 0) return;
    this.store.transaction((w) => {
      for (const c of changes) {
        if (c.kind === 'topology') w.putTopology(c.topology);
        else writeChange(w, c);
      }
    });
    this.applyAndReport(changes);
  }

  create<K extends ObjectKind>(kind: K, build: (id: string) => IntentObjects[K]): IntentObjects[K] {
    const after = this.store.transaction((w) => {
      const x = build(w.nextId(kind));
      KINDS[kind].write(w, x);
      return x;
    });
    this.applyAndReport([{ kind, op: 'add', after } as CommittedChange]);
    return after;
  }

  list<K extends ObjectKind>(kind: K, page: PageRequest, keep: (x: IntentObjects[K]) => boolean): Page<IntentObjects[K]> {
    const all: ReadonlyMap<string, IntentObjects[K]> = KINDS[kind].all(this.index.snapshot());
    return paginate(kind, this.lists.of(kind, all), page, keep);
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

  /** After the commit: the in-memory state in the changes' order, then the listeners. */
  private applyAndReport(changes: readonly CommittedChange[]): void {
    for (const c of changes) {
      if (c.kind === 'topology') this.placement = new PlacementIndex(c.topology);
      else indexChange(this.index, c);
    }
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
