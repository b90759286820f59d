/**
 * The compiler's working copies of security groups and network ACLs, with the lookups their owners
 * need: a VPC's groups, the rules naming a group, a subnet's ACL, an endpoint's groups. Pure.
 */
import type { Endpoint, NetworkAcl, SecurityGroup } from '../model/index.js';
import type { RuleRef } from './compile-security.js';

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  set?.delete(value);
  if (set?.size === 0) index.delete(key);
}

export class SecurityState {
  readonly groups = new Map<string, SecurityGroup>();
  readonly acls = new Map<string, NetworkAcl>();
  readonly groupsByVpc = new Map<string, Set<string>>();
  readonly defaultGroupOf = new Map<string, string>();
  readonly aclsBySubnet = new Map<string, Set<string>>();
  /** Group id -> the groups with a rule naming it. */
  private readonly namedBy = new Map<string, Set<string>>();

  putGroup(g: SecurityGroup): SecurityGroup | undefined {
    const old = this.deleteGroup(g.id);
    this.groups.set(g.id, g);
    addTo(this.groupsByVpc, g.vpcId, g.id);
    if (g.isDefault) this.defaultGroupOf.set(g.vpcId, g.id);
    for (const r of g.rules) if (r.group !== undefined) addTo(this.namedBy, r.group, g.id);
    return old;
  }

  deleteGroup(id: string): SecurityGroup | undefined {
    const g = this.groups.get(id);
    if (!g) return undefined;
    this.groups.delete(id);
    removeFrom(this.groupsByVpc, g.vpcId, id);
    if (this.defaultGroupOf.get(g.vpcId) === id) this.defaultGroupOf.delete(g.vpcId);
    for (const r of g.rules) if (r.group !== undefined) removeFrom(this.namedBy, r.group, id);
    return g;
  }

  putAcl(acl: NetworkAcl): NetworkAcl | undefined {
    const old = this.deleteAcl(acl.id);
    this.acls.set(acl.id, acl);
    addTo(this.aclsBySubnet, acl.subnetId, acl.id);
    return old;
  }

  deleteAcl(id: string): NetworkAcl | undefined {
    const acl = this.acls.get(id);
    if (!acl) return undefined;
    this.acls.delete(id);
    removeFrom(this.aclsBySubnet, acl.subnetId, id);
    return acl;
  }

  /** The groups an endpoint is in (those it names that exist, or its VPC's default group). */
  groupsOf(e: Endpoint): SecurityGroup[] {
    const ids = e.securityGroups ?? [this.defaultGroupOf.get(e.vpcId) ?? ''];
    const out: SecurityGroup[] = [];
    for (const id of ids) {
      const g = this.groups.get(id);
      if (g && g.vpcId === e.vpcId) out.push(g);
    }
    return out;
  }

  /** Every rule, in any group of the VPC `vpcId`, that names one of `groups`. */
  rulesNaming(vpcId: string, groups: readonly SecurityGroup[]): RuleRef[] {
    if (this.namedBy.size === 0) return [];
    const names = new Set(groups.map((g) => g.id));
    const naming = new Set<string>();
    for (const g of groups) for (const by of this.namedBy.get(g.id) ?? []) naming.add(by);
    const out: RuleRef[] = [];
    for (const id of [...naming].sort()) {
      const group = this.groups.get(id);
      if (!group || group.vpcId !== vpcId) continue;
      group.rules.forEach((rule, index) => {
        if (rule.group !== undefined && names.has(rule.group)) out.push({ group, index, rule });
      });
    }
    return out;
  }

  /** The groups `g`'s rules name. */
  namedIn(g: SecurityGroup | undefined): string[] {
    return g ? g.rules.flatMap((r) => (r.group === undefined ? [] : [r.group])) : [];
  }
}
