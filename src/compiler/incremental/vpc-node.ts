/**
 * VPCs' owners: one per active VPC (its ROUTE drop on the switches where it is present and, when it
 * has a load balancer or an endpoint with a volume's mount translation (an attached endpoint, a
 * target), its label groups there, which buckets and translations towards other switches chain to;
 * compile-vpc-flows.ts).
 * Reads: itself, rival VPCs with the same VNI (which may win or lose it), its presence, whether it has
 * a load balancer (the load balancer node marks it) or mounts (the attachment and volume nodes mark
 * it), the up links (a new topology recompiles every owner).
 */
import { compileVpcFlows, compileVpcGroups } from '../compile-vpc-flows.js';
import { vpcCookie } from '../cookies.js';
import type { FabricContext } from '../fabric-context.js';
import type { CompileState } from './compile-state.js';
import { applyObjectChange, type EngineNode } from './engine-node.js';

export function vpcNode(state: CompileState): EngineNode {
  const s = state.intent;
  const { presence } = state;
  const vs = state.volumes;
  /** Does an endpoint of the VPC attach a volume or serve one (a mount translation starts or ends there)? */
  const hasMountEnds = (vpcId: string): boolean => {
    if (vs.attachments.size === 0) return false;
    for (const e of s.endpointsByVpc.get(vpcId) ?? []) {
      if (vs.isAttachedEndpoint(e)) return true;
      for (const v of vs.volumesOfTarget(e)) if (vs.isAttached(v)) return true;
    }
    return false;
  };
  /** Per switch, the slots of its up link ports, sorted: the same for every VPC (made again for a new fabric). */
  const upSlots = new Map<number, readonly { slot: number }[]>();
  let slotsFabric: FabricContext | undefined;
  return {
    name: 'vpc',
    ids: () => s.vpcs.keys(),
    change(change, dirty) {
      if (change.kind !== 'vpc') return;
      const target = change.op === 'delete' ? change.id : change.vpc;
      const { id, old, now } = applyObjectChange(target, s.vpcs, (v) => s.putVpc(v), (v) => s.deleteVpc(v));
      dirty.touchVpc(id);
      // Every VPC claiming the old or the new VNI may have won or lost it.
      for (const v of [old, now]) if (v) for (const rival of s.vniClaimants(v.vni)) dirty.touchVpc(rival);
    },
    vpcTouched: (vpcId, dirty) => dirty.mark('vpc', vpcId),
    presenceChanged: (vpcId, dirty) => dirty.mark('vpc', vpcId),
    compile(id) {
      const vpc = s.activeVpc(id);
      if (!vpc) return undefined;
      const { fabric } = state;
      const present = presence.present(id);
      let labelGroups: Map<number, readonly { slot: number }[]> | undefined;
      if ((state.services.lbsByVpc.get(id)?.size ?? 0) > 0 || hasMountEnds(id)) {
        if (slotsFabric !== fabric) {
          slotsFabric = fabric;
          upSlots.clear();
        }
        labelGroups = new Map();
        for (let i = 0; i < present.names.length; i++) {
          const dpid = present.dpids[i];
          let sorted = upSlots.get(dpid);
          if (sorted === undefined) {
            const slots = fabric.linkPortSlots.get(dpid);
            const up = fabric.fabric.upLinks.get(present.names[i]) ?? [];
            sorted = slots && up.length > 0 ? up.map((l) => ({ slot: slots.get(l.port) ?? 0 })).sort((x, y) => x.slot - y.slot) : [];
            upSlots.set(dpid, sorted);
          }
          if (sorted.length > 0) labelGroups.set(dpid, sorted);
        }
      }
      const cookie = vpcCookie(id);
      const plan = { vni: vpc.vni, presentDpids: present.dpids, labelGroups };
      const groups = compileVpcGroups(plan, cookie);
      return { flows: compileVpcFlows(plan, cookie), ...(groups.size > 0 ? { groups } : {}), cookie };
    },
  };
}
