/**
 * Security groups: allow rules attached to endpoints (docs/security-groups.md). Every VPC has a
 * default group, made with it and deleted with it; endpoints that name no group join it. A group is
 * refused deletion while an endpoint is in it or another group's rule names it.
 */
import { OvercastError, type ProblemDetail } from '../../errors/index.js';
import { defaultGroupRules, sameRules, type SecurityGroup, type Vpc } from '../../model/index.js';
import type { IntentContext, IntentDraft, IntentView } from './context.js';
import type { Page, PageRequest } from './pagination.js';
import { parseSecurityRules, type SecurityRuleInput } from './security-rules.js';

export interface CreateSecurityGroupInput {
  name: string;
  vpc: string;
  rules?: SecurityRuleInput[];
}
export interface UpdateSecurityGroupInput {
  name?: string;
  /** Replaces the rules whole. */
  rules?: SecurityRuleInput[];
}
export interface SecurityGroupFilter {
  vpc?: string;
}

/** A VPC's default group, as made with the VPC. */
export function defaultGroup(vpc: Vpc, id: string): SecurityGroup {
  return { id, vpcId: vpc.id, name: 'default', rules: defaultGroupRules(id), isDefault: true };
}

/** The VPCs without a default group (stored before groups existed). */
export function missingDefaultGroups(index: IntentView): Vpc[] {
  return [...index.vpcs.values()].filter((v) => !index.defaultGroupOf.has(v.id));
}

/** Checks the groups an endpoint of `vpcId` is to be in; returns them, or undefined after reporting. */
export function checkEndpointGroups(problems: ProblemDetail[], index: IntentView, vpcId: string, groups: readonly string[], field: string): string[] | undefined {
  let ok = true;
  if (groups.length === 0) {
    problems.push({ code: 'OVC_ERR_SECURITY_BAD_RULE', message: 'an endpoint is in at least one security group', field });
    return undefined;
  }
  groups.forEach((g, i) => {
    const x = index.securityGroups.get(g);
    if (!x || x.vpcId !== vpcId) {
      problems.push({ code: 'OVC_ERR_SECURITY_GROUP_NOT_FOUND', message: `no security group ${g} in VPC ${vpcId}`, field: `${field}[${i}]` });
      ok = false;
    }
  });
  return ok ? [...new Set(groups)] : undefined;
}

export class SecurityGroupResource {
  constructor(private readonly ctx: IntentContext) {}

  get(id: string): SecurityGroup {
    const g = this.ctx.index.securityGroups.get(id);
    if (!g) throw new OvercastError('OVC_ERR_SECURITY_GROUP_NOT_FOUND', `no security group ${id}`, 'params.id');
    return g;
  }

  list(filter: SecurityGroupFilter, page: PageRequest): Page<SecurityGroup> {
    return this.ctx.list('securityGroup', page, (g) => filter.vpc === undefined || g.vpcId === filter.vpc);
  }

  create(input: CreateSecurityGroupInput): Promise<SecurityGroup> {
    return this.ctx.write((tx) => this.createIn(tx, input));
  }

  private createIn(tx: IntentDraft, input: CreateSecurityGroupInput): SecurityGroup {
    const vpc = this.ctx.index.vpcs.get(input.vpc);
    if (!vpc) throw new OvercastError('OVC_ERR_VPC_NOT_FOUND', `no VPC ${input.vpc}`, 'body.vpc');
    const problems: ProblemDetail[] = [];
    // A rule may name the group being made: its id is not known yet, so `self` stands for it until then.
    const rules = parseSecurityRules(problems, input.rules ?? [], (g) => g === SELF || this.inVpc(g, vpc.id));
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    return tx.create('securityGroup', (id) => ({
      id,
      vpcId: vpc.id,
      name: input.name,
      rules: rules.map((r) => (r.group === SELF ? { ...r, group: id } : r)),
      isDefault: false,
    }));
  }

  /** A new name and/or new rules (replacing the old ones whole). */
  update(id: string, input: UpdateSecurityGroupInput): Promise<SecurityGroup> {
    return this.ctx.write((tx) => this.updateIn(tx, id, input));
  }

  private updateIn(tx: IntentDraft, id: string, input: UpdateSecurityGroupInput): SecurityGroup {
    const before = this.get(id);
    const problems: ProblemDetail[] = [];
    const rules = input.rules === undefined ? before.rules : parseSecurityRules(problems, input.rules, (g) => g === SELF || this.inVpc(g, before.vpcId));
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    const after: SecurityGroup = { ...before, name: input.name ?? before.name, rules: rules.map((r) => (r.group === SELF ? { ...r, group: id } : r)) };
    if (after.name === before.name && sameRules(after.rules, before.rules)) return before;
    tx.commit([{ kind: 'securityGroup', op: 'update', before, after }]);
    return after;
  }

  /** Refused for a default group, and while an endpoint is in the group or another group's rule names it. */
  delete(id: string): Promise<void> {
    return this.ctx.write((tx) => this.deleteIn(tx, id));
  }

  private deleteIn(tx: IntentDraft, id: string): void {
    const before = this.get(id);
    const { index } = this.ctx;
    if (before.isDefault) throw new OvercastError('OVC_ERR_SECURITY_GROUP_DEFAULT', `${id} is VPC ${before.vpcId}'s default group`, 'params.id');
    for (const e of index.endpoints.values()) {
      if (e.securityGroups?.includes(id)) throw new OvercastError('OVC_ERR_SECURITY_GROUP_IN_USE', `endpoint ${e.id} is in security group ${id}`, 'params.id');
    }
    for (const g of index.securityGroups.values()) {
      if (g.id !== id && g.rules.some((r) => r.group === id)) throw new OvercastError('OVC_ERR_SECURITY_GROUP_IN_USE', `a rule of security group ${g.id} names ${id}`, 'params.id');
    }
    tx.commit([{ kind: 'securityGroup', op: 'delete', before }]);
  }

  private inVpc(group: string, vpcId: string): boolean {
    return this.ctx.index.securityGroups.get(group)?.vpcId === vpcId;
  }
}

/** In a rule of a group being created or changed, `group: "self"` names that group. */
export const SELF = 'self';
