/**
 * Rules of security groups and network ACLs as the API sends them (ports and prefixes as text),
 * checked and turned into the model's values, every problem reported at once with its field.
 */
import type { ProblemDetail } from '../../errors/index.js';
import { ACL_ACTIONS, MAX_ACL_RULE_NUMBER, MAX_SECURITY_RULES, RULE_DIRECTIONS, RULE_PROTOCOLS, type AclAction, type AclRule, type PortRange, type Prefix, type RuleDirection, type RuleProtocol, type SecurityRule } from '../../model/index.js';
import { parseCidr } from '../../net/index.js';
import { collect } from './validation.js';

export interface SecurityRuleInput {
  direction: RuleDirection;
  protocol: RuleProtocol;
  /** "80" or "8000-8100"; tcp and udp only. */
  ports?: string;
  cidr?: string;
  group?: string;
}

export interface AclRuleInput {
  number: number;
  action: AclAction;
  direction: RuleDirection;
  protocol: RuleProtocol;
  ports?: string;
  cidr: string;
}

const PORTS = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/;

function bad(problems: ProblemDetail[], field: string, message: string): void {
  problems.push({ code: 'OVC_ERR_SECURITY_BAD_RULE', message, field });
}

function parsePorts(problems: ProblemDetail[], text: string, field: string): PortRange | undefined {
  const m = PORTS.exec(text);
  const from = m ? Number(m[1]) : NaN;
  const to = m?.[2] === undefined ? from : Number(m[2]);
  if (!m || from < 1 || to > 0xffff || from > to) {
    bad(problems, field, `ports must be a port or a range "from-to" within 1..65535, not ${JSON.stringify(text)}`);
    return undefined;
  }
  return { from, to };
}

function parsePrefix(problems: ProblemDetail[], text: string, field: string): Prefix | undefined {
  const c = collect(problems, () => parseCidr(text, field));
  return c && { network: c.network, prefixLength: c.prefixLength };
}

/** Direction, protocol and ports, shared by both kinds of rule. */
function parseCommon(problems: ProblemDetail[], r: { direction: string; protocol: string; ports?: string }, at: string): { ports?: PortRange } | undefined {
  let ok = true;
  if (!(RULE_DIRECTIONS as readonly string[]).includes(r.direction)) {
    bad(problems, `${at}.direction`, `direction must be one of ${RULE_DIRECTIONS.join(', ')}`);
    ok = false;
  }
  if (!(RULE_PROTOCOLS as readonly string[]).includes(r.protocol)) {
    bad(problems, `${at}.protocol`, `protocol must be one of ${RULE_PROTOCOLS.join(', ')}`);
    ok = false;
  }
  if (r.ports === undefined) return ok ? {} : undefined;
  if (r.protocol !== 'tcp' && r.protocol !== 'udp') {
    bad(problems, `${at}.ports`, `a ${r.protocol} rule has no ports`);
    return undefined;
  }
  const ports = parsePorts(problems, r.ports, `${at}.ports`);
  return ok && ports ? { ports } : undefined;
}

/** A group's rules; `groupExists` says whether a named group is one of the VPC's (the group itself included). */
export function parseSecurityRules(problems: ProblemDetail[], rules: readonly SecurityRuleInput[], groupExists: (id: string) => boolean): SecurityRule[] {
  const out: SecurityRule[] = [];
  if (rules.length > MAX_SECURITY_RULES) bad(problems, 'body.rules', `at most ${MAX_SECURITY_RULES} rules`);
  rules.forEach((r, i) => {
    const at = `body.rules[${i}]`;
    const common = parseCommon(problems, r, at);
    if (r.cidr !== undefined && r.group !== undefined) bad(problems, at, 'a rule names a cidr or a group, not both');
    const cidr = r.cidr === undefined ? undefined : parsePrefix(problems, r.cidr, `${at}.cidr`);
    if (r.group !== undefined && !groupExists(r.group)) {
      problems.push({ code: 'OVC_ERR_SECURITY_GROUP_NOT_FOUND', message: `no security group ${r.group} in this VPC`, field: `${at}.group` });
    }
    if (!common) return;
    out.push({
      direction: r.direction,
      protocol: r.protocol,
      ...common,
      ...(cidr ? { cidr } : {}),
      ...(r.group !== undefined ? { group: r.group } : {}),
    });
  });
  return out;
}

/** An ACL's rules, sorted by number; a number may appear once per direction. */
export function parseAclRules(problems: ProblemDetail[], rules: readonly AclRuleInput[]): AclRule[] {
  const out: AclRule[] = [];
  if (rules.length > MAX_SECURITY_RULES) bad(problems, 'body.rules', `at most ${MAX_SECURITY_RULES} rules`);
  const seen = new Set<string>();
  rules.forEach((r, i) => {
    const at = `body.rules[${i}]`;
    const common = parseCommon(problems, r, at);
    if (!Number.isInteger(r.number) || r.number < 1 || r.number > MAX_ACL_RULE_NUMBER) {
      bad(problems, `${at}.number`, `number must be an integer 1..${MAX_ACL_RULE_NUMBER}`);
      return;
    }
    if (seen.has(`${r.direction}:${r.number}`)) bad(problems, `${at}.number`, `rule ${r.number} of direction ${r.direction} appears twice`);
    seen.add(`${r.direction}:${r.number}`);
    if (!(ACL_ACTIONS as readonly string[]).includes(r.action)) bad(problems, `${at}.action`, `action must be one of ${ACL_ACTIONS.join(', ')}`);
    const cidr = parsePrefix(problems, r.cidr, `${at}.cidr`);
    if (!common || !cidr) return;
    out.push({ number: r.number, action: r.action, direction: r.direction, protocol: r.protocol, ...common, cidr });
  });
  return out.sort((x, y) => x.number - y.number || x.direction.localeCompare(y.direction));
}
