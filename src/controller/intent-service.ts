/**
 * IntentService: the one place that validates and applies a change to the intent (VPCs, subnets,
 * endpoints) or to the topology. Each change is checked against the current state (every problem at
 * once where that makes sense), written to the store in one transaction, applied in memory, and then
 * reported to the change listeners as typed records. Only after all that does the caller acknowledge.
 *
 * Addresses come in as text (`10.0.0.0/24`, `02:00:00:00:00:01`) exactly as the API receives them;
 * errors name the API field (`body.cidr`, `params.id`) so the REST layer passes them through unchanged.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { OvercastError, isOvercastError, type ErrorCode, type ProblemDetail } from '../errors/index.js';
import {
  ENDPOINT_KINDS,
  GATEWAY_MAC,
  MAX_VNI,
  addLink,
  markBackendHealth,
  withUnhealthy,
  addSwitch,
  removeLink,
  removeSwitch,
  setLinkUp,
  LB_PROTOCOLS,
  type ElasticIp,
  type Endpoint,
  type EndpointKind,
  type HealthMarkSource,
  type Intent,
  type LbProtocol,
  type LoadBalancer,
  type PortRef,
  type Subnet,
  type SwitchSpec,
  type Topology,
  type Vpc,
} from '../model/index.js';
import { Cidr, formatCidr, formatIpv4, formatMac, isMac, isMulticastMac, parseCidr, parseIpv4, parseMac } from '../net/index.js';
import { IntentIndex, cidrOf, portKey } from './store/intent-index.js';
import { PlacementIndex } from './store/placement-index.js';
import { idSeq, type IdKind, type IntentStore } from './store/intent-store.js';

/** One change of one object. `before`/`after` are whole values: a consumer needs nothing else. */
export type ObjectChange<K extends string, T> =
  | { readonly kind: K; readonly op: 'add'; readonly after: T }
  | { readonly kind: K; readonly op: 'update'; readonly before: T; readonly after: T }
  | { readonly kind: K; readonly op: 'delete'; readonly before: T };

export type IntentChange =
  | ObjectChange<'vpc', Vpc>
  | ObjectChange<'subnet', Subnet>
  | ObjectChange<'endpoint', Endpoint>
  | ObjectChange<'elasticIp', ElasticIp>
  | ObjectChange<'loadBalancer', LoadBalancer>
  | { readonly kind: 'topology'; readonly before: Topology; readonly topology: Topology };

/**
 * Called once per committed transaction with its changes in the order they apply (a VPC delete
 * carries its subnets' deletes first). Called synchronously, after the commit and the in-memory update.
 */
export type IntentChangeListener = (changes: readonly IntentChange[]) => void;

export interface CreateVpcInput {
  name: string;
  cidr: string;
}
export interface UpdateVpcInput {
  name?: string;
  /** A new address space; it must still cover every subnet. */
  cidr?: string;
}
export interface CreateSubnetInput {
  name?: string;
  cidr: string;
  /** Default: the first host address. */
  gateway?: string;
}
export interface CreateEndpointInput {
  kind: EndpointKind;
  vpc: string;
  subnet: string;
  dpid: number;
  port: number;
  /** Default: a locally administered unicast MAC no one else holds. */
  mac?: string;
  /** Default: the subnet's lowest free address. */
  ip?: string;
  labels?: Record<string, string>;
}
/** A move (either or both of dpid and port) and/or a relabel (labels are replaced whole). */
export interface UpdateEndpointInput {
  dpid?: number;
  port?: number;
  labels?: Record<string, string>;
}

export interface AllocateElasticIpInput {
  /** A particular public address (default: the lowest free one of the gateways' pools). */
  address?: string;
  /** Associate at once. */
  endpoint?: string;
}
export interface UpdateElasticIpInput {
  /** Associate with (or move to) this endpoint; null disassociates. */
  endpoint: string | null;
}
export interface CreateLoadBalancerInput {
  vpc: string;
  vip: string;
  protocol: LbProtocol;
  port: number;
  /** Default: `port`. */
  backendPort?: number;
  function: string;
  weights?: Record<string, number>;
  /** An elastic IP (id) associated with no endpoint: outside clients reach the LB at its publicIp:port. */
  elasticIp?: string;
}
export interface UpdateLoadBalancerInput {
  weights?: Record<string, number>;
  /** Replaces the set of backends out of the pool. */
  unhealthy?: string[];
  /** Put the LB behind this elastic IP; null detaches. */
  elasticIp?: string | null;
}

/** Revision weights are small integers (the compiler scales them to bucket weights). */
export const MAX_REVISION_WEIGHT = 10_000;

export interface PageRequest {
  limit: number;
  /** The `next` of the previous page: items after it are returned. */
  cursor?: string;
}
export interface Page<T> {
  items: T[];
  /** The cursor of the following page, or null on the last one. */
  next: string | null;
}
export interface EndpointFilter {
  vpc?: string;
  subnet?: string;
  kind?: EndpointKind;
  dpid?: number;
  /** Every given label must be present with this value. */
  labels?: Record<string, string>;
}

export interface IntentServiceOptions {
  /** The topology a new store starts with (from the topology file); ignored once the store has one. */
  seedTopology?: Topology;
}
export interface IntentServiceComponents {
  store: IntentStore;
  logger?: Logger;
}

/** Allocated MACs: `06:xx:xx:xx:xx:xx` (locally administered, unicast), distinct from the demo hosts' `02:`. */
export const ENDPOINT_MAC_BASE = 0x060000000000;
/** A subnet must hold network, gateway, one endpoint and broadcast. */
export const MAX_SUBNET_PREFIX = 30;

const EMPTY_TOPOLOGY: Topology = { name: 'overcast', switches: [], links: [], hosts: [] };

export function createIntentService(options: IntentServiceOptions, components: IntentServiceComponents): IntentService {
  return new IntentService(options, components);
}

export class IntentService {
  private readonly store: IntentStore;
  private readonly logger: Logger | undefined;
  private readonly state: IntentIndex;
  private topo: PlacementIndex;
  private readonly listeners = new Set<IntentChangeListener>();
  private readonly orderedCache = new WeakMap<object, Ordered<{ id: string }>>();
  private settler: (() => Promise<void>) | undefined;

  constructor(options: IntentServiceOptions, components: IntentServiceComponents) {
    this.store = components.store;
    this.logger = components.logger;
    const loaded = this.store.load();
    this.state = new IntentIndex(loaded.intent);
    let topology = loaded.topology;
    if (!topology) {
      const seed = options.seedTopology ?? EMPTY_TOPOLOGY;
      this.store.transaction((w) => w.putTopology(seed));
      topology = seed;
    }
    this.topo = new PlacementIndex(topology);
  }

  intent(): Intent {
    return this.state.snapshot();
  }

  topology(): Topology {
    return this.topo.topology;
  }

  /**
   * Resolves once every committed change is installed on the switches. The intent runtime provides
   * the waiting (setSettler); without one (no runtime) a change counts as installed once committed.
   */
  settled(): Promise<void> {
    return this.settler ? this.settler() : Promise.resolve();
  }

  setSettler(settler: (() => Promise<void>) | undefined): void {
    this.settler = settler;
  }

  /** Returns the unsubscribe function. */
  onChange(listener: IntentChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- VPCs ----

  getVpc(id: string, field = 'params.id'): Vpc {
    const v = this.state.vpcs.get(id);
    if (!v) throw new OvercastError('OVC_ERR_VPC_NOT_FOUND', `no VPC ${id}`, field);
    return v;
  }

  listVpcs(page: PageRequest): Page<Vpc> {
    return paginate('vpc', this.ordered('vpc', this.intent().vpcs), page, () => true);
  }

  createVpc(input: CreateVpcInput): Vpc {
    const cidr = parseCidr(input.cidr, 'body.cidr');
    const vni = this.state.lowestFreeVni(MAX_VNI);
    if (vni === undefined) throw new OvercastError('OVC_ERR_VPC_EXHAUSTED', `all ${MAX_VNI} VNIs are taken`, 'body');
    const vpc = this.store.transaction((w) => {
      const v: Vpc = { id: w.nextId('vpc'), name: input.name, cidr: { network: cidr.network, prefixLength: cidr.prefixLength }, vni };
      w.putVpc(v);
      return v;
    });
    this.state.putVpc(vpc);
    this.emit([{ kind: 'vpc', op: 'add', after: vpc }]);
    return vpc;
  }

  updateVpc(id: string, input: UpdateVpcInput): Vpc {
    const before = this.getVpc(id);
    let cidr = before.cidr;
    if (input.cidr !== undefined) {
      const c = parseCidr(input.cidr, 'body.cidr');
      const left = [...this.state.subnetIdsOf(id)].map((s) => this.state.subnets.get(s)).filter((s): s is Subnet => s !== undefined && !c.covers(cidrOf(s)));
      if (left.length > 0) {
        throw new OvercastError('OVC_ERR_SUBNET_OUTSIDE_VPC', `${formatCidr(c)} does not cover subnet ${left[0].id} (${formatCidr(cidrOf(left[0]))})`, 'body.cidr');
      }
      cidr = { network: c.network, prefixLength: c.prefixLength };
    }
    const after: Vpc = { ...before, name: input.name ?? before.name, cidr };
    if (after.name === before.name && after.cidr.network === before.cidr.network && after.cidr.prefixLength === before.cidr.prefixLength) return before;
    this.store.transaction((w) => w.putVpc(after));
    this.state.putVpc(after);
    this.emit([{ kind: 'vpc', op: 'update', before, after }]);
    return after;
  }

  /** Deletes the VPC and its (empty) subnets; refused while it has endpoints. */
  deleteVpc(id: string): void {
    const before = this.getVpc(id);
    const n = this.state.endpointCountOfVpc(id);
    if (n > 0) throw new OvercastError('OVC_ERR_VPC_HAS_ENDPOINTS', `VPC ${id} still has ${n} endpoints`, 'params.id');
    const lb = [...this.state.loadBalancers.values()].find((l) => l.vpcId === id);
    if (lb) throw new OvercastError('OVC_ERR_VPC_HAS_LOAD_BALANCERS', `VPC ${id} still has load balancer ${lb.id}`, 'params.id');
    const subnets = [...this.state.subnetIdsOf(id)].map((s) => this.state.subnets.get(s)).filter((s): s is Subnet => s !== undefined);
    this.store.transaction((w) => {
      for (const s of subnets) w.deleteSubnet(s.id);
      w.deleteVpc(id);
    });
    for (const s of subnets) this.state.removeSubnet(s.id);
    this.state.removeVpc(id);
    this.emit([...subnets.map((s): IntentChange => ({ kind: 'subnet', op: 'delete', before: s })), { kind: 'vpc', op: 'delete', before }]);
  }

  // ---- subnets ----

  getSubnet(vpcId: string, subnetId: string): Subnet {
    this.getVpc(vpcId);
    const s = this.state.subnets.get(subnetId);
    if (!s || s.vpcId !== vpcId) throw new OvercastError('OVC_ERR_SUBNET_NOT_FOUND', `no subnet ${subnetId} in VPC ${vpcId}`, 'params.subnetId');
    return s;
  }

  listSubnets(vpcId: string, page: PageRequest): Page<Subnet> {
    this.getVpc(vpcId);
    return paginate('subnet', this.ordered('subnet', this.intent().subnets), page, (s) => s.vpcId === vpcId);
  }

  createSubnet(vpcId: string, input: CreateSubnetInput): Subnet {
    const vpc = this.getVpc(vpcId);
    const problems: ProblemDetail[] = [];
    const cidr = collect(problems, () => parseCidr(input.cidr, 'body.cidr'));
    if (cidr) {
      const report = (code: ErrorCode, message: string) => problems.push({ code, message, field: 'body.cidr' });
      if (cidr.prefixLength > MAX_SUBNET_PREFIX) report('OVC_ERR_SUBNET_TOO_SMALL', `a subnet needs at least a /${MAX_SUBNET_PREFIX}, not /${cidr.prefixLength}`);
      if (!cidrOf(vpc).covers(cidr)) report('OVC_ERR_SUBNET_OUTSIDE_VPC', `${formatCidr(cidr)} is not inside VPC ${vpc.id} (${formatCidr(cidrOf(vpc))})`);
      for (const id of this.state.subnetIdsOf(vpcId)) {
        const other = this.state.subnets.get(id);
        if (other && cidrOf(other).overlaps(cidr)) {
          report('OVC_ERR_SUBNET_OVERLAP', `${formatCidr(cidr)} overlaps subnet ${other.id} (${formatCidr(cidrOf(other))})`);
          break;
        }
      }
    }
    let gateway: number | undefined;
    if (input.gateway !== undefined) {
      gateway = collect(problems, () => parseIpv4(input.gateway as string, 'body.gateway'));
      if (gateway !== undefined && cidr && cidr.prefixLength <= MAX_SUBNET_PREFIX && cidr.hostIndex(gateway) < 0) {
        problems.push({ code: 'OVC_ERR_SUBNET_BAD_GATEWAY', message: `${formatIpv4(gateway)} is not a host address of ${formatCidr(cidr)}`, field: 'body.gateway' });
      }
    }
    if (problems.length > 0 || !cidr) throw OvercastError.fromProblems(problems);
    const subnet = this.store.transaction((w) => {
      const s: Subnet = {
        id: w.nextId('subnet'),
        vpcId,
        name: input.name ?? formatCidr(cidr),
        cidr: { network: cidr.network, prefixLength: cidr.prefixLength },
        gateway: gateway ?? cidr.firstHost,
      };
      w.putSubnet(s);
      return s;
    });
    this.state.putSubnet(subnet);
    this.emit([{ kind: 'subnet', op: 'add', after: subnet }]);
    return subnet;
  }

  deleteSubnet(vpcId: string, subnetId: string): void {
    const before = this.getSubnet(vpcId, subnetId);
    const n = this.state.endpointCountOfSubnet(subnetId);
    if (n > 0) throw new OvercastError('OVC_ERR_SUBNET_HAS_ENDPOINTS', `subnet ${subnetId} still has ${n} endpoints`, 'params.subnetId');
    this.store.transaction((w) => w.deleteSubnet(subnetId));
    this.state.removeSubnet(subnetId);
    this.emit([{ kind: 'subnet', op: 'delete', before }]);
  }

  // ---- endpoints ----

  getEndpoint(id: string): Endpoint {
    const e = this.state.endpoints.get(id);
    if (!e) throw new OvercastError('OVC_ERR_ENDPOINT_NOT_FOUND', `no endpoint ${id}`, 'params.id');
    return e;
  }

  listEndpoints(filter: EndpointFilter, page: PageRequest): Page<Endpoint> {
    const labels = Object.entries(filter.labels ?? {});
    return paginate(
      'endpoint',
      this.ordered('endpoint', this.intent().endpoints),
      page,
      (e) =>
        (filter.vpc === undefined || e.vpcId === filter.vpc) &&
        (filter.subnet === undefined || e.subnetId === filter.subnet) &&
        (filter.kind === undefined || e.kind === filter.kind) &&
        (filter.dpid === undefined || e.dpid === filter.dpid) &&
        labels.every(([k, v]) => e.labels[k] === v),
    );
  }

  createEndpoint(input: CreateEndpointInput): Endpoint {
    const problems: ProblemDetail[] = [];
    const report = (code: ErrorCode, field: string, message: string) => problems.push({ code, message, field });
    if (!(ENDPOINT_KINDS as readonly string[]).includes(input.kind)) report('OVC_ERR_API_VALIDATION', 'body.kind', `kind must be one of ${ENDPOINT_KINDS.join(', ')}`);
    const vpc = this.state.vpcs.get(input.vpc);
    if (!vpc) report('OVC_ERR_VPC_NOT_FOUND', 'body.vpc', `no VPC ${input.vpc}`);
    let subnet = this.state.subnets.get(input.subnet);
    if (!subnet || (vpc && subnet.vpcId !== vpc.id)) {
      report('OVC_ERR_SUBNET_NOT_FOUND', 'body.subnet', `no subnet ${input.subnet} in VPC ${input.vpc}`);
      subnet = undefined;
    }
    this.checkPlacement(problems, input.dpid, input.port, undefined);
    let ip: number | undefined;
    if (input.ip !== undefined) {
      ip = collect(problems, () => parseIpv4(input.ip as string, 'body.ip'));
      if (ip !== undefined && subnet) this.checkIp(problems, subnet, ip);
    }
    let mac: number | undefined;
    if (input.mac !== undefined) {
      mac = collect(problems, () => parseMac(input.mac as string, 'body.mac'));
      if (mac !== undefined) this.checkMac(problems, mac);
    }
    if (problems.length > 0 || !vpc || !subnet) throw OvercastError.fromProblems(problems);
    const address = ip ?? this.state.lowestFreeIp(subnet);
    if (address === undefined) throw new OvercastError('OVC_ERR_SUBNET_EXHAUSTED', `subnet ${subnet.id} (${formatCidr(cidrOf(subnet))}) has no free address`, 'body.subnet');
    const s = subnet;
    const endpoint = this.store.transaction((w) => {
      const id = w.nextId('endpoint');
      const e: Endpoint = {
        id,
        kind: input.kind,
        vpcId: s.vpcId,
        subnetId: s.id,
        dpid: input.dpid,
        port: input.port,
        mac: mac ?? this.allocateMac(idSeq('endpoint', id) ?? 0),
        ip: address,
        labels: { ...(input.labels ?? {}) },
      };
      w.putEndpoint(e);
      return e;
    });
    this.state.putEndpoint(endpoint);
    this.emit([{ kind: 'endpoint', op: 'add', after: endpoint }]);
    return endpoint;
  }

  updateEndpoint(id: string, input: UpdateEndpointInput): Endpoint {
    const before = this.getEndpoint(id);
    const dpid = input.dpid ?? before.dpid;
    const port = input.port ?? before.port;
    const problems: ProblemDetail[] = [];
    if (dpid !== before.dpid || port !== before.port) this.checkPlacement(problems, dpid, port, id);
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    const after: Endpoint = { ...before, dpid, port, labels: input.labels ? { ...input.labels } : before.labels };
    if (dpid === before.dpid && port === before.port && sameLabels(before.labels, after.labels)) return before;
    this.store.transaction((w) => w.putEndpoint(after));
    this.state.putEndpoint(after);
    this.emit([{ kind: 'endpoint', op: 'update', before, after }]);
    return after;
  }

  /** Deletes the endpoint; an elastic IP associated with it is disassociated in the same transaction. */
  deleteEndpoint(id: string): void {
    const before = this.getEndpoint(id);
    const eips = [...this.state.elasticIps.values()].filter((x) => x.endpointId === id);
    const freed = eips.map((x): ElasticIp => ({ id: x.id, publicIp: x.publicIp }));
    this.store.transaction((w) => {
      for (const x of freed) w.putElasticIp(x);
      w.deleteEndpoint(id);
    });
    for (const x of freed) this.state.putElasticIp(x);
    this.state.removeEndpoint(id);
    this.emit([...eips.map((b, i): IntentChange => ({ kind: 'elasticIp', op: 'update', before: b, after: freed[i] })), { kind: 'endpoint', op: 'delete', before }]);
  }

  // ---- elastic IPs ----

  getElasticIp(id: string): ElasticIp {
    const x = this.state.elasticIps.get(id);
    if (!x) throw new OvercastError('OVC_ERR_EIP_NOT_FOUND', `no elastic IP ${id}`, 'params.id');
    return x;
  }

  listElasticIps(page: PageRequest): Page<ElasticIp> {
    return paginate('elasticIp', this.ordered('elasticIp', this.intent().elasticIps ?? new Map<string, ElasticIp>()), page, () => true);
  }

  allocateElasticIp(input: AllocateElasticIpInput): ElasticIp {
    const pools = (this.topo.topology.gateways ?? []).map((g) => new Cidr(g.publicPool.network, g.publicPool.prefixLength));
    if (pools.length === 0) throw new OvercastError('OVC_ERR_EIP_NO_GATEWAY', 'the topology has no gateway with a public pool', 'body');
    const taken = new Set([...this.state.elasticIps.values()].map((x) => x.publicIp));
    let address: number | undefined;
    if (input.address !== undefined) {
      address = parseIpv4(input.address, 'body.address');
      const a = address;
      if (!pools.some((p) => p.contains(a))) throw new OvercastError('OVC_ERR_EIP_NO_GATEWAY', `${input.address} is in no gateway's public pool`, 'body.address');
      if (taken.has(address)) throw new OvercastError('OVC_ERR_EIP_ADDRESS_TAKEN', `${input.address} is already allocated`, 'body.address');
    } else {
      outer: for (const p of pools) {
        for (let i = 0; i < p.hostCount; i++) {
          const a = p.hostAt(i);
          if (!taken.has(a)) {
            address = a;
            break outer;
          }
        }
      }
      if (address === undefined) throw new OvercastError('OVC_ERR_EIP_POOL_EXHAUSTED', 'every public address is allocated', 'body');
    }
    if (input.endpoint !== undefined) this.checkAssociation(input.endpoint, undefined);
    const publicIp = address;
    const eip = this.store.transaction((w) => {
      const id = w.nextId('elasticIp');
      const x: ElasticIp = input.endpoint === undefined ? { id, publicIp } : { id, publicIp, endpointId: input.endpoint };
      w.putElasticIp(x);
      return x;
    });
    this.state.putElasticIp(eip);
    this.emit([{ kind: 'elasticIp', op: 'add', after: eip }]);
    return eip;
  }

  /** Associate, move (one change: the compiler's delta is make-before-break) or disassociate (null). */
  updateElasticIp(id: string, input: UpdateElasticIpInput): ElasticIp {
    const before = this.getElasticIp(id);
    if ((before.endpointId ?? null) === input.endpoint) return before;
    if (input.endpoint !== null) {
      const lb = this.loadBalancerOf(id);
      if (lb) throw new OvercastError('OVC_ERR_EIP_IN_USE', `elastic IP ${id} serves load balancer ${lb.id}`, 'body.endpoint');
      this.checkAssociation(input.endpoint, id);
    }
    const after: ElasticIp = input.endpoint === null ? { id, publicIp: before.publicIp } : { id, publicIp: before.publicIp, endpointId: input.endpoint };
    this.store.transaction((w) => w.putElasticIp(after));
    this.state.putElasticIp(after);
    this.emit([{ kind: 'elasticIp', op: 'update', before, after }]);
    return after;
  }

  /** Gives the address back to the pool; refused while it is associated. */
  releaseElasticIp(id: string): void {
    const before = this.getElasticIp(id);
    if (before.endpointId !== undefined) throw new OvercastError('OVC_ERR_EIP_IN_USE', `elastic IP ${id} is associated with ${before.endpointId}`, 'params.id');
    const lb = this.loadBalancerOf(id);
    if (lb) throw new OvercastError('OVC_ERR_EIP_IN_USE', `elastic IP ${id} serves load balancer ${lb.id}`, 'params.id');
    this.store.transaction((w) => w.deleteElasticIp(id));
    this.state.removeElasticIp(id);
    this.emit([{ kind: 'elasticIp', op: 'delete', before }]);
  }

  private checkAssociation(endpointId: string, self: string | undefined): void {
    if (!this.state.endpoints.has(endpointId)) throw new OvercastError('OVC_ERR_ENDPOINT_NOT_FOUND', `no endpoint ${endpointId}`, 'body.endpoint');
    const other = [...this.state.elasticIps.values()].find((x) => x.endpointId === endpointId && x.id !== self);
    if (other) throw new OvercastError('OVC_ERR_EIP_IN_USE', `endpoint ${endpointId} already has elastic IP ${other.id}`, 'body.endpoint');
  }

  // ---- load balancers ----

  getLoadBalancer(id: string): LoadBalancer {
    const lb = this.state.loadBalancers.get(id);
    if (!lb) throw new OvercastError('OVC_ERR_LB_NOT_FOUND', `no load balancer ${id}`, 'params.id');
    return lb;
  }

  listLoadBalancers(page: PageRequest): Page<LoadBalancer> {
    return paginate('loadBalancer', this.ordered('loadBalancer', this.intent().loadBalancers ?? new Map<string, LoadBalancer>()), page, () => true);
  }

  createLoadBalancer(input: CreateLoadBalancerInput): LoadBalancer {
    const problems: ProblemDetail[] = [];
    const report = (code: ErrorCode, field: string, message: string) => problems.push({ code, message, field });
    const vpc = this.state.vpcs.get(input.vpc);
    if (!vpc) report('OVC_ERR_VPC_NOT_FOUND', 'body.vpc', `no VPC ${input.vpc}`);
    if (!(LB_PROTOCOLS as readonly string[]).includes(input.protocol)) report('OVC_ERR_API_VALIDATION', 'body.protocol', `protocol must be one of ${LB_PROTOCOLS.join(', ')}`);
    const backendPort = input.backendPort ?? input.port;
    for (const [field, p] of [['body.port', input.port], ['body.backendPort', backendPort]] as const) {
      if (!Number.isInteger(p) || p < 1 || p > 0xffff) report('OVC_ERR_API_VALIDATION', field, `${field} must be 1..65535`);
    }
    this.checkWeights(problems, input.weights ?? {});
    if (input.elasticIp !== undefined) this.checkLbElasticIp(problems, input.elasticIp, undefined);
    const vip = collect(problems, () => parseIpv4(input.vip, 'body.vip'));
    if (vip !== undefined && vpc) {
      const subnets = [...this.state.subnetIdsOf(vpc.id)].map((id) => this.state.subnets.get(id)).filter((x): x is Subnet => x !== undefined);
      if (!cidrOf(vpc).contains(vip)) report('OVC_ERR_LB_BAD_VIP', 'body.vip', `${input.vip} is not inside VPC ${vpc.id}`);
      else if (subnets.some((sn) => sn.gateway === vip || this.state.ipOwner(sn.id, vip) !== undefined)) {
        report('OVC_ERR_LB_BAD_VIP', 'body.vip', `${input.vip} is an endpoint's or a gateway's address`);
      }
      for (const other of this.state.loadBalancers.values()) {
        if (other.vpcId !== vpc.id || other.protocol !== input.protocol) continue;
        if ((other.vip === vip && other.port === input.port) || (other.function === input.function && other.backendPort === backendPort)) {
          report('OVC_ERR_LB_CONFLICT', 'body.vip', `load balancer ${other.id} already serves that`);
          break;
        }
      }
    }
    if (problems.length > 0 || !vpc || vip === undefined) throw OvercastError.fromProblems(problems);
    const lb = this.store.transaction((w) => {
      const base: LoadBalancer = {
        id: w.nextId('loadBalancer'),
        vpcId: vpc.id,
        vip,
        protocol: input.protocol,
        port: input.port,
        backendPort,
        function: input.function,
        weights: { ...(input.weights ?? {}) },
        unhealthy: [],
      };
      const x: LoadBalancer = input.elasticIp === undefined ? base : { ...base, elasticIpId: input.elasticIp };
      w.putLoadBalancer(x);
      return x;
    });
    this.state.putLoadBalancer(lb);
    this.emit([{ kind: 'loadBalancer', op: 'add', after: lb }]);
    return lb;
  }

  /** New revision weights (a canary's split) and/or the set of unhealthy backends. */
  updateLoadBalancer(id: string, input: UpdateLoadBalancerInput): LoadBalancer {
    const before = this.getLoadBalancer(id);
    const problems: ProblemDetail[] = [];
    if (input.weights) this.checkWeights(problems, input.weights);
    if (typeof input.elasticIp === 'string') this.checkLbElasticIp(problems, input.elasticIp, id);
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    const { elasticIpId: oldEip, ...rest } = before;
    const eip = input.elasticIp === undefined ? oldEip : (input.elasticIp ?? undefined);
    const weighted: LoadBalancer = { ...rest, weights: input.weights ? { ...input.weights } : before.weights };
    // A new unhealthy list is the operator's, except for the backends the prober had already taken out.
    const changed = input.unhealthy ? withUnhealthy(weighted, input.unhealthy, before.unhealthyByProbe ?? []) : weighted;
    return this.replaceLoadBalancer(before, eip === undefined ? changed : { ...changed, elasticIpId: eip });
  }

  /**
   * Marks one backend healthy or not: `rest` (an operator: the mark stands until REST clears it) or
   * `probe` (the health prober, which returns only backends it took out itself; src/model/backend-health.ts).
   */
  setBackendHealth(id: string, endpointId: string, healthy: boolean, by: HealthMarkSource = 'rest'): LoadBalancer {
    const before = this.getLoadBalancer(id);
    return this.replaceLoadBalancer(before, markBackendHealth(before, endpointId, healthy, by));
  }

  /** Stores, applies and announces a load balancer's new state (nothing when nothing changed). */
  private replaceLoadBalancer(before: LoadBalancer, after: LoadBalancer): LoadBalancer {
    // Deep equality, not JSON text: the same state built in another key order is no change.
    if (isDeepStrictEqual(after, before)) return before;
    this.store.transaction((w) => w.putLoadBalancer(after));
    this.state.putLoadBalancer(after);
    this.emit([{ kind: 'loadBalancer', op: 'update', before, after }]);
    return after;
  }

  deleteLoadBalancer(id: string): void {
    const before = this.getLoadBalancer(id);
    this.store.transaction((w) => w.deleteLoadBalancer(id));
    this.state.removeLoadBalancer(id);
    this.emit([{ kind: 'loadBalancer', op: 'delete', before }]);
  }

  /** An LB's elastic IP: allocated, associated with no endpoint, serving no other LB (one address, one target). */
  private checkLbElasticIp(problems: ProblemDetail[], eipId: string, self: string | undefined): void {
    const x = this.state.elasticIps.get(eipId);
    if (!x) {
      problems.push({ code: 'OVC_ERR_EIP_NOT_FOUND', message: `no elastic IP ${eipId}`, field: 'body.elasticIp' });
      return;
    }
    if (x.endpointId !== undefined) {
      problems.push({ code: 'OVC_ERR_EIP_IN_USE', message: `elastic IP ${eipId} is associated with endpoint ${x.endpointId}`, field: 'body.elasticIp' });
      return;
    }
    const other = this.loadBalancerOf(eipId);
    if (other && other.id !== self) problems.push({ code: 'OVC_ERR_EIP_IN_USE', message: `elastic IP ${eipId} serves load balancer ${other.id}`, field: 'body.elasticIp' });
  }

  private loadBalancerOf(eipId: string): LoadBalancer | undefined {
    return [...this.state.loadBalancers.values()].find((lb) => lb.elasticIpId === eipId);
  }

  private checkWeights(problems: ProblemDetail[], weights: Record<string, number>): void {
    for (const [rev, w] of Object.entries(weights)) {
      if (!Number.isInteger(w) || w < 0 || w > MAX_REVISION_WEIGHT) {
        problems.push({ code: 'OVC_ERR_LB_BAD_WEIGHTS', message: `weight of ${rev} must be an integer 0..${MAX_REVISION_WEIGHT}`, field: `body.weights.${rev}` });
      }
    }
  }

  // ---- topology ----

  addSwitch(sw: SwitchSpec): Topology {
    // The model reports a clash on the element checked later, which may be an existing host: name the new switch.
    if (this.topo.topology.hosts.some((h) => h.name === sw.name)) {
      throw new OvercastError('OVC_ERR_TOPO_DUPLICATE_NAME', `name "${sw.name}" is already used by a host`, 'body.name');
    }
    const i = this.topo.topology.switches.length;
    return this.changeTopology(() => rebaseFields(() => addSwitch(this.topo.topology, sw), [[`switches[${i}]`, 'body']]));
  }

  /** Removes a switch with its links and hosts; refused while endpoints attach to it. */
  removeSwitch(name: string): Topology {
    const dpid = this.topo.dpidOfSwitch(name);
    if (dpid !== undefined) {
      const attached = [...this.state.endpoints.values()].filter((e) => e.dpid === dpid);
      if (attached.length > 0) {
        throw new OvercastError('OVC_ERR_TOPO_SWITCH_HAS_ENDPOINTS', `switch ${name} still has ${attached.length} endpoints (${attached[0].id}...)`, 'params.name');
      }
    }
    return this.changeTopology(() => rebaseFields(() => removeSwitch(this.topo.topology, name), [['switch', 'params.name']]));
  }

  addLink(a: PortRef, b: PortRef, up = true): Topology {
    const problems: ProblemDetail[] = [];
    for (const [end, field] of [[a, 'body.a'], [b, 'body.b']] as const) {
      const dpid = this.topo.dpidOfSwitch(end.switch);
      if (dpid === undefined) continue;
      // Checked here, not left to the model, so the problem names the new link's end (the model would
      // report it on whichever element it checks second, e.g. an existing host).
      const key = portKey(dpid, end.port);
      const owner = this.topo.usedPorts.get(key) ?? (this.state.portOwner.has(key) ? `endpoint ${this.state.portOwner.get(key)}` : undefined);
      if (owner) problems.push({ code: 'OVC_ERR_TOPO_PORT_IN_USE', message: `port ${end.switch}:${end.port} carries ${owner}`, field });
    }
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    const i = this.topo.topology.links.length;
    return this.changeTopology(() => rebaseFields(() => addLink(this.topo.topology, a, b, up), [[`links[${i}]`, 'body']]));
  }

  /** `id` as linkId gives it (`s1:2~s2:1`). */
  removeLink(id: string): Topology {
    return this.changeTopology(() => rebaseFields(() => removeLink(this.topo.topology, id), [['link', 'params.id']]));
  }

  setLinkUp(id: string, up: boolean): Topology {
    return this.changeTopology(() => rebaseFields(() => setLinkUp(this.topo.topology, id, up), [['link', 'params.id']]));
  }

  // ---- internals ----

  /**
   * A snapshot's objects as an array with their seqs, built once per snapshot, so each page of a list
   * starts at its cursor by binary search instead of walking every object before it.
   */
  private ordered<T extends { id: string }>(kind: IdKind, map: ReadonlyMap<string, T>): Ordered<T> {
    let o = this.orderedCache.get(map) as Ordered<T> | undefined;
    if (!o) {
      const items = [...map.values()];
      o = { items, seqs: items.map((x) => idSeq(kind, x.id) ?? 0) };
      this.orderedCache.set(map, o);
    }
    return o;
  }

  private changeTopology(change: () => Topology): Topology {
    const before = this.topo.topology;
    const after = change();
    if (after === before) return before;
    this.store.transaction((w) => w.putTopology(after));
    this.topo = new PlacementIndex(after);
    this.emit([{ kind: 'topology', before, topology: after }]);
    return after;
  }

  /** Is (dpid, port) a port the endpoint `self` may take? */
  private checkPlacement(problems: ProblemDetail[], dpid: number, port: number, self: string | undefined): void {
    const ports = this.topo.portsByDpid.get(dpid);
    if (!ports) {
      problems.push({ code: 'OVC_ERR_ENDPOINT_UNKNOWN_SWITCH', message: `no switch with dpid ${dpid}`, field: 'body.dpid' });
      return;
    }
    if (!ports.has(port)) {
      problems.push({ code: 'OVC_ERR_ENDPOINT_UNKNOWN_PORT', message: `switch ${this.topo.switchByDpid.get(dpid)?.name} has no port ${port}`, field: 'body.port' });
      return;
    }
    const key = portKey(dpid, port);
    const topoUse = this.topo.usedPorts.get(key);
    const owner = this.state.portOwner.get(key);
    if (topoUse !== undefined || (owner !== undefined && owner !== self)) {
      problems.push({ code: 'OVC_ERR_ENDPOINT_PORT_IN_USE', message: `port ${port} of dpid ${dpid} carries ${topoUse ?? `endpoint ${owner}`}`, field: 'body.port' });
    }
  }

  private checkIp(problems: ProblemDetail[], subnet: Subnet, ip: number): void {
    const cidr = cidrOf(subnet);
    const at = `${formatIpv4(ip)} in subnet ${subnet.id} (${formatCidr(cidr)})`;
    if (!cidr.contains(ip)) problems.push({ code: 'OVC_ERR_ENDPOINT_IP_OUTSIDE_SUBNET', message: `${formatIpv4(ip)} is not inside subnet ${subnet.id} (${formatCidr(cidr)})`, field: 'body.ip' });
    else if (cidr.hostIndex(ip) < 0) problems.push({ code: 'OVC_ERR_ENDPOINT_IP_RESERVED', message: `${at} is the network or broadcast address`, field: 'body.ip' });
    else if (ip === subnet.gateway) problems.push({ code: 'OVC_ERR_ENDPOINT_IP_TAKEN', message: `${at} is the gateway`, field: 'body.ip' });
    else {
      const owner = this.state.ipOwner(subnet.id, ip);
      if (owner) problems.push({ code: 'OVC_ERR_ENDPOINT_IP_TAKEN', message: `${at} belongs to endpoint ${owner}`, field: 'body.ip' });
    }
  }

  private checkMac(problems: ProblemDetail[], mac: number): void {
    if (mac === 0 || isMulticastMac(mac)) {
      problems.push({ code: 'OVC_ERR_NET_BAD_MAC', message: `${formatMac(mac)} is not a unicast address`, field: 'body.mac' });
    } else if (this.macTaken(mac)) {
      const owner = this.state.macOwner.get(mac);
      problems.push({ code: 'OVC_ERR_ENDPOINT_MAC_TAKEN', message: `${formatMac(mac)} belongs to ${owner ? `endpoint ${owner}` : 'a topology host or the gateway'}`, field: 'body.mac' });
    }
  }

  private macTaken(mac: number): boolean {
    return mac === GATEWAY_MAC || this.state.macOwner.has(mac) || this.topo.hostMacs.has(mac);
  }

  /** From the endpoint's own number, so allocation is deterministic; skips MACs someone chose by hand. */
  private allocateMac(seq: number): number {
    for (let mac = ENDPOINT_MAC_BASE + seq; isMac(mac); mac++) {
      if (!this.macTaken(mac)) return mac;
    }
    throw new Error('no free MAC left');
  }

  private emit(changes: IntentChange[]): void {
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

/** Runs a parser; its OvercastError becomes problems and the value undefined. */
function collect<T>(problems: ProblemDetail[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (!isOvercastError(e)) throw e;
    problems.push(...e.problems);
    return undefined;
  }
}

/** Re-throws a model error with its fields renamed to the API's (`switches[3].dpid` -> `body.dpid`). */
function rebaseFields<T>(fn: () => T, renames: [from: string, to: string][]): T {
  try {
    return fn();
  } catch (e) {
    if (!isOvercastError(e)) throw e;
    const rename = (field: string | undefined) => {
      if (field === undefined) return undefined;
      for (const [from, to] of renames) {
        if (field === from) return to;
        if (field.startsWith(from) && (field[from.length] === '.' || field[from.length] === '[')) return to + field.slice(from.length);
      }
      return field;
    };
    throw OvercastError.fromProblems(e.problems.map((p) => ({ ...p, field: rename(p.field) })));
  }
}

function sameLabels(x: Readonly<Record<string, string>>, y: Readonly<Record<string, string>>): boolean {
  const kx = Object.keys(x);
  return kx.length === Object.keys(y).length && kx.every((k) => y[k] === x[k]);
}

/** Objects in id order with their seqs (ascending). */
interface Ordered<T> {
  items: T[];
  seqs: number[];
}

/** Items after the cursor (by id order), up to `limit`, with the cursor of the next page. */
function paginate<T extends { id: string }>(kind: IdKind, all: Ordered<T>, page: PageRequest, keep: (x: T) => boolean): Page<T> {
  let after = 0;
  if (page.cursor !== undefined) {
    const seq = idSeq(kind, page.cursor);
    if (seq === undefined) throw new OvercastError('OVC_ERR_API_BAD_CURSOR', `not a cursor of this list: ${page.cursor}`, 'querystring.cursor');
    after = seq;
  }
  // First index whose seq is above the cursor.
  let lo = 0;
  let hi = all.seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (all.seqs[mid] <= after) lo = mid + 1;
    else hi = mid;
  }
  const items: T[] = [];
  for (let i = lo; i < all.items.length; i++) {
    const x = all.items[i];
    if (!keep(x)) continue;
    if (items.length === page.limit) return { items, next: items[items.length - 1].id };
    items.push(x);
  }
  return { items, next: null };
}
