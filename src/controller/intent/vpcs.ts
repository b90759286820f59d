/** VPCs: an address space and the VNI that labels its traffic between switches. */
import { OvercastError } from '../../errors/index.js';
import { MAX_VNI, type Subnet, type Vpc } from '../../model/index.js';
import { formatCidr, parseCidr } from '../../net/index.js';
import { cidrOf } from '../store/intent-index.js';
import type { CommittedChange } from './changes.js';
import type { IntentContext, IntentDraft, IntentView } from './context.js';
import type { Page, PageRequest } from './pagination.js';
import { defaultGroup } from './security-groups.js';

export interface CreateVpcInput {
  name: string;
  cidr: string;
  /** The VNI to carry; default the lowest free one. */
  vni?: number;
}
export interface UpdateVpcInput {
  name?: string;
  /** A new address space; it must still cover every subnet. */
  cidr?: string;
}

/** The VPC `id`, or OVC_ERR_VPC_NOT_FOUND on `field`. */
export function requireVpc(index: IntentView, id: string, field = 'params.id'): Vpc {
  const v = index.vpcs.get(id);
  if (!v) throw new OvercastError('OVC_ERR_VPC_NOT_FOUND', `no VPC ${id}`, field);
  return v;
}

/** The subnets of a VPC, in id order. */
export function subnetsOf(index: IntentView, vpcId: string): Subnet[] {
  return [...index.subnetIdsOf(vpcId)].map((s) => index.subnets.get(s)).filter((s): s is Subnet => s !== undefined);
}

/** A subnet's delete with its network ACL's before it. */
export function subnetDeletes(index: IntentView, subnet: Subnet): CommittedChange[] {
  const aclId = index.aclOfSubnet.get(subnet.id);
  const acl = aclId === undefined ? undefined : index.networkAcls.get(aclId);
  const out: CommittedChange[] = acl ? [{ kind: 'networkAcl', op: 'delete', before: acl }] : [];
  out.push({ kind: 'subnet', op: 'delete', before: subnet });
  return out;
}

export class VpcResource {
  constructor(private readonly ctx: IntentContext) {}

  get(id: string): Vpc {
    return requireVpc(this.ctx.index, id);
  }

  list(page: PageRequest): Page<Vpc> {
    return this.ctx.list('vpc', page, () => true);
  }

  create(input: CreateVpcInput): Promise<Vpc> {
    return this.ctx.write((tx) => {
      const cidr = parseCidr(input.cidr, 'body.cidr');
      const vni = input.vni ?? this.ctx.index.lowestFreeVni(MAX_VNI);
      if (vni === undefined) throw new OvercastError('OVC_ERR_VPC_EXHAUSTED', `all ${MAX_VNI} VNIs are taken`, 'body');
      if (!Number.isInteger(vni) || vni < 1 || vni > MAX_VNI) throw new OvercastError('OVC_ERR_VPC_BAD_VNI', `VNI ${vni} is not in 1..${MAX_VNI}`, 'body.vni');
      if (this.ctx.index.vnis.has(vni)) {
        const holder = [...this.ctx.index.vpcs.values()].find((v) => v.vni === vni);
        throw new OvercastError('OVC_ERR_VPC_VNI_TAKEN', `VNI ${vni} is ${holder?.id ?? 'another VPC'}'s`, 'body.vni');
      }
      const vpc = tx.create('vpc', (id) => ({ id, name: input.name, cidr: { network: cidr.network, prefixLength: cidr.prefixLength }, vni }));
      // Its default group (docs/security-groups.md), in the same transaction.
      tx.create('securityGroup', (id) => defaultGroup(vpc, id));
      return vpc;
    });
  }

  update(id: string, input: UpdateVpcInput): Promise<Vpc> {
    return this.ctx.write((tx) => this.updateIn(tx, id, input));
  }

  private updateIn(tx: IntentDraft, id: string, input: UpdateVpcInput): Vpc {
    const before = this.get(id);
    let cidr = before.cidr;
    if (input.cidr !== undefined) {
      const c = parseCidr(input.cidr, 'body.cidr');
      const left = subnetsOf(this.ctx.index, id).filter((s) => !c.covers(cidrOf(s)));
      if (left.length > 0) {
        throw new OvercastError('OVC_ERR_SUBNET_OUTSIDE_VPC', `${formatCidr(c)} does not cover subnet ${left[0].id} (${formatCidr(cidrOf(left[0]))})`, 'body.cidr');
      }
      cidr = { network: c.network, prefixLength: c.prefixLength };
    }
    const after: Vpc = { ...before, name: input.name ?? before.name, cidr };
    if (after.name === before.name && after.cidr.network === before.cidr.network && after.cidr.prefixLength === before.cidr.prefixLength) return before;
    tx.commit([{ kind: 'vpc', op: 'update', before, after }]);
    return after;
  }

  /**
   * Deletes the VPC, its (empty) subnets with their network ACLs and its default security group;
   * refused while it has endpoints, load balancers or other security groups.
   */
  delete(id: string): Promise<void> {
    return this.ctx.write((tx) => this.deleteIn(tx, id));
  }

  private deleteIn(tx: IntentDraft, id: string): void {
    const before = this.get(id);
    const { index } = this.ctx;
    const n = index.endpointCountOfVpc(id);
    if (n > 0) throw new OvercastError('OVC_ERR_VPC_HAS_ENDPOINTS', `VPC ${id} still has ${n} endpoints`, 'params.id');
    const lb = [...index.loadBalancers.values()].find((l) => l.vpcId === id);
    if (lb) throw new OvercastError('OVC_ERR_VPC_HAS_LOAD_BALANCERS', `VPC ${id} still has load balancer ${lb.id}`, 'params.id');
    const groups = [...index.securityGroups.values()].filter((g) => g.vpcId === id);
    const other = groups.find((g) => !g.isDefault);
    if (other) throw new OvercastError('OVC_ERR_SECURITY_VPC_HAS_GROUPS', `VPC ${id} still has security group ${other.id}`, 'params.id');
    const subnets = subnetsOf(index, id).flatMap((s) => subnetDeletes(index, s));
    const defaults = groups.map((g): CommittedChange => ({ kind: 'securityGroup', op: 'delete', before: g }));
    tx.commit([...subnets, ...defaults, { kind: 'vpc', op: 'delete', before }]);
  }
}
