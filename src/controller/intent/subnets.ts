/** Subnets: a VPC's address ranges, each with its gateway address. */
import { OvercastError, type ErrorCode, type ProblemDetail } from '../../errors/index.js';
import type { Subnet } from '../../model/index.js';
import { formatCidr, formatIpv4, parseCidr, parseIpv4 } from '../../net/index.js';
import { cidrOf } from '../store/intent-index.js';
import type { IntentContext, IntentDraft } from './context.js';
import type { Page, PageRequest } from './pagination.js';
import { collect } from './validation.js';
import { subnetDeletes, requireVpc } from './vpcs.js';

/** A subnet must hold network, gateway, one endpoint and broadcast. */
export const MAX_SUBNET_PREFIX = 30;

export interface CreateSubnetInput {
  name?: string;
  cidr: string;
  /** Default: the first host address. */
  gateway?: string;
}

export class SubnetResource {
  constructor(private readonly ctx: IntentContext) {}

  get(vpcId: string, subnetId: string): Subnet {
    requireVpc(this.ctx.index, vpcId);
    const s = this.ctx.index.subnets.get(subnetId);
    if (!s || s.vpcId !== vpcId) throw new OvercastError('OVC_ERR_SUBNET_NOT_FOUND', `no subnet ${subnetId} in VPC ${vpcId}`, 'params.subnetId');
    return s;
  }

  list(vpcId: string, page: PageRequest): Page<Subnet> {
    requireVpc(this.ctx.index, vpcId);
    return this.ctx.list('subnet', page, (s) => s.vpcId === vpcId);
  }

  create(vpcId: string, input: CreateSubnetInput): Promise<Subnet> {
    return this.ctx.write((tx) => this.createIn(tx, vpcId, input));
  }

  private createIn(tx: IntentDraft, vpcId: string, input: CreateSubnetInput): Subnet {
    const { index } = this.ctx;
    const vpc = requireVpc(index, vpcId);
    const problems: ProblemDetail[] = [];
    const cidr = collect(problems, () => parseCidr(input.cidr, 'body.cidr'));
    if (cidr) {
      const report = (code: ErrorCode, message: string) => problems.push({ code, message, field: 'body.cidr' });
      if (cidr.prefixLength > MAX_SUBNET_PREFIX) report('OVC_ERR_SUBNET_TOO_SMALL', `a subnet needs at least a /${MAX_SUBNET_PREFIX}, not /${cidr.prefixLength}`);
      if (!cidrOf(vpc).covers(cidr)) report('OVC_ERR_SUBNET_OUTSIDE_VPC', `${formatCidr(cidr)} is not inside VPC ${vpc.id} (${formatCidr(cidrOf(vpc))})`);
      for (const id of index.subnetIdsOf(vpcId)) {
        const other = index.subnets.get(id);
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
    return tx.create('subnet', (id) => ({
      id,
      vpcId,
      name: input.name ?? formatCidr(cidr),
      cidr: { network: cidr.network, prefixLength: cidr.prefixLength },
      gateway: gateway ?? cidr.firstHost,
    }));
  }

  /** Refused while the subnet has endpoints. */
  delete(vpcId: string, subnetId: string): Promise<void> {
    return this.ctx.write((tx) => {
      const before = this.get(vpcId, subnetId);
      const n = this.ctx.index.endpointCountOfSubnet(subnetId);
      if (n > 0) throw new OvercastError('OVC_ERR_SUBNET_HAS_ENDPOINTS', `subnet ${subnetId} still has ${n} endpoints`, 'params.subnetId');
      tx.commit(subnetDeletes(this.ctx.index, before));
    });
  }
}
