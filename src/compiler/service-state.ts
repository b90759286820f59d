/**
 * The compiler's working copy of elastic IPs and load balancers, with the indexes an incremental
 * recompute needs and their claim rules (the store rejects such conflicts; the compiler never trusts
 * it, so an incremental result always equals a full one):
 * - An elastic IP is live when it is associated, no elastic IP with a smaller id has the same public IP
 *   or the same endpoint, and (decided by the engine) its endpoint is active and a gateway's pool holds it.
 * - A load balancer is live when its VPC is active, its port and VIP are well-formed, and no load
 *   balancer with a smaller id in the VPC claims the same VIP/protocol/port or the same
 *   function/protocol/backend port (their return flows would be one flow).
 * - A load balancer is behind its elastic IP when it is live, the address exists, is associated with
 *   no endpoint, holds its public IP, and no load balancer with a smaller id names the same address
 *   (and, decided by the engine, a gateway's pool holds it).
 */
import type { ElasticIp, LoadBalancer } from '../model/index.js';
import { Claims } from './claims.js';


const vipKey = (lb: LoadBalancer) => `${lb.vpcId}|${lb.vip}|${lb.protocol}|${lb.port}`;
const fnKey = (lb: LoadBalancer) => `${lb.vpcId}|${lb.function}|${lb.protocol}|${lb.backendPort}`;
const validPort = (p: number) => Number.isInteger(p) && p >= 1 && p <= 0xffff;

export class ServiceState {
  readonly elasticIps = new Map<string, ElasticIp>();
  readonly loadBalancers = new Map<string, LoadBalancer>();
  readonly eipsByEndpoint = new Map<string, Set<string>>();
  readonly lbsByVpc = new Map<string, Set<string>>();
  /** Load balancers by the elastic IP id they name. */
  readonly lbsByEip = new Map<string, Set<string>>();
  private readonly lbEipClaims = new Claims();
  private readonly publicClaims = new Claims();
  private readonly endpointClaims = new Claims();
  private readonly vipClaims = new Claims();
  private readonly fnClaims = new Claims();

  putElasticIp(x: ElasticIp): void {
    this.deleteElasticIp(x.id);
    this.elasticIps.set(x.id, x);
    this.publicClaims.add(String(x.publicIp), x.id);
    if (x.endpointId !== undefined) {
      this.endpointClaims.add(x.endpointId, x.id);
      let ids = this.eipsByEndpoint.get(x.endpointId);
      if (!ids) this.eipsByEndpoint.set(x.endpointId, (ids = new Set()));
      ids.add(x.id);
    }
  }

  deleteElasticIp(id: string): void {
    const old = this.elasticIps.get(id);
    if (!old) return;
    this.elasticIps.delete(id);
    this.publicClaims.delete(String(old.publicIp), id);
    if (old.endpointId !== undefined) {
      this.endpointClaims.delete(old.endpointId, id);
      const ids = this.eipsByEndpoint.get(old.endpointId);
      ids?.delete(id);
      if (ids?.size === 0) this.eipsByEndpoint.delete(old.endpointId);
    }
  }

  /** Elastic IPs whose liveness may depend on `x`'s claims (`x` included when stored). */
  elasticIpRivals(x: ElasticIp): Set<string> {
    const out = new Set(this.publicClaims.claimants(String(x.publicIp)));
    if (x.endpointId !== undefined) for (const id of this.endpointClaims.claimants(x.endpointId)) out.add(id);
    return out;
  }

  /** The claim rules alone (endpoint activity and gateways are the engine's part). */
  elasticIpHolds(x: ElasticIp): boolean {
    return x.endpointId !== undefined && this.publicClaims.holds(String(x.publicIp), x.id) && this.endpointClaims.holds(x.endpointId, x.id);
  }

  putLoadBalancer(lb: LoadBalancer): void {
    this.deleteLoadBalancer(lb.id);
    this.loadBalancers.set(lb.id, lb);
    this.vipClaims.add(vipKey(lb), lb.id);
    this.fnClaims.add(fnKey(lb), lb.id);
    let ids = this.lbsByVpc.get(lb.vpcId);
    if (!ids) this.lbsByVpc.set(lb.vpcId, (ids = new Set()));
    ids.add(lb.id);
    if (lb.elasticIpId !== undefined) {
      this.lbEipClaims.add(lb.elasticIpId, lb.id);
      let byEip = this.lbsByEip.get(lb.elasticIpId);
      if (!byEip) this.lbsByEip.set(lb.elasticIpId, (byEip = new Set()));
      byEip.add(lb.id);
    }
  }

  deleteLoadBalancer(id: string): void {
    const old = this.loadBalancers.get(id);
    if (!old) return;
    this.loadBalancers.delete(id);
    this.vipClaims.delete(vipKey(old), id);
    this.fnClaims.delete(fnKey(old), id);
    const ids = this.lbsByVpc.get(old.vpcId);
    ids?.delete(id);
    if (ids?.size === 0) this.lbsByVpc.delete(old.vpcId);
    if (old.elasticIpId !== undefined) {
      this.lbEipClaims.delete(old.elasticIpId, id);
      const byEip = this.lbsByEip.get(old.elasticIpId);
      byEip?.delete(id);
      if (byEip?.size === 0) this.lbsByEip.delete(old.elasticIpId);
    }
  }

  loadBalancerRivals(lb: LoadBalancer): Set<string> {
    const out = new Set(this.vipClaims.claimants(vipKey(lb)));
    for (const id of this.fnClaims.claimants(fnKey(lb))) out.add(id);
    if (lb.elasticIpId !== undefined) for (const id of this.lbEipClaims.claimants(lb.elasticIpId)) out.add(id);
    return out;
  }

  /** The claim rules for an LB behind its elastic IP (gateways are the engine's part); the address when they hold. */
  loadBalancerElasticIp(lb: LoadBalancer): ElasticIp | undefined {
    if (lb.elasticIpId === undefined || !this.loadBalancerHolds(lb) || !this.lbEipClaims.holds(lb.elasticIpId, lb.id)) return undefined;
    const x = this.elasticIps.get(lb.elasticIpId);
    if (!x || x.endpointId !== undefined || !this.publicClaims.holds(String(x.publicIp), x.id)) return undefined;
    return x;
  }

  loadBalancerHolds(lb: LoadBalancer): boolean {
    return (
      validPort(lb.port) &&
      validPort(lb.backendPort) &&
      Number.isInteger(lb.vip) &&
      lb.vip > 0 &&
      lb.vip <= 0xffffffff &&
      this.vipClaims.holds(vipKey(lb), lb.id) &&
      this.fnClaims.holds(fnKey(lb), lb.id)
    );
  }
}
