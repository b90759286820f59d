/**
 * Endpoints' owners: one per active endpoint (its port security, ARP answers, routes and forwarding,
 * compile-vpc-flows.ts). An active endpoint places its VPC on its own switch.
 * Reads: itself, its VPC (VNI, activity), its subnet, rivals claiming its port, IP or MAC, subnet
 * gateways at its IP, the VPC's presence, paths (a new topology recompiles every owner), its security
 * groups and the rules naming them (security-group-node.ts marks it when they change).
 */
import { compileEndpointSecurity, compileRemoteClauses } from '../compile-security.js';
import { compileEndpointFlows } from '../compile-vpc-flows.js';
import { endpointCookie } from '../cookies.js';
import type { CompileState } from './compile-state.js';
import { applyObjectChange, type EngineNode } from './engine-node.js';

export function endpointNode(state: CompileState): EngineNode {
  const s = state.intent;
  const { presence } = state;
  const placed = presence.placements('endpoint');
  /** One `homes` list per switch, shared by the placements of every endpoint there. */
  const homesAt = new Map<string, readonly string[]>();
  return {
    name: 'endpoint',
    ids: () => s.endpoints.keys(),
    change(change, dirty) {
      if (change.kind !== 'endpoint') return;
      const target = change.op === 'delete' ? change.id : change.endpoint;
      const { id, old, now } = applyObjectChange(target, s.endpoints, (e) => s.putEndpoint(e), (e) => s.deleteEndpoint(e));
      dirty.mark('endpoint', id);
      // Endpoints claiming the old or the new port, IP or MAC may have won or lost it.
      for (const e of [old, now]) if (e) dirty.markAll('endpoint', s.endpointRivals(e));
    },
    vpcTouched: (vpcId, dirty) => dirty.markAll('endpoint', s.endpointsByVpc.get(vpcId)),
    presenceChanged: (vpcId, dirty) => dirty.markAll('endpoint', s.endpointsByVpc.get(vpcId)),
    place(id, before) {
      const e = s.endpoints.get(id);
      const home = e ? s.endpointHome(e)?.name : undefined;
      if (!e || home === undefined) return undefined;
      if (before && before.vpcId === e.vpcId && before.homes[0] === home) return before;
      let homes = homesAt.get(home);
      if (!homes) homesAt.set(home, (homes = [home]));
      return { vpcId: e.vpcId, homes };
    },
    compile(id) {
      const at = placed.get(id);
      const e = s.endpoints.get(id);
      if (!at || !e) return undefined;
      const vpc = s.activeVpc(e.vpcId);
      const subnet = s.subnets.get(e.subnetId);
      if (!vpc || !subnet) return undefined;
      const cookie = endpointCookie(id);
      const towards = presence.towards(e.vpcId, at.homes[0]);
      const groups = state.security.groupsOf(e);
      const security =
        groups.length === 0
          ? undefined
          : {
              home: compileEndpointSecurity({ vni: vpc.vni, ip: e.ip, port: e.port, groups, gateway: subnet.gateway }, cookie),
              everywhere: compileRemoteClauses(vpc.vni, e.ip, state.security.rulesNaming(e.vpcId, groups), cookie),
            };
      const flows = compileEndpointFlows(
        {
          endpoint: e,
          subnet,
          vni: vpc.vni,
          homeDpid: e.dpid,
          presentDpids: presence.present(e.vpcId).dpids,
          towards: towards.ports,
          receivers: towards.receivers,
          security,
        },
        cookie,
      );
      return { flows, cookie };
    },
  };
}
