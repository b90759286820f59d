/**
 * Load balancers' owners: one per live load balancer (its select groups on the VPC's switches, return
 * flows at its backends, and, behind an elastic IP, DNAT/SNAT at the exits; compile-load-balancer.ts).
 * One live behind its elastic IP places its VPC on the switches of the gateways serving that address.
 * Reads: itself, rivals claiming its VIP, function or elastic IP, its VPC (activity, presence), the
 * endpoints of its VPC (its backends), its elastic IP, the gateways and paths (a new topology
 * recompiles every owner).
 */
import { compileLoadBalancerFlows, type LbBackend, type LbOutside } from '../compile-load-balancer.js';
import { loadBalancerCookie } from '../cookies.js';
import type { CompileState } from './compile-state.js';
import { applyObjectChange, type EngineNode } from './engine-node.js';
import { gatewaysServing, routesToExits } from './exits.js';
import { gatewayPlacement } from './presence.js';
import { labelGroupTowards } from './label-groups.js';

export function loadBalancerNode(state: CompileState): EngineNode {
  const s = state.intent;
  const svc = state.services;
  const endpoints = state.presence.placements('endpoint');
  const placed = state.presence.placements('loadBalancer');
  /** Each load balancer's backends at its last compile: an endpoint re-placed that was one, or is one now, touches it. */
  const membersOf = new Map<string, Set<string>>();
  const touches = (lbId: string, endpointId: string, fn: string | undefined): boolean =>
    membersOf.get(lbId)?.has(endpointId) === true || (fn !== undefined && svc.loadBalancers.get(lbId)?.function === fn);
  return {
    name: 'loadBalancer',
    ids: () => svc.loadBalancers.keys(),
    change(change, dirty) {
      if (change.kind !== 'loadBalancer') return;
      const target = change.op === 'delete' ? change.id : change.loadBalancer;
      const { id, old, now } = applyObjectChange(target, svc.loadBalancers, (x) => svc.putLoadBalancer(x), (x) => svc.deleteLoadBalancer(x));
      dirty.mark('loadBalancer', id);
      // Load balancers claiming the old or the new VIP, function or elastic IP may have won or lost it;
      // its VPC (old and new) has label groups while it has a load balancer.
      for (const x of [old, now]) {
        if (!x) continue;
        dirty.markAll('loadBalancer', svc.loadBalancerRivals(x));
        dirty.mark('vpc', x.vpcId);
      }
    },
    vpcTouched: (vpcId, dirty) => dirty.markAll('loadBalancer', svc.lbsByVpc.get(vpcId)),
    placing(node, id, before, dirty) {
      if (node === 'endpoint') {
        // The pool follows its backends, in the old VPC and the new alike: an endpoint that was one,
        // or that serves the load balancer's function now.
        if (svc.lbsByVpc.size === 0) return;
        const e = s.endpoints.get(id);
        const fn = e?.labels.function;
        const mark = (vpcId: string | undefined) => {
          if (vpcId === undefined) return;
          for (const lbId of svc.lbsByVpc.get(vpcId) ?? []) if (touches(lbId, id, fn)) dirty.mark('loadBalancer', lbId);
        };
        mark(e?.vpcId);
        if (before && before.vpcId !== e?.vpcId) mark(before.vpcId);
      } else if (node === 'elasticIp' && svc.lbsByEip.size > 0) {
        dirty.markAll('loadBalancer', svc.lbsByEip.get(id));
      }
    },
    presenceChanged: (vpcId, dirty) => dirty.markAll('loadBalancer', svc.lbsByVpc.get(vpcId)),
    place(id) {
      const lb = svc.loadBalancers.get(id);
      const x = lb ? svc.loadBalancerElasticIp(lb) : undefined;
      return lb && x ? gatewayPlacement(lb.vpcId, gatewaysServing(state.gateways, x.publicIp), state.fabric) : undefined;
    },
    compile(id) {
      membersOf.delete(id);
      const lb = svc.loadBalancers.get(id);
      if (!lb || !svc.loadBalancerHolds(lb)) return undefined;
      const vpc = s.activeVpc(lb.vpcId);
      if (!vpc) return undefined;
      const { fabric } = state;
      const unhealthy = new Set(lb.unhealthy);
      const members: LbBackend[] = [];
      for (const eid of [...(s.endpointsByVpc.get(lb.vpcId) ?? [])].sort()) {
        const e = s.endpoints.get(eid);
        const at = endpoints.get(eid);
        if (!e || !at || at.vpcId !== lb.vpcId || e.labels.function !== lb.function) continue;
        members.push({ endpoint: e, homeDpid: e.dpid });
        let ids = membersOf.get(id);
        if (!ids) membersOf.set(id, (ids = new Set()));
        ids.add(eid);
      }
      const pool = members.filter((b) => !unhealthy.has(b.endpoint.id));
      const cookie = loadBalancerCookie(id);
      const eip = placed.has(id) ? svc.loadBalancerElasticIp(lb) : undefined;
      let outside: LbOutside | undefined;
      if (eip) {
        const gateways = gatewaysServing(state.gateways, eip.publicIp);
        const { exits, transit, receivers } = routesToExits(
          fabric,
          gateways,
          members.map((b) => b.homeDpid),
        );
        outside = { publicIp: eip.publicIp, vpcCidr: vpc.cidr, gateways, exits, transit, receivers };
      }
      const out = compileLoadBalancerFlows(
        {
          lb,
          vni: vpc.vni,
          presentDpids: state.presence.present(lb.vpcId).dpids,
          labelGroupTowards: (from, to) => labelGroupTowards(fabric, vpc.vni, from, to),
          pool,
          members,
          outside,
        },
        cookie,
      );
      return { ...out, cookie, name: { kind: 'loadBalancer', name: id } };
    },
  };
}
