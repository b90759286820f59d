/**
 * Elastic IPs: public addresses from the gateways' pools, each associated with at most one endpoint
 * or serving one load balancer.
 */
import { OvercastError } from '../../errors/index.js';
import type { ElasticIp } from '../../model/index.js';
import { Cidr, parseIpv4 } from '../../net/index.js';
import type { IntentContext, IntentDraft } from './context.js';
import type { Page, PageRequest } from './pagination.js';

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

export class ElasticIpResource {
  constructor(private readonly ctx: IntentContext) {}

  get(id: string): ElasticIp {
    const x = this.ctx.index.elasticIps.get(id);
    if (!x) throw new OvercastError('OVC_ERR_EIP_NOT_FOUND', `no elastic IP ${id}`, 'params.id');
    return x;
  }

  list(page: PageRequest): Page<ElasticIp> {
    return this.ctx.list('elasticIp', page, () => true);
  }

  allocate(input: AllocateElasticIpInput): Promise<ElasticIp> {
    return this.ctx.write((tx) => this.allocateIn(tx, input));
  }

  private allocateIn(tx: IntentDraft, input: AllocateElasticIpInput): ElasticIp {
    const pools = (this.ctx.placement.topology.gateways ?? []).map((g) => new Cidr(g.publicPool.network, g.publicPool.prefixLength));
    if (pools.length === 0) throw new OvercastError('OVC_ERR_EIP_NO_GATEWAY', 'the topology has no gateway with a public pool', 'body');
    const taken = new Set([...this.ctx.index.elasticIps.values()].map((x) => x.publicIp));
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
    return tx.create('elasticIp', (id) => (input.endpoint === undefined ? { id, publicIp } : { id, publicIp, endpointId: input.endpoint }));
  }

  /** Associate, move (one change: the compiler's delta is make-before-break) or disassociate (null). */
  update(id: string, input: UpdateElasticIpInput): Promise<ElasticIp> {
    return this.ctx.write((tx) => this.updateIn(tx, id, input));
  }

  private updateIn(tx: IntentDraft, id: string, input: UpdateElasticIpInput): ElasticIp {
    const before = this.get(id);
    if ((before.endpointId ?? null) === input.endpoint) return before;
    if (input.endpoint !== null) {
      const lb = this.ctx.index.loadBalancerOfElasticIp(id);
      if (lb) throw new OvercastError('OVC_ERR_EIP_IN_USE', `elastic IP ${id} serves load balancer ${lb.id}`, 'body.endpoint');
      this.checkAssociation(input.endpoint, id);
    }
    const after: ElasticIp = input.endpoint === null ? { id, publicIp: before.publicIp } : { id, publicIp: before.publicIp, endpointId: input.endpoint };
    tx.commit([{ kind: 'elasticIp', op: 'update', before, after }]);
    return after;
  }

  /** Gives the address back to the pool; refused while it is associated or serves a load balancer. */
  release(id: string): Promise<void> {
    return this.ctx.write((tx) => {
      const before = this.get(id);
      if (before.endpointId !== undefined) throw new OvercastError('OVC_ERR_EIP_IN_USE', `elastic IP ${id} is associated with ${before.endpointId}`, 'params.id');
      const lb = this.ctx.index.loadBalancerOfElasticIp(id);
      if (lb) throw new OvercastError('OVC_ERR_EIP_IN_USE', `elastic IP ${id} serves load balancer ${lb.id}`, 'params.id');
      tx.commit([{ kind: 'elasticIp', op: 'delete', before }]);
    });
  }

  /** May the elastic IP `self` (undefined: a new one) be associated with the endpoint? */
  private checkAssociation(endpointId: string, self: string | undefined): void {
    const { index } = this.ctx;
    if (!index.endpoints.has(endpointId)) throw new OvercastError('OVC_ERR_ENDPOINT_NOT_FOUND', `no endpoint ${endpointId}`, 'body.endpoint');
    const other = [...index.elasticIps.values()].find((x) => x.endpointId === endpointId && x.id !== self);
    if (other) throw new OvercastError('OVC_ERR_EIP_IN_USE', `endpoint ${endpointId} already has elastic IP ${other.id}`, 'body.endpoint');
  }
}
