/**
 * Load balancers: a VIP:port in a VPC spread over the endpoints of one function by revision weights,
 * with the backends taken out of the pool by an operator or the health prober, and optionally an
 * elastic IP that outside clients reach it by.
 */
import { isDeepStrictEqual } from 'node:util';
import { OvercastError, type ErrorCode, type ProblemDetail } from '../../errors/index.js';
import { LB_PROTOCOLS, markBackendHealth, withUnhealthy, type HealthMarkSource, type LbProtocol, type LoadBalancer } from '../../model/index.js';
import { parseIpv4 } from '../../net/index.js';
import { cidrOf } from '../store/intent-index.js';
import type { IntentContext, IntentDraft } from './context.js';
import type { Page, PageRequest } from './pagination.js';
import { collect } from './validation.js';
import { subnetsOf } from './vpcs.js';

/** Revision weights are small integers (the compiler scales them to bucket weights). */
export const MAX_REVISION_WEIGHT = 10_000;

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

export class LoadBalancerResource {
  constructor(private readonly ctx: IntentContext) {}

  get(id: string): LoadBalancer {
    const lb = this.ctx.index.loadBalancers.get(id);
    if (!lb) throw new OvercastError('OVC_ERR_LB_NOT_FOUND', `no load balancer ${id}`, 'params.id');
    return lb;
  }

  list(page: PageRequest): Page<LoadBalancer> {
    return this.ctx.list('loadBalancer', page, () => true);
  }

  create(input: CreateLoadBalancerInput): Promise<LoadBalancer> {
    return this.ctx.write((tx) => this.createIn(tx, input));
  }

  private createIn(tx: IntentDraft, input: CreateLoadBalancerInput): LoadBalancer {
    const { index } = this.ctx;
    const problems: ProblemDetail[] = [];
    const report = (code: ErrorCode, field: string, message: string) => problems.push({ code, message, field });
    const vpc = index.vpcs.get(input.vpc);
    if (!vpc) report('OVC_ERR_VPC_NOT_FOUND', 'body.vpc', `no VPC ${input.vpc}`);
    if (!(LB_PROTOCOLS as readonly string[]).includes(input.protocol)) report('OVC_ERR_API_VALIDATION', 'body.protocol', `protocol must be one of ${LB_PROTOCOLS.join(', ')}`);
    const backendPort = input.backendPort ?? input.port;
    for (const [field, p] of [['body.port', input.port], ['body.backendPort', backendPort]] as const) {
      if (!Number.isInteger(p) || p < 1 || p > 0xffff) report('OVC_ERR_API_VALIDATION', field, `${field} must be 1..65535`);
    }
    checkWeights(problems, input.weights ?? {});
    if (input.elasticIp !== undefined) this.checkElasticIp(problems, input.elasticIp, undefined);
    const vip = collect(problems, () => parseIpv4(input.vip, 'body.vip'));
    if (vip !== undefined && vpc) {
      if (!cidrOf(vpc).contains(vip)) report('OVC_ERR_LB_BAD_VIP', 'body.vip', `${input.vip} is not inside VPC ${vpc.id}`);
      else if (subnetsOf(index, vpc.id).some((sn) => sn.gateway === vip || index.ipOwner(sn.id, vip) !== undefined)) {
        report('OVC_ERR_LB_BAD_VIP', 'body.vip', `${input.vip} is an endpoint's or a gateway's address`);
      }
      for (const other of index.loadBalancers.values()) {
        if (other.vpcId !== vpc.id || other.protocol !== input.protocol) continue;
        if ((other.vip === vip && other.port === input.port) || (other.function === input.function && other.backendPort === backendPort)) {
          report('OVC_ERR_LB_CONFLICT', 'body.vip', `load balancer ${other.id} already serves that`);
          break;
        }
      }
    }
    if (problems.length > 0 || !vpc || vip === undefined) throw OvercastError.fromProblems(problems);
    return tx.create('loadBalancer', (id) => {
      const lb: LoadBalancer = {
        id,
        vpcId: vpc.id,
        vip,
        protocol: input.protocol,
        port: input.port,
        backendPort,
        function: input.function,
        weights: { ...(input.weights ?? {}) },
        unhealthy: [],
      };
      return input.elasticIp === undefined ? lb : { ...lb, elasticIpId: input.elasticIp };
    });
  }

  /** New revision weights (a canary's split), the set of unhealthy backends and/or the elastic IP. */
  update(id: string, input: UpdateLoadBalancerInput): Promise<LoadBalancer> {
    return this.ctx.write((tx) => this.updateIn(tx, id, input));
  }

  private updateIn(tx: IntentDraft, id: string, input: UpdateLoadBalancerInput): LoadBalancer {
    const before = this.get(id);
    const problems: ProblemDetail[] = [];
    if (input.weights) checkWeights(problems, input.weights);
    if (typeof input.elasticIp === 'string') this.checkElasticIp(problems, input.elasticIp, id);
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    const { elasticIpId: oldEip, ...rest } = before;
    const eip = input.elasticIp === undefined ? oldEip : (input.elasticIp ?? undefined);
    const weighted: LoadBalancer = { ...rest, weights: input.weights ? { ...input.weights } : before.weights };
    // A new unhealthy list is the operator's, except for the backends the prober had already taken out.
    const changed = input.unhealthy ? withUnhealthy(weighted, input.unhealthy, before.unhealthyByProbe ?? []) : weighted;
    return this.replace(tx, before, eip === undefined ? changed : { ...changed, elasticIpId: eip });
  }

  /**
   * Marks one backend healthy or not: `rest` (an operator: the mark stands until REST clears it) or
   * `probe` (the health prober, which returns only backends it took out itself; src/model/backend-health.ts).
   */
  setBackendHealth(id: string, endpointId: string, healthy: boolean, by: HealthMarkSource = 'rest'): Promise<LoadBalancer> {
    return this.ctx.write((tx) => {
      const before = this.get(id);
      return this.replace(tx, before, markBackendHealth(before, endpointId, healthy, by));
    });
  }

  delete(id: string): Promise<void> {
    return this.ctx.write((tx) => {
      const before = this.get(id);
      tx.commit([{ kind: 'loadBalancer', op: 'delete', before }]);
    });
  }

  /** Commits a load balancer's new state (nothing when nothing changed). */
  private replace(tx: IntentDraft, before: LoadBalancer, after: LoadBalancer): LoadBalancer {
    // Deep equality, not JSON text: the same state built in another key order is no change.
    if (isDeepStrictEqual(after, before)) return before;
    tx.commit([{ kind: 'loadBalancer', op: 'update', before, after }]);
    return after;
  }

  /** An LB's elastic IP: allocated, associated with no endpoint, serving no other LB (one address, one target). */
  private checkElasticIp(problems: ProblemDetail[], eipId: string, self: string | undefined): void {
    const x = this.ctx.index.elasticIps.get(eipId);
    if (!x) {
      problems.push({ code: 'OVC_ERR_EIP_NOT_FOUND', message: `no elastic IP ${eipId}`, field: 'body.elasticIp' });
      return;
    }
    if (x.endpointId !== undefined) {
      problems.push({ code: 'OVC_ERR_EIP_IN_USE', message: `elastic IP ${eipId} is associated with endpoint ${x.endpointId}`, field: 'body.elasticIp' });
      return;
    }
    const other = this.ctx.index.loadBalancerOfElasticIp(eipId);
    if (other && other.id !== self) problems.push({ code: 'OVC_ERR_EIP_IN_USE', message: `elastic IP ${eipId} serves load balancer ${other.id}`, field: 'body.elasticIp' });
  }
}

function checkWeights(problems: ProblemDetail[], weights: Record<string, number>): void {
  for (const [rev, w] of Object.entries(weights)) {
    if (!Number.isInteger(w) || w < 0 || w > MAX_REVISION_WEIGHT) {
      problems.push({ code: 'OVC_ERR_LB_BAD_WEIGHTS', message: `weight of ${rev} must be an integer 0..${MAX_REVISION_WEIGHT}`, field: `body.weights.${rev}` });
    }
  }
}
