/**
 * Subnets' owners: one per active subnet (its gateway's ARP answer and health replies) on the switches
 * where its VPC is present.
 * Reads: itself, its VPC, rival subnets with the same gateway IP, the VPC's presence. A subnet change
 * also touches its endpoints and the endpoints at its old or new gateway IP (an endpoint there stays dark).
 */
import { addSubnetHealthFlows } from '../compile-health.js';
import { compileSubnetFlows } from '../compile-vpc-flows.js';
import { subnetCookie } from '../cookies.js';
import type { CompileState } from './compile-state.js';
import { applyObjectChange, type EngineNode } from './engine-node.js';

export function subnetNode(state: CompileState): EngineNode {
  const s = state.intent;
  return {
    name: 'subnet',
    ids: () => s.subnets.keys(),
    change(change, dirty) {
      if (change.kind !== 'subnet') return;
      const target = change.op === 'delete' ? change.id : change.subnet;
      const { id, old, now } = applyObjectChange(target, s.subnets, (x) => s.putSubnet(x), (x) => s.deleteSubnet(x));
      dirty.mark('subnet', id);
      dirty.markAll('endpoint', s.endpointsBySubnet.get(id));
      dirty.markAll('networkAcl', state.security.aclsBySubnet.get(id));
      for (const sub of [old, now]) {
        if (!sub) continue;
        dirty.markAll('subnet', s.gatewayClaimants(sub.vpcId, sub.gateway));
        dirty.markAll('endpoint', s.endpointsWithIp(sub.vpcId, sub.gateway));
      }
    },
    vpcTouched: (vpcId, dirty) => dirty.markAll('subnet', s.subnetsByVpc.get(vpcId)),
    presenceChanged: (vpcId, dirty) => dirty.markAll('subnet', s.subnetsByVpc.get(vpcId)),
    compile(id) {
      const subnet = s.subnets.get(id);
      if (!subnet || !s.subnetActive(subnet)) return undefined;
      const vpc = s.activeVpc(subnet.vpcId);
      if (!vpc) return undefined;
      const cookie = subnetCookie(id);
      const present = state.presence.present(vpc.id).dpids;
      const flows = addSubnetHealthFlows(compileSubnetFlows(subnet, vpc.vni, present, cookie), subnet, vpc.vni, present, cookie);
      return { flows, cookie };
    },
  };
}
