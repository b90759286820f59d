/**
 * Network ACLs' owners: one per ACL of an active subnet, its flows on every switch where the VPC is
 * present (compile-network-acl.ts). Reads: itself, its subnet (subnet-node.ts marks it), the VPC (VNI,
 * activity, presence).
 */
import { compileNetworkAclFlows } from '../compile-network-acl.js';
import { networkAclCookie } from '../cookies.js';
import { OwnerFlows } from '../owner-flows.js';
import type { CompileState } from './compile-state.js';
import type { Dirty, EngineNode } from './engine-node.js';

export function networkAclNode(state: CompileState): EngineNode {
  const s = state.intent;
  const sec = state.security;
  const markVpc = (vpcId: string, dirty: Dirty) => {
    if (sec.acls.size === 0) return;
    for (const subnetId of s.subnetsByVpc.get(vpcId) ?? []) dirty.markAll('networkAcl', sec.aclsBySubnet.get(subnetId));
  };
  return {
    name: 'networkAcl',
    ids: () => sec.acls.keys(),
    change(change, dirty) {
      if (change.kind !== 'networkAcl') return;
      const id = change.op === 'delete' ? change.id : change.networkAcl.id;
      const old = change.op === 'delete' ? sec.deleteAcl(id) : sec.putAcl(change.networkAcl);
      dirty.mark('networkAcl', id);
      // Rivals for the old and the new subnet may have won or lost it.
      for (const subnetId of [old?.subnetId, sec.acls.get(id)?.subnetId]) if (subnetId !== undefined) dirty.markAll('networkAcl', sec.aclsBySubnet.get(subnetId));
    },
    vpcTouched: markVpc,
    presenceChanged: markVpc,
    compile(id) {
      const acl = sec.acls.get(id);
      const subnet = acl && s.subnets.get(acl.subnetId);
      const vpc = subnet && s.activeVpc(subnet.vpcId);
      if (!acl || !subnet || !vpc || !s.subnetActive(subnet)) return undefined;
      // One ACL per subnet (the intent service refuses a second); should two meet, the lowest id holds it.
      for (const other of sec.aclsBySubnet.get(acl.subnetId) ?? []) if (other < id) return undefined;
      const cookie = networkAclCookie(id);
      const flows = compileNetworkAclFlows({ acl, vni: vpc.vni, subnet: subnet.cidr }, cookie);
      const out = new OwnerFlows();
      for (const dpid of state.presence.present(vpc.id).dpids) out.set(dpid, flows);
      return { flows: out, cookie, name: { kind: 'networkAcl', name: id } };
    },
  };
}
