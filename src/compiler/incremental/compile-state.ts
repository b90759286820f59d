/**
 * What every engine node reads: the topology and its routing view, the working copies of the intent
 * (with their indexes and claim rules: intent, services, volumes), the gateways, and where each VPC is present.
 */
import type { Intent, Topology } from '../../model/index.js';
import { createFabricContext, type FabricContext } from '../fabric-context.js';
import { IntentState } from '../intent-state.js';
import { SecurityState } from '../security-state.js';
import { ServiceState } from '../service-state.js';
import { VolumeState } from '../volume-state.js';
import { topologyGateways, type ServingGateway } from './exits.js';
import { Presence } from './presence.js';

/**
 * Values derived from the state that several nodes read in one engine run (computed by the first that
 * asks). They hold still during a run: the intent and topology change only between runs, and a run
 * places nodes in order, so what a later node reads of an earlier node's placements is final. Outside
 * a run nothing is kept.
 */
export class RunCache<T> {
  private readonly values = new Map<string, T | undefined>();

  constructor(private readonly state: { readonly running: boolean }) {}

  get<A>(id: string, arg: A, compute: (arg: A) => T | undefined): T | undefined {
    if (!this.state.running) return compute(arg);
    if (this.values.has(id)) return this.values.get(id);
    const value = compute(arg);
    this.values.set(id, value);
    return value;
  }

  clear(): void {
    this.values.clear();
  }
}

export class CompileState {
  topology!: Topology;
  fabric!: FabricContext;
  /** The topology's gateways on known switches, by name. */
  gateways: readonly ServingGateway[] = [];
  readonly intent: IntentState;
  readonly services = new ServiceState();
  readonly volumes = new VolumeState();
  readonly security = new SecurityState();
  readonly presence = new Presence();
  /** Whether the engine is in a run (RunCache keeps values only then). */
  running = false;
  private readonly runCaches = new Map<string, RunCache<unknown>>();

  constructor(topology: Topology, intent: Intent) {
    this.intent = new IntentState(topology, intent);
    for (const x of intent.elasticIps?.values() ?? []) this.services.putElasticIp(x);
    for (const lb of intent.loadBalancers?.values() ?? []) this.services.putLoadBalancer(lb);
    for (const v of intent.volumes?.values() ?? []) this.volumes.putVolume(v);
    for (const a of intent.attachments?.values() ?? []) this.volumes.putAttachment(a);
    for (const g of intent.securityGroups?.values() ?? []) this.security.putGroup(g);
    for (const acl of intent.networkAcls?.values() ?? []) this.security.putAcl(acl);
    this.setTopology(topology);
  }

  /** The run cache named `name` (one per name and state). */
  runCache<T>(name: string): RunCache<T> {
    let cache = this.runCaches.get(name);
    if (!cache) this.runCaches.set(name, (cache = new RunCache<unknown>(this)));
    return cache as RunCache<T>;
  }

  /** Brackets one engine run: run caches keep values from `beginRun` until `endRun` drops them. */
  beginRun(): void {
    this.running = true;
  }

  endRun(): void {
    this.running = false;
    for (const cache of this.runCaches.values()) cache.clear();
  }

  setTopology(topology: Topology): void {
    this.topology = topology;
    this.fabric = createFabricContext(topology);
    this.intent.setTopology(topology);
    this.gateways = topologyGateways(topology, this.fabric);
    this.presence.setFabric(this.fabric);
  }

  /** The intent as it stands, in fresh maps. */
  currentIntent(): Intent {
    return {
      vpcs: new Map(this.intent.vpcs),
      subnets: new Map(this.intent.subnets),
      endpoints: new Map(this.intent.endpoints),
      elasticIps: new Map(this.services.elasticIps),
      loadBalancers: new Map(this.services.loadBalancers),
      volumes: new Map(this.volumes.volumes),
      attachments: new Map(this.volumes.attachments),
      securityGroups: new Map(this.security.groups),
      networkAcls: new Map(this.security.acls),
    };
  }
}
