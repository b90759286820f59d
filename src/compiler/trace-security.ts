/**
 * What a trace says of a security-group or network-ACL flow: which rule allowed the packet or that
 * none did (docs/security-groups.md). Reads the flow's table, priority and match and the intent.
 */
import { TABLE, type FlowEntry } from '../flow/index.js';
import { defaultGroupsByVpc, type Intent, type SecurityRule } from '../model/index.js';
import { formatIpv4 } from '../net/index.js';
import { ruleConjId, ruleShape } from './compile-security.js';
import type { OwnerName } from './owner-registry.js';
import { PRIORITY } from './priorities.js';

function describeRule(r: Pick<SecurityRule, 'direction' | 'protocol' | 'ports' | 'cidr' | 'group'>): string {
  const ports = r.ports ? ` ${r.ports.from === r.ports.to ? r.ports.from : `${r.ports.from}-${r.ports.to}`}` : '';
  const other = r.group !== undefined ? ` group ${r.group}` : r.cidr ? ` ${formatIpv4(r.cidr.network)}/${r.cidr.prefixLength}` : ' anywhere';
  return `${r.direction} ${r.protocol}${ports}${r.direction === 'ingress' ? ' from' : ' to'}${other}`;
}

/** The rule that decided at this flow, or undefined for a flow that is no verdict of a group or ACL. */
export function explainSecurityFlow(flow: FlowEntry, owner: OwnerName | undefined, intent: Intent | undefined): string | undefined {
  if (!intent) return undefined;
  if (flow.table === TABLE.ACL_EGRESS || flow.table === TABLE.ACL_INGRESS) {
    if (owner?.kind !== 'networkAcl') return undefined;
    if (flow.priority === PRIORITY.ACL_DEFAULT_DENY) return `network ACL ${owner.name}: no rule matched (default deny)`;
    const number = PRIORITY.ACL_RULE_BASE - flow.priority;
    const rule = intent.networkAcls?.get(owner.name)?.rules.find((r) => r.number === number && (r.direction === 'egress') === (flow.table === TABLE.ACL_EGRESS));
    return rule ? `network ACL ${owner.name} rule ${number}: ${rule.action} ${describeRule(rule)}` : `network ACL ${owner.name} rule ${number}`;
  }
  if (flow.table !== TABLE.SG_EGRESS && flow.table !== TABLE.SG_INGRESS) return undefined;
  const conjId = flow.match.conjId;
  if (typeof conjId === 'number') {
    for (const g of intent.securityGroups?.values() ?? []) {
      const index = g.rules.findIndex((_, i) => ruleConjId(g.id, i) === conjId);
      if (index >= 0) return `security group ${g.id} rule ${index}: allow ${describeRule(g.rules[index])}`;
    }
    return undefined;
  }
  if (owner?.kind !== 'endpoint') return undefined;
  const e = intent.endpoints.get(owner.name);
  if (!e) return undefined;
  const defaults = defaultGroupsByVpc(intent);
  const groups = (e.securityGroups ?? [defaults.get(e.vpcId) ?? '']).flatMap((id) => intent.securityGroups?.get(id) ?? []);
  const names = groups.map((g) => g.id).join(', ');
  if (flow.priority === PRIORITY.SG_DROP) return `security groups ${names} of ${e.id}: no rule allows it`;
  if (flow.priority === PRIORITY.SG_INVALID_DROP) return `conntrack: invalid for ${e.id}`;
  if (flow.priority === PRIORITY.SG_HEALTH_REPLY) return `${e.id}'s answer to its subnet gateway's health probe`;
  if (flow.priority === PRIORITY.SG_ALLOW_DIRECT) {
    if (flow.match.ipProto !== undefined) return `${e.id}'s subnet gateway: health probe`;
    for (const g of groups) {
      const index = g.rules.findIndex((r) => ruleShape(r).nClauses === 1);
      if (index >= 0) return `security group ${g.id} rule ${index}: allow ${describeRule(g.rules[index])}`;
    }
  }
  return undefined;
}
