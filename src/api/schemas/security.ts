/** Security group and network ACL JSON shapes, and formatting from the model (ports and prefixes as text). */
import { Type } from '@sinclair/typebox';
import { ACL_ACTIONS, MAX_ACL_RULE_NUMBER, MAX_SECURITY_RULES, RULE_DIRECTIONS, RULE_PROTOCOLS, type AclRule, type NetworkAcl, type PortRange, type Prefix, type SecurityGroup, type SecurityRule } from '../../model/index.js';
import { formatIpv4 } from '../../net/index.js';
import { PageQuery, StrictObject } from './common.js';


const Direction = Type.Union(RULE_DIRECTIONS.map((d) => Type.Literal(d)), { description: 'ingress | egress' });
const Protocol = Type.Union(RULE_PROTOCOLS.map((p) => Type.Literal(p)), { description: 'tcp | udp | icmp | any' });
const Ports = Type.String({ maxLength: 11, examples: ['80', '8000-8100'], description: 'A port or a range from-to (tcp and udp only); absent: every port' });
const Cidr = Type.String({ maxLength: 18, examples: ['10.0.0.0/8'] });

const SecurityRuleFields = {
  direction: Direction,
  protocol: Protocol,
  ports: Type.Optional(Ports),
  cidr: Type.Optional({ ...Cidr, description: 'The other end (source of an ingress rule, destination of an egress rule); with neither cidr nor group: anywhere' }),
  group: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "Another group of the VPC (its members' addresses) as the other end; \"self\" names the group itself" })),
};
export const SecurityRuleJson = Type.Object(SecurityRuleFields);
const SecurityRuleBody = StrictObject(SecurityRuleFields);

export const SecurityGroupJson = Type.Object({
  id: Type.String({ examples: ['sg-1'] }),
  vpc: Type.String(),
  name: Type.String(),
  default: Type.Boolean({ description: "The VPC's default group: members reach each other, egress anywhere, nothing else in" }),
  rules: Type.Array(SecurityRuleJson),
});

export const CreateSecurityGroupBody = StrictObject({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  vpc: Type.String({ minLength: 1, maxLength: 64 }),
  rules: Type.Optional(Type.Array(SecurityRuleBody, { maxItems: MAX_SECURITY_RULES })),
});

export const UpdateSecurityGroupBody = StrictObject({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  rules: Type.Optional(Type.Array(SecurityRuleBody, { maxItems: MAX_SECURITY_RULES, description: 'Replaces every rule' })),
});

export const SecurityGroupQuery = StrictObject({ vpc: Type.Optional(Type.String({ maxLength: 64 })), ...PageQuery });

const AclRuleFields = {
  number: Type.Integer({ minimum: 1, maximum: MAX_ACL_RULE_NUMBER, description: 'Evaluation order within its direction: the lowest matching number decides' }),
  action: Type.Union(ACL_ACTIONS.map((a) => Type.Literal(a)), { description: 'allow | deny' }),
  direction: Direction,
  protocol: Protocol,
  ports: Type.Optional(Ports),
  cidr: { ...Cidr, description: 'The other end: the destination of an egress rule, the source of an ingress rule' },
};
export const AclRuleJson = Type.Object(AclRuleFields);
const AclRuleBody = StrictObject(AclRuleFields);

export const NetworkAclJson = Type.Object({
  id: Type.String({ examples: ['acl-1'] }),
  subnet: Type.String(),
  rules: Type.Array(AclRuleJson, { description: 'By number; traffic no rule of its direction matches is denied' }),
});

export const CreateNetworkAclBody = StrictObject({
  subnet: Type.String({ minLength: 1, maxLength: 64 }),
  rules: Type.Optional(Type.Array(AclRuleBody, { maxItems: MAX_SECURITY_RULES })),
});

export const UpdateNetworkAclBody = StrictObject({ rules: Type.Array(AclRuleBody, { maxItems: MAX_SECURITY_RULES, description: 'Replaces every rule' }) });

export const NetworkAclQuery = StrictObject({ subnet: Type.Optional(Type.String({ maxLength: 64 })), ...PageQuery });

export function formatPorts(p: PortRange): string {
  return p.from === p.to ? String(p.from) : `${p.from}-${p.to}`;
}

export function formatPrefix(p: Prefix): string {
  return `${formatIpv4(p.network)}/${p.prefixLength}`;
}

function securityRuleJson(r: SecurityRule) {
  return {
    direction: r.direction,
    protocol: r.protocol,
    ...(r.ports ? { ports: formatPorts(r.ports) } : {}),
    ...(r.cidr ? { cidr: formatPrefix(r.cidr) } : {}),
    ...(r.group !== undefined ? { group: r.group } : {}),
  };
}

export function securityGroupJson(g: SecurityGroup) {
  return { id: g.id, vpc: g.vpcId, name: g.name, default: g.isDefault, rules: g.rules.map(securityRuleJson) };
}

function aclRuleJson(r: AclRule) {
  return { number: r.number, action: r.action, direction: r.direction, protocol: r.protocol, ...(r.ports ? { ports: formatPorts(r.ports) } : {}), cidr: formatPrefix(r.cidr) };
}

export function networkAclJson(acl: NetworkAcl) {
  return { id: acl.id, subnet: acl.subnetId, rules: acl.rules.map(aclRuleJson) };
}
