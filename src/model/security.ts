/**
 * Security groups and network ACLs (docs/security-groups.md): plain immutable values, as the rest of
 * the intent. A security group is a set of allow rules attached to endpoints, stateful (the replies of
 * an allowed connection pass without a rule); a network ACL is a subnet's ordered allow/deny list,
 * stateless, with a deny at its end.
 */

export const RULE_DIRECTIONS = ['ingress', 'egress'] as const;
export type RuleDirection = (typeof RULE_DIRECTIONS)[number];

export const RULE_PROTOCOLS = ['tcp', 'udp', 'icmp', 'any'] as const;
export type RuleProtocol = (typeof RULE_PROTOCOLS)[number];

/** IP protocol numbers of the protocols a rule can name (`any` matches every IPv4 packet). */
export const IP_PROTO_OF: Readonly<Record<Exclude<RuleProtocol, 'any'>, number>> = { tcp: 6, udp: 17, icmp: 1 };

export const ACL_ACTIONS = ['allow', 'deny'] as const;
export type AclAction = (typeof ACL_ACTIONS)[number];

/** A port range, both ends included (1..65535). Only tcp and udp rules carry one. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export interface Prefix {
  readonly network: number;
  readonly prefixLength: number;
}

/**
 * One allow rule of a group. `cidr` or `group` names the other end (the source of an ingress rule, the
 * destination of an egress rule); neither means any address. `ports` absent: every port.
 */
export interface SecurityRule {
  readonly direction: RuleDirection;
  readonly protocol: RuleProtocol;
  readonly ports?: PortRange;
  readonly cidr?: Prefix;
  /** Another (or the same) group of the VPC: its members' addresses. */
  readonly group?: string;
}

export interface SecurityGroup {
  readonly id: string;
  readonly vpcId: string;
  readonly name: string;
  /** Replaced whole on update. */
  readonly rules: readonly SecurityRule[];
  /** The VPC's default group: made with the VPC, joined by endpoints that name no group, deleted with it. */
  readonly isDefault: boolean;
}

export interface AclRule {
  /** Evaluation order: the lowest number that matches decides (1..32766). Unique per direction. */
  readonly number: number;
  readonly action: AclAction;
  readonly direction: RuleDirection;
  readonly protocol: RuleProtocol;
  readonly ports?: PortRange;
  /** The other end: the destination of an egress rule, the source of an ingress rule. */
  readonly cidr: Prefix;
}

/** A subnet's network ACL (at most one per subnet). Traffic no rule of its direction matches is denied. */
export interface NetworkAcl {
  readonly id: string;
  readonly subnetId: string;
  readonly rules: readonly AclRule[];
}

export const MAX_ACL_RULE_NUMBER = 32_766;

/** Rules per group or ACL at most (the compiler numbers a group's rules in 6 bits: docs/security-groups.md). */
export const MAX_SECURITY_RULES = 64;

/** The rules of the default group `id`: members reach each other, egress anywhere, nothing else in. */
export function defaultGroupRules(id: string): SecurityRule[] {
  return [
    { direction: 'ingress', protocol: 'any', group: id },
    { direction: 'egress', protocol: 'any', cidr: { network: 0, prefixLength: 0 } },
  ];
}

/** `a` and `b` hold the same rules in the same order (rule values compared by field). */
export function sameRules(a: readonly object[], b: readonly object[]): boolean {
  return a.length === b.length && a.every((r, i) => JSON.stringify(r) === JSON.stringify(b[i]));
}
