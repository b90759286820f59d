/**
 * Network ACLs: one per subnet at most, numbered allow/deny rules evaluated lowest number first per
 * direction, a deny after the last (docs/security-groups.md). Stateless: a reply needs a rule too.
 */
import { OvercastError, type ProblemDetail } from '../../errors/index.js';
import { sameRules, type NetworkAcl } from '../../model/index.js';
import type { IntentContext, IntentDraft } from './context.js';
import type { Page, PageRequest } from './pagination.js';
import { parseAclRules, type AclRuleInput } from './security-rules.js';

export interface CreateNetworkAclInput {
  subnet: string;
  rules?: AclRuleInput[];
}
export interface UpdateNetworkAclInput {
  /** Replaces the rules whole. */
  rules: AclRuleInput[];
}
export interface NetworkAclFilter {
  subnet?: string;
}

export class NetworkAclResource {
  constructor(private readonly ctx: IntentContext) {}

  get(id: string): NetworkAcl {
    const acl = this.ctx.index.networkAcls.get(id);
    if (!acl) throw new OvercastError('OVC_ERR_SECURITY_ACL_NOT_FOUND', `no network ACL ${id}`, 'params.id');
    return acl;
  }

  list(filter: NetworkAclFilter, page: PageRequest): Page<NetworkAcl> {
    return this.ctx.list('networkAcl', page, (a) => filter.subnet === undefined || a.subnetId === filter.subnet);
  }

  create(input: CreateNetworkAclInput): Promise<NetworkAcl> {
    return this.ctx.write((tx) => this.createIn(tx, input));
  }

  private createIn(tx: IntentDraft, input: CreateNetworkAclInput): NetworkAcl {
    const { index } = this.ctx;
    const problems: ProblemDetail[] = [];
    if (!index.subnets.has(input.subnet)) problems.push({ code: 'OVC_ERR_SUBNET_NOT_FOUND', message: `no subnet ${input.subnet}`, field: 'body.subnet' });
    else {
      const other = index.aclOfSubnet.get(input.subnet);
      if (other) problems.push({ code: 'OVC_ERR_SECURITY_ACL_EXISTS', message: `subnet ${input.subnet} has network ACL ${other}`, field: 'body.subnet' });
    }
    const rules = parseAclRules(problems, input.rules ?? []);
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    return tx.create('networkAcl', (id) => ({ id, subnetId: input.subnet, rules }));
  }

  update(id: string, input: UpdateNetworkAclInput): Promise<NetworkAcl> {
    return this.ctx.write((tx) => {
      const before = this.get(id);
      const problems: ProblemDetail[] = [];
      const rules = parseAclRules(problems, input.rules);
      if (problems.length > 0) throw OvercastError.fromProblems(problems);
      if (sameRules(rules, before.rules)) return before;
      const after: NetworkAcl = { ...before, rules };
      tx.commit([{ kind: 'networkAcl', op: 'update', before, after }]);
      return after;
    });
  }

  delete(id: string): Promise<void> {
    return this.ctx.write((tx) => {
      const before = this.get(id);
      tx.commit([{ kind: 'networkAcl', op: 'delete', before }]);
    });
  }
}
