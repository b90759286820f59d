/**
 * Security groups as flows (docs/security-groups.md), pure builders. Conntrack tells a packet's
 * direction; the rules decide every packet, not only a connection's first:
 *
 *   SG_EGRESS (source switch) / SG_INGRESS (destination switch), per filtered local endpoint E:
 *     TRACK   IPv4 from (to) E -> ct(zone = E's zone, table = this table), no commit
 *     then, tracked in E's zone: +inv -> drop; +rel -> on; a packet in its connection's original
 *     direction (-rpl) passes when a rule of E's groups for this direction allows it; a reply (+rpl)
 *     passes when a rule of the other direction allows the connection it answers (ports and ends
 *     swapped); else drop.
 *   SG_EGRESS_COMMIT / SG_INGRESS_COMMIT (the next tables), per filtered local endpoint E:
 *     COMMIT  +trk+new in E's zone, from (to) E -> ct(zone = E's zone, commit), on
 *
 * Since every packet is checked against the rules in force, removing a rule or leaving a group cuts
 * the established connections it allowed at the next packet, with no mark to age; conntrack only
 * says which way a packet goes (and drops what it calls invalid). Only a packet the rules let through
 * reaches the commit table, so a denied attempt leaves nothing in E's zone. The commit is a table of
 * its own because a conjunctive rule's result flow is shared by every member, while a ct zone is an
 * immediate of its flow: the per-endpoint commit flow names the zone.
 *
 * A rule is a conjunctive match (Open vSwitch's conjunction) of up to three clauses, so that a group
 * named by another group's rule costs flows in proportion to members plus rules, never their product:
 *   1. the local member: E's zone and direction state (one flow per member, carrying every rule of its groups);
 *   2. the other end: a member of the named group (one flow per member of it, carrying every rule
 *      naming its groups), or the rule's cidr;
 *   3. protocol and ports (one flow per distinct port prefix).
 * A rule with nothing but clause 1 (any protocol, anywhere) is a plain flow per member.
 */
import { conjunction, ct, CT_STATE, nextTable, TABLE, type Action, type FlowEntry, type Match } from '../flow/index.js';
import { IP_PROTO_OF, type PortRange, type SecurityGroup, type SecurityRule } from '../model/index.js';
import { prefixMask } from '../net/cidr.js';
import { ETH_TYPE_IPV4, ICMP_ECHO_REPLY } from '../net/packet/constants.js';
import { PRIORITY } from './priorities.js';

const NO_ACTIONS: Action[] = [];
Object.freeze(NO_ACTIONS);
const TRACKED = CT_STATE.TRK;
const DIRECTION_MASK = CT_STATE.TRK | CT_STATE.RPL | CT_STATE.INV;
const ORIGINAL = Object.freeze({ value: TRACKED, mask: DIRECTION_MASK });
const REPLY = Object.freeze({ value: TRACKED | CT_STATE.RPL, mask: DIRECTION_MASK });
const INVALID = Object.freeze({ value: TRACKED | CT_STATE.INV, mask: TRACKED | CT_STATE.INV });
const RELATED = Object.freeze({ value: TRACKED | CT_STATE.REL, mask: TRACKED | CT_STATE.REL | CT_STATE.INV });
const ANY_TRACKED = Object.freeze({ value: TRACKED, mask: TRACKED });

/** The SG tables, each with the packet field holding the local endpoint and the one holding the other end. */
type SgTable = typeof TABLE.SG_EGRESS | typeof TABLE.SG_INGRESS;
const LOCAL_FIELD = { [TABLE.SG_EGRESS]: 'ipv4Src', [TABLE.SG_INGRESS]: 'ipv4Dst' } as const;
const REMOTE_FIELD = { [TABLE.SG_EGRESS]: 'ipv4Dst', [TABLE.SG_INGRESS]: 'ipv4Src' } as const;
const COMMIT_TABLE = { [TABLE.SG_EGRESS]: TABLE.SG_EGRESS_COMMIT, [TABLE.SG_INGRESS]: TABLE.SG_INGRESS_COMMIT } as const;
/** A packet that may start a connection, not yet committed: neither a reply, related, nor invalid. */
const NEW = Object.freeze({ value: TRACKED | CT_STATE.NEW, mask: TRACKED | CT_STATE.NEW | CT_STATE.RPL | CT_STATE.REL | CT_STATE.INV });

/**
 * An endpoint's conntrack zone on its switch: its port number (unique on the switch, so the zones of
 * a switch's endpoints never meet). Ports past 65,535 (none in practice) fold into the 16-bit range.
 */
export function endpointZone(port: number): number {
  return port <= 0xffff ? port : ((port - 1) % 0xffff) + 1;
}

/**
 * A rule's conjunction id: the group's number (`sg-17` -> 17; other ids hash) times 64 plus the rule's
 * index (a group holds at most 64 rules). Unique across VPCs, so the clauses of two VPCs never mix.
 */
export function ruleConjId(groupId: string, index: number): number {
  const m = /^sg-([0-9]{1,7})$/.exec(groupId);
  let n: number;
  if (m) n = Number(m[1]);
  else {
    n = 0x2000000;
    for (let i = 0; i < groupId.length; i++) n = (n * 31 + groupId.charCodeAt(i)) % 0x1ffffff;
    n += 0x2000000; // hashed ids above the numbered ones
  }
  return (n * 64 + index) >>> 0;
}

/** Which rule a conjunction id names (for ruleConjId's numbered groups). */
export function conjRule(conjId: number): { groupNumber: number; index: number } {
  return { groupNumber: Math.floor(conjId / 64), index: conjId % 64 };
}

/** A rule's shape as clauses: whether it names a group, a cidr (not 0/0), a protocol. */
interface RuleShape {
  remote: 'group' | 'cidr' | undefined;
  proto: boolean;
  nClauses: number;
  priority: number;
}

export function ruleShape(r: SecurityRule): RuleShape {
  const remote = r.group !== undefined ? 'group' : r.cidr && r.cidr.prefixLength > 0 ? 'cidr' : undefined;
  const proto = r.protocol !== 'any';
  return { remote, proto, nClauses: 1 + (remote ? 1 : 0) + (proto ? 1 : 0), priority: remote === 'group' ? PRIORITY.SG_CONJ_GROUP : PRIORITY.SG_CONJ_CIDR };
}

/** The table where a rule checks its connections' original packets, and the one where it checks replies. */
function tablesOf(r: SecurityRule): { original: SgTable; reply: SgTable } {
  return r.direction === 'ingress' ? { original: TABLE.SG_INGRESS, reply: TABLE.SG_EGRESS } : { original: TABLE.SG_EGRESS, reply: TABLE.SG_INGRESS };
}

/** A port range as the fewest value/mask prefixes that cover it exactly. */
export function portPrefixes(range: PortRange): { value: number; mask: number }[] {
  const out: { value: number; mask: number }[] = [];
  let lo = range.from;
  const hi = range.to;
  while (lo <= hi) {
    let size = 1;
    while ((lo & (size * 2 - 1)) === 0 && lo + size * 2 - 1 <= hi && size < 0x10000) size *= 2;
    out.push({ value: lo, mask: 0xffff & ~(size - 1) });
    lo += size;
  }
  return out;
}

/** Clause 3's matches: the protocol, and its ports (destination port originally, source port in a reply). */
function protoMatches(r: SecurityRule, reply: boolean): Match[] {
  if (r.protocol === 'any') return [];
  const ipProto = IP_PROTO_OF[r.protocol];
  const base: Match = { ethType: ETH_TYPE_IPV4, ipProto };
  if (!r.ports || (r.protocol !== 'tcp' && r.protocol !== 'udp')) return [base];
  const field = r.protocol === 'tcp' ? (reply ? 'tcpSrc' : 'tcpDst') : reply ? 'udpSrc' : 'udpDst';
  return portPrefixes(r.ports).map((p) => ({ ...base, [field]: p.mask === 0xffff ? p.value : p }));
}

/** One rule of one group, as the compilers see it. */
export interface RuleRef {
  group: SecurityGroup;
  index: number;
  rule: SecurityRule;
}

export function rulesOf(groups: Iterable<SecurityGroup>): RuleRef[] {
  const out: RuleRef[] = [];
  for (const group of groups) group.rules.forEach((rule, index) => out.push({ group, index, rule }));
  return out;
}

export interface EndpointSecurityPlan {
  vni: number;
  ip: number;
  port: number;
  /** The endpoint's groups (resolved: an endpoint naming none is in its VPC's default group). */
  groups: readonly SecurityGroup[];
  /** Its subnet's gateway: the health prober's ICMP echo from there passes (docs/security-groups.md). */
  gateway: number;
}

/** The flows of one filtered endpoint on its own switch: tracking, verdicts, and clause 1 of its rules. */
export function compileEndpointSecurity(plan: EndpointSecurityPlan, cookie: number): FlowEntry[] {
  const zone = endpointZone(plan.port);
  const out: FlowEntry[] = [];
  const rules = rulesOf(plan.groups);
  for (const table of [TABLE.SG_EGRESS, TABLE.SG_INGRESS] as const) {
    const local = { [LOCAL_FIELD[table]]: plan.ip } as Match;
    const inZone = (ctState: Match['ctState'], extra: Match = {}): Match => ({ ethType: ETH_TYPE_IPV4, ...local, ctZone: zone, ctState, ...extra });
    out.push(
      { table, priority: PRIORITY.SG_TRACK, match: { metadata: plan.vni, ethType: ETH_TYPE_IPV4, ...local }, actions: [ct(zone, { table })], cookie },
      { table, priority: PRIORITY.SG_INVALID_DROP, match: inZone(INVALID), actions: NO_ACTIONS, cookie },
      { table, priority: PRIORITY.SG_RELATED, match: inZone(RELATED), actions: NO_ACTIONS, gotoTable: nextTable(table), cookie },
      { table, priority: PRIORITY.SG_DROP, match: inZone(ANY_TRACKED), actions: NO_ACTIONS, cookie },
      {
        table: COMMIT_TABLE[table],
        priority: PRIORITY.SG_COMMIT,
        match: { metadata: plan.vni, ...inZone(NEW) },
        actions: [ct(zone, { commit: true })],
        gotoTable: nextTable(COMMIT_TABLE[table]),
        cookie,
      },
    );
    // The gateway's health probes: echo requests in; their replies out untracked (the controller sends
    // the requests as packet-outs to the port, so conntrack never sees them).
    const probe: Match = { ipProto: IP_PROTO_OF.icmp, [REMOTE_FIELD[table]]: plan.gateway };
    if (table === TABLE.SG_INGRESS) out.push({ table, priority: PRIORITY.SG_ALLOW_DIRECT, match: inZone(ORIGINAL, probe), actions: NO_ACTIONS, gotoTable: nextTable(table), cookie });
    else out.push({ table, priority: PRIORITY.SG_HEALTH_REPLY, match: { metadata: plan.vni, ethType: ETH_TYPE_IPV4, ...local, ...probe, icmpType: ICMP_ECHO_REPLY }, actions: NO_ACTIONS, gotoTable: nextTable(table), cookie });
    for (const state of [ORIGINAL, REPLY]) {
      const reply = state === REPLY;
      const mine = rules.filter((x) => tablesOf(x.rule)[reply ? 'reply' : 'original'] === table);
      if (mine.some((x) => ruleShape(x.rule).nClauses === 1)) {
        out.push({ table, priority: PRIORITY.SG_ALLOW_DIRECT, match: inZone(state), actions: NO_ACTIONS, gotoTable: nextTable(table), cookie });
      }
      for (const priority of [PRIORITY.SG_CONJ_CIDR, PRIORITY.SG_CONJ_GROUP]) {
        const conj = mine
          .filter((x) => ruleShape(x.rule).nClauses > 1 && ruleShape(x.rule).priority === priority)
          .map((x) => conjunction(ruleConjId(x.group.id, x.index), 1, ruleShape(x.rule).nClauses));
        if (conj.length > 0) out.push({ table, priority, match: inZone(state), actions: dedupeConj(conj), cookie });
      }
    }
  }
  return out;
}

/**
 * Clause 2 for a member X of groups that rules name: X as the other end (source in SG_INGRESS,
 * destination in SG_EGRESS), on every switch of its VPC. Empty when no rule names its groups.
 */
export function compileRemoteClauses(vni: number, ip: number, naming: readonly RuleRef[], cookie: number): FlowEntry[] {
  if (naming.length === 0) return [];
  const conj = dedupeConj(naming.map((x) => conjunction(ruleConjId(x.group.id, x.index), 2, ruleShape(x.rule).nClauses)));
  return [TABLE.SG_EGRESS, TABLE.SG_INGRESS].map((table) => ({
    table,
    priority: PRIORITY.SG_CONJ_GROUP,
    match: { metadata: vni, ethType: ETH_TYPE_IPV4, [REMOTE_FIELD[table]]: ip } as Match,
    actions: conj,
    cookie,
  }));
}

/**
 * A VPC's shared rule flows, the same on every switch where it is present: each conjunctive rule's
 * result (-> on) in the table of its original packets and in the table of its replies, and the
 * cidr (clause 2) and protocol/port (last clause) flows, merged where rules share them.
 */
export function compileVpcSecurity(vni: number, groups: Iterable<SecurityGroup>, cookie: number): FlowEntry[] {
  const out: FlowEntry[] = [];
  const clauses = new Map<string, { table: number; priority: number; match: Match; actions: Action[] }>();
  const clause = (table: number, priority: number, match: Match, action: Action) => {
    const key = `${table}/${priority}/${JSON.stringify(match)}`;
    let c = clauses.get(key);
    if (!c) clauses.set(key, (c = { table, priority, match, actions: [] }));
    c.actions.push(action);
  };
  for (const { group, index, rule } of rulesOf(groups)) {
    const shape = ruleShape(rule);
    if (shape.nClauses === 1) continue;
    const id = ruleConjId(group.id, index);
    const { original, reply } = tablesOf(rule);
    for (const table of [original, reply]) {
      out.push({ table, priority: shape.priority, match: { conjId: id }, actions: NO_ACTIONS, gotoTable: nextTable(table), cookie });
      if (shape.remote === 'cidr' && rule.cidr) {
        const mask = prefixMask(rule.cidr.prefixLength);
        const value = (rule.cidr.network & mask) >>> 0;
        const remote = mask === 0xffffffff ? value : { value, mask };
        clause(table, shape.priority, { metadata: vni, ethType: ETH_TYPE_IPV4, [REMOTE_FIELD[table as SgTable]]: remote }, conjunction(id, 2, shape.nClauses));
      }
      for (const m of protoMatches(rule, table === reply)) clause(table, shape.priority, { metadata: vni, ...m }, conjunction(id, shape.nClauses, shape.nClauses));
    }
  }
  for (const c of clauses.values()) out.push({ table: c.table, priority: c.priority, match: c.match, actions: dedupeConj(c.actions), cookie });
  return out;
}

/** One conjunction action per (id, clause), in id order: two rules' clauses may meet in one flow. */
function dedupeConj(actions: Action[]): Action[] {
  const seen = new Map<string, Action>();
  for (const a of actions) if (a.type === 'conjunction') seen.set(`${a.id}/${a.clause}`, a);
  return [...seen.values()].sort((x, y) => (x.type === 'conjunction' && y.type === 'conjunction' ? x.id - y.id || x.clause - y.clause : 0));
}
