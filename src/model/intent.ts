/**
 * The users' intent: VPCs, subnets, endpoints, elastic IPs, load balancers and volumes. Plain
 * immutable values with addresses as numbers; the store persists them, the API validates and formats
 * them, the compiler turns them (with the topology) into flows. IDs are strings chosen by the store.
 */
import type { Attachment, Volume } from './volume.js';
import type { NetworkAcl, SecurityGroup } from './security.js';

/** A tenant network. Its id is also the tenant number carried between switches (`vni`). */
export interface Vpc {
  readonly id: string;
  readonly name: string;
  /** The VPC's address space (network address, prefix length). Subnets lie inside it. */
  readonly cidr: { readonly network: number; readonly prefixLength: number };
  /**
   * Tenant number, unique across VPCs, 1..MAX_VNI: written into metadata at ingress and carried on
   * inter-switch links (see docs/vpc.md for the encoding).
   */
  readonly vni: number;
}

export interface Subnet {
  readonly id: string;
  readonly vpcId: string;
  readonly name: string;
  readonly cidr: { readonly network: number; readonly prefixLength: number };
  /** The distributed gateway's IP in this subnet (default: the first host address). */
  readonly gateway: number;
}

export const ENDPOINT_KINDS = ['function', 'container', 'storage', 'host'] as const;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];

export interface Endpoint {
  readonly id: string;
  readonly kind: EndpointKind;
  readonly vpcId: string;
  readonly subnetId: string;
  /** Where it attaches: a switch (by dpid) and one of its ports. */
  readonly dpid: number;
  readonly port: number;
  readonly mac: number;
  readonly ip: number;
  /** e.g. { function: "resize", revision: "v2" }. */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The security groups it is in (ids, docs/security-groups.md). Absent: its VPC's default group (an
   * endpoint stored before groups existed).
   */
  readonly securityGroups?: readonly string[];
}

/**
 * A public address from a gateway's pool (docs/elastic-ip.md). Associated with an endpoint, inbound
 * traffic to it is DNATed to the endpoint and the endpoint's traffic to the outside leaves from it.
 */
export interface ElasticIp {
  readonly id: string;
  readonly publicIp: number;
  readonly endpointId?: string;
}

export const LB_PROTOCOLS = ['tcp', 'udp'] as const;
export type LbProtocol = (typeof LB_PROTOCOLS)[number];

/**
 * A virtual IP and port in a VPC whose backends are the endpoints labelled `function: <function>`,
 * split between their revisions (`revision` label) by weight. A revision not named in `weights` gets
 * no traffic unless `weights` is empty (then every backend weighs the same).
 */
export interface LoadBalancer {
  readonly id: string;
  readonly vpcId: string;
  readonly vip: number;
  readonly protocol: LbProtocol;
  readonly port: number;
  /** The port backends listen on (default: `port`). */
  readonly backendPort: number;
  readonly function: string;
  readonly weights: Readonly<Record<string, number>>;
  /** Endpoint ids taken out of the pool until they recover. */
  readonly unhealthy: readonly string[];
  /**
   * Of `unhealthy`, the ones the health prober took out: it returns them when they answer again. The
   * others were marked over REST and stay out until REST returns them (backend-health.ts). Absent: none.
   */
  readonly unhealthyByProbe?: readonly string[];
  /**
   * An elastic IP (by id) the LB is reachable at from outside: publicIp:port -> VIP:port. The address
   * then serves this LB only (never an endpoint as well).
   */
  readonly elasticIpId?: string;
}

/** The whole intent at one moment: what the compiler reads. */
export interface Intent {
  readonly vpcs: ReadonlyMap<string, Vpc>;
  readonly subnets: ReadonlyMap<string, Subnet>;
  readonly endpoints: ReadonlyMap<string, Endpoint>;
  /** Absent means none (intent written before elastic IPs existed). */
  readonly elasticIps?: ReadonlyMap<string, ElasticIp>;
  readonly loadBalancers?: ReadonlyMap<string, LoadBalancer>;
  /** Absent means none (intent written before volumes existed). */
  readonly volumes?: ReadonlyMap<string, Volume>;
  readonly attachments?: ReadonlyMap<string, Attachment>;
  readonly securityGroups?: ReadonlyMap<string, SecurityGroup>;
  readonly networkAcls?: ReadonlyMap<string, NetworkAcl>;
}

/**
 * VNIs are 24 bits (as Geneve's and VXLAN's), carried on inter-switch links as a two-entry MPLS label
 * stack, so one fabric carries up to 16,777,215 VPCs (0 is the underlay). See docs/vpc.md.
 */
export const MAX_VNI = 0xffffff;

/** The distributed gateway answers with one well-known MAC in every VPC (as OVN's router ports do per router). */
export const GATEWAY_MAC = 0x0a0000000001;

export function emptyIntent(): Intent {
  return { vpcs: new Map(), subnets: new Map(), endpoints: new Map() };
}

/** The default group of each VPC that has one, by VPC id. */
export function defaultGroupsByVpc(intent: Intent): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of intent.securityGroups?.values() ?? []) if (g.isDefault) out.set(g.vpcId, g.id);
  return out;
}

/**
 * The groups an endpoint is in: those it names, or (naming none: an endpoint stored before groups
 * existed) its VPC's default group. Groups that do not exist are skipped; an endpoint in no group is
 * not filtered (an intent without groups forwards as it did before they existed).
 */
export function groupsOfEndpoint(e: Endpoint, intent: Intent, defaults: ReadonlyMap<string, string>): string[] {
  const named = e.securityGroups ?? [defaults.get(e.vpcId) ?? ''];
  return named.filter((g) => intent.securityGroups?.has(g) === true);
}
