/**
 * VPCs' owners: one per active VPC (its TENANT flow, admitting its labelled frames from links, and its
 * ROUTE drop, compile-vpc-flows.ts) on the switches where it is present and the transit switches
 * between them.
 * Reads: itself, rival VPCs with the same VNI (which may win or lose it), its presence, paths and up
 * links (a new topology recompiles every owner).
 */
import { compileVpcFlows } from '../compile-vpc-flows.js';
import { vpcCookie } from '../cookies.js';
import type { CompileState } from './compile-state.js';
import { applyObjectChange, type EngineNode } from './engine-node.js';

export function vpcNode(state: CompileState): EngineNode {
  const s = state.intent;
  const { presence } = state;
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
      const span = new Set<string>(present.names);
      for (const home of present.names) {
        for (const dpid of presence.towards(id, home).keys()) span.add(fabric.switchNameOf.get(dpid) ?? '');
      }
      const receiving: number[] = [];
      for (const name of span) if ((fabric.fabric.upLinks.get(name)?.length ?? 0) > 0) receiving.push(fabric.dpidOf.get(name) ?? 0);
      receiving.sort((x, y) => x - y);
      const cookie = vpcCookie(id);
      return { flows: compileVpcFlows({ vni: vpc.vni, presentDpids: present.dpids, receiving }, cookie), cookie, name: { kind: 'vpc', name: id } };
    },
  };
}
