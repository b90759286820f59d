/**
 * The loaded intent in memory, with the lookups validation needs (addresses per subnet, MACs, ports,
 * VNIs) kept in step with every change. Mutable inside; `snapshot()` hands out an immutable Intent,
 * copied only when asked for after a change, so a burst of changes does not copy the maps each time.
 *
 * The maps keep insertion order, which is id (`seq`) order: new objects get ever higher ids, updates
 * replace values in place, and the store loads in seq order. Lists and pagination rely on it.
 */
import { Cidr } from '../../net/index.js';
import type { Attachment, ElasticIp, Endpoint, Intent, LoadBalancer, NetworkAcl, SecurityGroup, Subnet, Volume, Vpc } from '../../model/index.js';

/** `dpid:port`, the key of a switch port. */
export function portKey(dpid: number, port: number): string {
  return `${dpid}:${port}`;
}

export function cidrOf(x: Vpc | Subnet): Cidr {
  return new Cidr(x.cidr.network, x.cidr.prefixLength);
}

const NO_IDS: ReadonlySet<string> = new Set();

function addTo(index: Map<string, Set<string>>, key: string, id: string): void {
  let ids = index.get(key);
  if (!ids) index.set(key, (ids = new Set()));
  ids.add(id);
}

function removeFrom(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key);
  ids?.delete(id);
  if (ids?.size === 0) index.delete(key);
}

export class IntentIndex {
  readonly vpcs = new Map<string, Vpc>();
  readonly subnets = new Map<string, Subnet>();
  readonly endpoints = new Map<string, Endpoint>();
  readonly elasticIps = new Map<string, ElasticIp>();
  readonly loadBalancers = new Map<string, LoadBalancer>();
  readonly volumes = new Map<string, Volume>();
  readonly attachments = new Map<string, Attachment>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly networkAcls = new Map<string, NetworkAcl>();
  /** VPC id -> its default group's id. */
  readonly defaultGroupOf = new Map<string, string>();
  /** Subnet id -> its network ACL's id. */
  readonly aclOfSubnet = new Map<string, string>();
  readonly vnis = new Set<number>();
  readonly macOwner = new Map<number, string>();
  readonly portOwner = new Map<string, string>();
  private readonly subnetsByVpc = new Map<string, Set<string>>();
  /** Per subnet: endpoint IP -> endpoint id. */
  private readonly ipsBySubnet = new Map<string, Map<number, string>>();
  /** Per subnet: no host index below this one is free (so allocation does not rescan the taken ones). */
  private readonly freeHint = new Map<string, number>();
  private readonly endpointCount = new Map<string, number>();
  /** Attachment ids per volume and per endpoint; volume ids per target endpoint. */
  private readonly attachmentsByVolume = new Map<string, Set<string>>();
  private readonly attachmentsByEndpoint = new Map<string, Set<string>>();
  private readonly volumesByTarget = new Map<string, Set<string>>();
  /** Per VPC, its load balancers' VIPs with how many load balancers hold each (one VIP, several ports). */
  private readonly vipsByVpc = new Map<string, Map<number, number>>();
  /** No VNI below this one is free. */
  private vniFloor = 1;
  private cached: Intent | undefined;

  constructor(intent: Intent) {
    for (const v of intent.vpcs.values()) this.putVpc(v);
    for (const s of intent.subnets.values()) this.putSubnet(s);
    for (const e of intent.endpoints.values()) this.putEndpoint(e);
    for (const x of intent.elasticIps?.values() ?? []) this.elasticIps.set(x.id, x);
    for (const lb of intent.loadBalancers?.values() ?? []) this.putLoadBalancer(lb);
    for (const v of intent.volumes?.values() ?? []) this.putVolume(v);
    for (const a of intent.attachments?.values() ?? []) this.putAttachment(a);
    for (const g of intent.securityGroups?.values() ?? []) this.putSecurityGroup(g);
    for (const acl of intent.networkAcls?.values() ?? []) this.putNetworkAcl(acl);
  }

  snapshot(): Intent {
    this.cached ??= {
      vpcs: new Map(this.vpcs),
      subnets: new Map(this.subnets),
      endpoints: new Map(this.endpoints),
      elasticIps: new Map(this.elasticIps),
      loadBalancers: new Map(this.loadBalancers),
      volumes: new Map(this.volumes),
      attachments: new Map(this.attachments),
      securityGroups: new Map(this.securityGroups),
      networkAcls: new Map(this.networkAcls),
    };
    return this.cached;
  }

  putElasticIp(x: ElasticIp): void {
    this.elasticIps.set(x.id, x);
    this.cached = undefined;
  }

  removeElasticIp(id: string): void {
    this.elasticIps.delete(id);
    this.cached = undefined;
  }

  putLoadBalancer(lb: LoadBalancer): void {
    this.removeLoadBalancer(lb.id);
    this.loadBalancers.set(lb.id, lb);
    let vips = this.vipsByVpc.get(lb.vpcId);
    if (!vips) this.vipsByVpc.set(lb.vpcId, (vips = new Map()));
    vips.set(lb.vip, (vips.get(lb.vip) ?? 0) + 1);
    this.cached = undefined;
  }

  removeLoadBalancer(id: string): void {
    const lb = this.loadBalancers.get(id);
    if (!lb) return;
    this.loadBalancers.delete(id);
    const vips = this.vipsByVpc.get(lb.vpcId);
    const n = vips?.get(lb.vip) ?? 0;
    if (n > 1) vips?.set(lb.vip, n - 1);
    else vips?.delete(lb.vip);
    if (vips?.size === 0) this.vipsByVpc.delete(lb.vpcId);
    this.cached = undefined;
  }

  putVolume(v: Volume): void {
    // An update keeps the volume's place in the map (id order); only its targets' index moves.
    for (const t of this.volumes.get(v.id)?.targets ?? []) removeFrom(this.volumesByTarget, t, v.id);
    this.volumes.set(v.id, v);
    for (const t of v.targets) addTo(this.volumesByTarget, t, v.id);
    this.cached = undefined;
  }

  removeVolume(id: string): void {
    const old = this.volumes.get(id);
    if (!old) return;
    this.volumes.delete(id);
    for (const t of old.targets) removeFrom(this.volumesByTarget, t, id);
    this.cached = undefined;
  }

  putAttachment(a: Attachment): void {
    const old = this.attachments.get(a.id);
    if (old) {
      removeFrom(this.attachmentsByVolume, old.volumeId, a.id);
      removeFrom(this.attachmentsByEndpoint, old.endpointId, a.id);
      this.unindexMounts(old);
    }
    this.attachments.set(a.id, a);
    addTo(this.attachmentsByVolume, a.volumeId, a.id);
    addTo(this.attachmentsByEndpoint, a.endpointId, a.id);
    // Its mount and source addresses are taken like endpoints' (never allocated twice, never an LB's VIP).
    for (const [subnetId, ip] of mountAddressesOf(a, this.endpoints.get(a.endpointId)?.subnetId)) this.ipsBySubnet.get(subnetId)?.set(ip, a.id);
    this.cached = undefined;
  }

  removeAttachment(id: string): void {
    const old = this.attachments.get(id);
    if (!old) return;
    this.attachments.delete(id);
    removeFrom(this.attachmentsByVolume, old.volumeId, id);
    removeFrom(this.attachmentsByEndpoint, old.endpointId, id);
    this.unindexMounts(old);
    this.cached = undefined;
  }

  private unindexMounts(a: Attachment): void {
    for (const [subnetId, ip] of mountAddressesOf(a, this.endpoints.get(a.endpointId)?.subnetId)) {
      if (this.ipsBySubnet.get(subnetId)?.get(ip) === a.id) this.freeAddress(subnetId, ip);
    }
  }

  /** The attachments of a volume (ids). */
  attachmentIdsOfVolume(volumeId: string): ReadonlySet<string> {
    return this.attachmentsByVolume.get(volumeId) ?? NO_IDS;
  }

  /** The attachments of an endpoint (ids). */
  attachmentIdsOfEndpoint(endpointId: string): ReadonlySet<string> {
    return this.attachmentsByEndpoint.get(endpointId) ?? NO_IDS;
  }

  /** The volumes an endpoint is a target of (ids). */
  volumeIdsOfTarget(endpointId: string): ReadonlySet<string> {
    return this.volumesByTarget.get(endpointId) ?? NO_IDS;
  }

  putSecurityGroup(g: SecurityGroup): void {
    this.securityGroups.set(g.id, g);
    if (g.isDefault) this.defaultGroupOf.set(g.vpcId, g.id);
    this.cached = undefined;
  }

  removeSecurityGroup(id: string): void {
    const g = this.securityGroups.get(id);
    if (g?.isDefault && this.defaultGroupOf.get(g.vpcId) === id) this.defaultGroupOf.delete(g.vpcId);
    this.securityGroups.delete(id);
    this.cached = undefined;
  }

  putNetworkAcl(acl: NetworkAcl): void {
    this.networkAcls.set(acl.id, acl);
    this.aclOfSubnet.set(acl.subnetId, acl.id);
    this.cached = undefined;
  }

  removeNetworkAcl(id: string): void {
    const acl = this.networkAcls.get(id);
    if (acl && this.aclOfSubnet.get(acl.subnetId) === id) this.aclOfSubnet.delete(acl.subnetId);
    this.networkAcls.delete(id);
    this.cached = undefined;
  }

  subnetIdsOf(vpcId: string): ReadonlySet<string> {
    return this.subnetsByVpc.get(vpcId) ?? new Set();
  }

  endpointCountOfVpc(vpcId: string): number {
    return this.endpointCount.get(vpcId) ?? 0;
  }

  endpointCountOfSubnet(subnetId: string): number {
    return this.ipsBySubnet.get(subnetId)?.size ?? 0;
  }

  /** The load balancer behind the elastic IP, if any. */
  loadBalancerOfElasticIp(eipId: string): LoadBalancer | undefined {
    for (const lb of this.loadBalancers.values()) if (lb.elasticIpId === eipId) return lb;
    return undefined;
  }

  /** Is `ip` a VIP of one of the VPC's load balancers (an address an allocation in its subnets skips)? */
  isLoadBalancerVip(vpcId: string, ip: number): boolean {
    return this.vipsByVpc.get(vpcId)?.has(ip) === true;
  }

  /** The endpoint holding `ip` in the subnet, if any. */
  ipOwner(subnetId: string, ip: number): string | undefined {
    return this.ipsBySubnet.get(subnetId)?.get(ip);
  }

  /**
   * The lowest usable address of the subnet that neither the gateway, an endpoint nor an attachment's
   * mount or source address holds, and that `skip` (e.g. load balancers' VIPs) does not refuse.
   */
  lowestFreeIp(subnet: Subnet, skip?: (ip: number) => boolean): number | undefined {
    const cidr = cidrOf(subnet);
    const taken = this.ipsBySubnet.get(subnet.id);
    let hinted = false;
    for (let i = this.freeHint.get(subnet.id) ?? 0; i < cidr.hostCount; i++) {
      const ip = cidr.hostAt(i);
      if (ip === subnet.gateway || taken?.has(ip)) continue;
      // The hint is the lowest address nobody holds, whether `skip` refuses it or not.
      if (!hinted) this.freeHint.set(subnet.id, i);
      hinted = true;
      if (skip?.(ip)) continue;
      return ip;
    }
    if (!hinted) this.freeHint.set(subnet.id, cidr.hostCount);
    return undefined;
  }

  /** The lowest VNI in 1..maxVni no VPC holds. */
  lowestFreeVni(maxVni: number): number | undefined {
    for (let vni = this.vniFloor; vni <= maxVni; vni++) {
      if (this.vnis.has(vni)) continue;
      this.vniFloor = vni;
      return vni;
    }
    return undefined;
  }

  putVpc(v: Vpc): void {
    const old = this.vpcs.get(v.id);
    if (old) this.vnis.delete(old.vni);
    this.vpcs.set(v.id, v);
    this.vnis.add(v.vni);
    this.cached = undefined;
  }

  removeVpc(id: string): void {
    const v = this.vpcs.get(id);
    if (!v) return;
    this.vpcs.delete(id);
    this.vnis.delete(v.vni);
    if (v.vni < this.vniFloor) this.vniFloor = v.vni;
    this.subnetsByVpc.delete(id);
    this.endpointCount.delete(id);
    this.cached = undefined;
  }

  /** Subnets never change VPC or CIDR, so a put is an add. */
  putSubnet(s: Subnet): void {
    this.subnets.set(s.id, s);
    let ids = this.subnetsByVpc.get(s.vpcId);
    if (!ids) this.subnetsByVpc.set(s.vpcId, (ids = new Set()));
    ids.add(s.id);
    if (!this.ipsBySubnet.has(s.id)) this.ipsBySubnet.set(s.id, new Map());
    this.cached = undefined;
  }

  removeSubnet(id: string): void {
    const s = this.subnets.get(id);
    if (!s) return;
    this.subnets.delete(id);
    this.subnetsByVpc.get(s.vpcId)?.delete(id);
    this.ipsBySubnet.delete(id);
    this.freeHint.delete(id);
    this.cached = undefined;
  }

  putEndpoint(e: Endpoint): void {
    const old = this.endpoints.get(e.id);
    if (old) this.unindexEndpoint(old);
    this.endpoints.set(e.id, e);
    this.macOwner.set(e.mac, e.id);
    this.portOwner.set(portKey(e.dpid, e.port), e.id);
    this.ipsBySubnet.get(e.subnetId)?.set(e.ip, e.id);
    this.endpointCount.set(e.vpcId, (this.endpointCount.get(e.vpcId) ?? 0) + 1);
    this.cached = undefined;
  }

  removeEndpoint(id: string): void {
    const e = this.endpoints.get(id);
    if (!e) return;
    this.unindexEndpoint(e);
    this.endpoints.delete(id);
    this.cached = undefined;
  }

  private unindexEndpoint(e: Endpoint): void {
    this.macOwner.delete(e.mac);
    this.portOwner.delete(portKey(e.dpid, e.port));
    this.endpointCount.set(e.vpcId, (this.endpointCount.get(e.vpcId) ?? 1) - 1);
    this.freeAddress(e.subnetId, e.ip);
  }

  private freeAddress(subnetId: string, ip: number): void {
    this.ipsBySubnet.get(subnetId)?.delete(ip);
    const s = this.subnets.get(subnetId);
    if (s) {
      const i = cidrOf(s).hostIndex(ip);
      if (i >= 0 && i < (this.freeHint.get(s.id) ?? 0)) this.freeHint.set(s.id, i);
    }
  }
}

/** An attachment's addresses as (subnet, address): its mounts in its endpoint's subnet, its source. */
function mountAddressesOf(a: Attachment, endpointSubnet: string | undefined): [string, number][] {
  const out: [string, number][] = [];
  if (endpointSubnet !== undefined) for (const m of a.mounts ?? []) out.push([endpointSubnet, m.ip]);
  if (a.source) out.push([a.source.subnetId, a.source.ip]);
  return out;
}
