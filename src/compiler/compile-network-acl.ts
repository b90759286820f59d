/**
 * A network ACL as flows (docs/security-groups.md), a pure builder. Stateless: every packet leaving an
 * endpoint of the subnet (ACL_EGRESS, on its switch) or delivered to one (ACL_INGRESS, on its switch)
 * meets the rules of its direction, lowest number first (priority ACL_RULE_BASE - number): allow -> on,
 * deny -> drop; IPv4 no rule matched is denied. A subnet without an ACL is not filtered (the tables'
 * misses go on).
 */
import { nextTable, TABLE, type Action, type FlowEntry, type Match } from '../flow/index.js';
import { IP_PROTO_OF, type AclRule, type NetworkAcl, type Prefix } from '../model/index.js';
import { prefixMask } from '../net/cidr.js';
import { ETH_TYPE_IPV4 } from '../net/packet/constants.js';
import { portPrefixes } from './compile-security.js';
import { PRIORITY } from './priorities.js';

const NO_ACTIONS: Action[] = [];
Object.freeze(NO_ACTIONS);

function prefixMatch(p: Prefix): number | { value: number; mask: number } | undefined {
  if (p.prefixLength === 0) return undefined;
  const mask = prefixMask(p.prefixLength);
  const value = (p.network & mask) >>> 0;
  return mask === 0xffffffff ? value : { value, mask };
}

/** The matches of one rule's protocol and destination ports. */
function l4Matches(r: AclRule): Match[] {
  if (r.protocol === 'any') return [{}];
  const ipProto = IP_PROTO_OF[r.protocol];
  if (!r.ports || (r.protocol !== 'tcp' && r.protocol !== 'udp')) return [{ ipProto }];
  const field = r.protocol === 'tcp' ? 'tcpDst' : 'udpDst';
  return portPrefixes(r.ports).map((p) => ({ ipProto, [field]: p.mask === 0xffff ? p.value : p }));
}

export interface AclPlan {
  acl: NetworkAcl;
  vni: number;
  /** The ACL's subnet's address space. */
  subnet: Prefix;
}

/** The ACL's flows, the same on every switch with endpoints of its VPC. */
export function compileNetworkAclFlows(plan: AclPlan, cookie: number): FlowEntry[] {
  const out: FlowEntry[] = [];
  const subnet = prefixMatch(plan.subnet);
  for (const [table, local, remote, direction] of [
    [TABLE.ACL_EGRESS, 'ipv4Src', 'ipv4Dst', 'egress'],
    [TABLE.ACL_INGRESS, 'ipv4Dst', 'ipv4Src', 'ingress'],
  ] as const) {
    const base: Match = { metadata: plan.vni, ethType: ETH_TYPE_IPV4, ...(subnet === undefined ? {} : { [local]: subnet }) };
    for (const r of plan.acl.rules) {
      if (r.direction !== direction) continue;
      const other = prefixMatch(r.cidr);
      for (const l4 of l4Matches(r)) {
        const match: Match = { ...base, ...(other === undefined ? {} : { [remote]: other }), ...l4 };
        const priority = PRIORITY.ACL_RULE_BASE - r.number;
        out.push(r.action === 'allow' ? { table, priority, match, actions: NO_ACTIONS, gotoTable: nextTable(table), cookie } : { table, priority, match, actions: NO_ACTIONS, cookie });
      }
    }
    out.push({ table, priority: PRIORITY.ACL_DEFAULT_DENY, match: base, actions: NO_ACTIONS, cookie });
  }
  return out;
}
