/**
 * The compiler's working copy of the intent, with the indexes an incremental recompute needs to find
 * what one change touches, and the activity rules: which objects get flows at all.
 *
 * The store is expected to reject conflicting intent, but the compiler never trusts it: every rule is a
 * pure function of the current intent and topology, so an incremental result always equals a full one.
 * - A VPC is active when its VNI is valid (1..MAX_VNI) and no VPC with a smaller id claims the same VNI.
 * - A subnet is active when its CIDR and gateway are well-formed, its VPC is active, and no subnet of the VPC with a smaller id has the same
 *   gateway IP.
 * - An endpoint is active when its VPC is active, its subnet exists in that VPC and is well-formed, its switch exists, its
 *   port carries no link and no topology host, its MAC is unicast and not the gateway MAC, its IP is no
 *   subnet gateway of its VPC, and it has the smallest id among all endpoints claiming its switch port,
 *   its IP in the VPC and its MAC in the VPC (a loser stays dark until the winner goes).
 */
import { GATEWAY_MAC, type Endpoint, type Intent, type Subnet, type SwitchSpec, type Topology, type Vpc } from '../model/index.js';
import { PORT } from '../flow/index.js';
import { isValidVni } from './vpc-encoding.js';
import { Claims, ScopedClaims } from './claims.js';


const GROUP_BIT = 0x010000000000;

function multiIndexAdd(index: Map<string, Set<string>>, key: string, id: string): void {
  let ids = index.get(key);
  if (!ids) index.set(key, (ids = new Set()));
  ids.add(id);
}

function multiIndexDelete(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key);
  if (!ids) return;
  ids.delete(id);
  if (ids.size === 0) index.delete(key);
}

function subnetWellFormed(s: Subnet): boolean {
  const p = s.cidr.prefixLength;
  return Number.isInteger(p) && p >= 0 && p <= 32 && Number.isInteger(s.cidr.network) && s.cidr.network >= 0 && s.cidr.network <= 0xffffffff
    && Number.isInteger(s.gateway) && s.gateway >= 0 && s.gateway <= 0xffffffff;
}


export class IntentState {
  readonly vpcs = new Map<string, Vpc>();
  readonly subnets = new Map<string, Subnet>();
  readonly endpoints = new Map<string, Endpoint>();
  readonly subnetsByVpc = new Map<string, Set<string>>();
  readonly endpointsByVpc = new Map<string, Set<string>>();
  readonly endpointsBySubnet = new Map<string, Set<string>>();
  private readonly vniClaims = new Claims<number>();
  /** Gateway IPs, endpoint IPs and MACs are claimed within their VPC; endpoint ports on their switch. */
  private readonly gatewayClaims = new ScopedClaims<string, number>();
  private readonly portClaims = new ScopedClaims<number, number>();
  private readonly ipClaims = new ScopedClaims<string, number>();
  private readonly macClaims = new ScopedClaims<string, number>();
  private switchByDpid = new Map<number, SwitchSpec>();
  /** Per dpid, every port with a link, a topology host or a gateway: never an endpoint's (no key string per lookup). */
  private reservedPorts = new Map<number, Set<number>>();

  constructor(topology: Topology, intent: Intent) {
    this.setTopology(topology);
    for (const v of intent.vpcs.values()) this.putVpc(v);
    for (const s of intent.subnets.values()) this.putSubnet(s);
    for (const e of intent.endpoints.values()) this.putEndpoint(e);
  }

  setTopology(topology: Topology): void {
    this.switchByDpid = new Map(topology.switches.map((s) => [s.dpid, s]));
    const dpidOf = new Map(topology.switches.map((s) => [s.name, s.dpid]));
    const reserved = new Map<number, Set<number>>();
    const reserve = (at: { switch: string; port: number }) => {
      const dpid = dpidOf.get(at.switch) ?? -1;
      let ports = reserved.get(dpid);
      if (!ports) reserved.set(dpid, (ports = new Set()));
      ports.add(at.port);
    };
    for (const l of topology.links) {
      reserve(l.a);
      reserve(l.b);
    }
    for (const h of topology.hosts) reserve(h.attach);
    for (const g of topology.gateways ?? []) reserve(g.attach);
    this.reservedPorts = reserved;
  }

  // --- VPCs

  putVpc(v: Vpc): Vpc | undefined {
    const old = this.deleteVpc(v.id);
    this.vpcs.set(v.id, v);
    this.vniClaims.add(v.vni, v.id);
    return old;
  }

  deleteVpc(id: string): Vpc | undefined {
    const old = this.vpcs.get(id);
    if (!old) return undefined;
    this.vpcs.delete(id);
    this.vniClaims.delete(old.vni, id);
    return old;
  }

  vpcActive(v: Vpc): boolean {
    return isValidVni(v.vni) && this.vniClaims.holds(v.vni, v.id);
  }

  /** The active VPC with this id, if any. */
  activeVpc(id: string): Vpc | undefined {
    const v = this.vpcs.get(id);
    return v && this.vpcActive(v) ? v : undefined;
  }

  /** VPC ids claiming a VNI (whose activity a change to that VNI may flip). */
  vniClaimants(vni: number): ReadonlySet<string> {
    return this.vniClaims.claimants(vni);
  }

  // --- subnets

  putSubnet(s: Subnet): Subnet | undefined {
    const old = this.deleteSubnet(s.id);
    this.subnets.set(s.id, s);
    multiIndexAdd(this.subnetsByVpc, s.vpcId, s.id);
    this.gatewayClaims.add(s.vpcId, s.gateway, s.id);
    return old;
  }

  deleteSubnet(id: string): Subnet | undefined {
    const old = this.subnets.get(id);
    if (!old) return undefined;
    this.subnets.delete(id);
    multiIndexDelete(this.subnetsByVpc, old.vpcId, id);
    this.gatewayClaims.delete(old.vpcId, old.gateway, id);
    return old;
  }

  subnetActive(s: Subnet): boolean {
    return subnetWellFormed(s) && this.activeVpc(s.vpcId) !== undefined && this.gatewayClaims.holds(s.vpcId, s.gateway, s.id);
  }

  /** Subnet ids whose gateway is `ip` in the VPC. */
  gatewayClaimants(vpcId: string, ip: number): ReadonlySet<string> {
    return this.gatewayClaims.claimants(vpcId, ip);
  }

  // --- endpoints

  putEndpoint(e: Endpoint): Endpoint | undefined {
    const old = this.deleteEndpoint(e.id);
    this.endpoints.set(e.id, e);
    multiIndexAdd(this.endpointsByVpc, e.vpcId, e.id);
    multiIndexAdd(this.endpointsBySubnet, e.subnetId, e.id);
    this.portClaims.add(e.dpid, e.port, e.id);
    this.ipClaims.add(e.vpcId, e.ip, e.id);
    this.macClaims.add(e.vpcId, e.mac, e.id);
    return old;
  }

  deleteEndpoint(id: string): Endpoint | undefined {
    const old = this.endpoints.get(id);
    if (!old) return undefined;
    this.endpoints.delete(id);
    multiIndexDelete(this.endpointsByVpc, old.vpcId, id);
    multiIndexDelete(this.endpointsBySubnet, old.subnetId, id);
    this.portClaims.delete(old.dpid, old.port, id);
    this.ipClaims.delete(old.vpcId, old.ip, id);
    this.macClaims.delete(old.vpcId, old.mac, id);
    return old;
  }

  /** Every endpoint whose activity may depend on `e`'s claims (`e` included when present). */
  endpointRivals(e: Endpoint): Set<string> {
    const out = new Set<string>();
    for (const id of this.portClaims.claimants(e.dpid, e.port)) out.add(id);
    for (const id of this.ipClaims.claimants(e.vpcId, e.ip)) out.add(id);
    for (const id of this.macClaims.claimants(e.vpcId, e.mac)) out.add(id);
    return out;
  }

  /** Endpoint ids with this IP in this VPC (a subnet gateway there darkens them). */
  endpointsWithIp(vpcId: string, ip: number): ReadonlySet<string> {
    return this.ipClaims.claimants(vpcId, ip);
  }

  /** Where an endpoint is attached if it is active, else undefined (see the rules above). */
  endpointHome(e: Endpoint): SwitchSpec | undefined {
    if (!this.activeVpc(e.vpcId)) return undefined;
    const subnet = this.subnets.get(e.subnetId);
    if (!subnet || subnet.vpcId !== e.vpcId || !subnetWellFormed(subnet)) return undefined;
    const sw = this.switchByDpid.get(e.dpid);
    if (!sw) return undefined;
    if (!Number.isInteger(e.port) || e.port < 1 || e.port >= PORT.MAX || this.reservedPorts.get(e.dpid)?.has(e.port) === true) return undefined;
    if (!Number.isInteger(e.mac) || e.mac <= 0 || e.mac > 0xffffffffffff || Math.floor(e.mac / GROUP_BIT) % 2 === 1 || e.mac === GATEWAY_MAC) {
      return undefined;
    }
    if (!Number.isInteger(e.ip) || e.ip < 0 || e.ip > 0xffffffff) return undefined;
    if (this.gatewayClaims.claimed(e.vpcId, e.ip)) return undefined;
    if (!this.portClaims.holds(e.dpid, e.port, e.id)) return undefined;
    if (!this.ipClaims.holds(e.vpcId, e.ip, e.id)) return undefined;
    if (!this.macClaims.holds(e.vpcId, e.mac, e.id)) return undefined;
    return sw;
  }
}
