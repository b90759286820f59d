/**
 * Security groups' owners: one per VPC with groups, holding the rules' shared flows (conjunctive-match
 * results, cidr and port clauses: compile-security.ts) on every switch where the VPC is present. The
 * per-member flows belong to the endpoints (endpoint-node.ts), which this node marks when a group they
 * read changes: its members (their rules) and the members of the groups its rules name (clause 2).
 * Reads: the VPC's groups, its activity and presence.
 */
import { compileVpcSecurity } from '../compile-security.js';
import { securityRulesCookie } from '../cookies.js';
import { OwnerFlows } from '../owner-flows.js';
import type { CompileState } from './compile-state.js';
import type { EngineNode } from './engine-node.js';

export function securityGroupNode(state: CompileState): EngineNode {
  const s = state.intent;
  const sec = state.security;
  return {
    name: 'securityGroup',
    ids: () => sec.groupsByVpc.keys(),
    change(change, dirty) {
      if (change.kind !== 'securityGroup') return;
      const id = change.op === 'delete' ? change.id : change.securityGroup.id;
      const old = change.op === 'delete' ? sec.deleteGroup(id) : sec.putGroup(change.securityGroup);
      const now = sec.groups.get(id);
      const touched = new Set([id, ...sec.namedIn(old), ...sec.namedIn(now)]);
      for (const x of [old, now]) {
        if (!x) continue;
        dirty.mark('securityGroup', x.vpcId);
        for (const eid of s.endpointsByVpc.get(x.vpcId) ?? []) {
          const e = s.endpoints.get(eid);
          // An endpoint naming no group is in the default group: the one now, or this one if it was.
          const groups = e?.securityGroups ?? [sec.defaultGroupOf.get(x.vpcId) ?? (x.isDefault ? x.id : '')];
          if (groups.some((g) => touched.has(g))) dirty.mark('endpoint', eid);
        }
      }
    },
    vpcTouched: (vpcId, dirty) => {
      if (sec.groupsByVpc.has(vpcId)) dirty.mark('securityGroup', vpcId);
    },
    presenceChanged: (vpcId, dirty) => {
      if (sec.groupsByVpc.has(vpcId)) dirty.mark('securityGroup', vpcId);
    },
    compile(vpcId) {
      const vpc = s.activeVpc(vpcId);
      const ids = sec.groupsByVpc.get(vpcId);
      if (!vpc || !ids) return undefined;
      const groups = [...ids].sort().flatMap((g) => sec.groups.get(g) ?? []);
      const cookie = securityRulesCookie(vpcId);
      const flows = compileVpcSecurity(vpc.vni, groups, cookie);
      if (flows.length === 0) return undefined;
      const out = new OwnerFlows();
      for (const dpid of state.presence.present(vpcId).dpids) out.set(dpid, flows);
      return { flows: out, cookie, name: { kind: 'securityGroup', name: vpcId } };
    },
  };
}
