/**
 * Elastic IPs' owners: one per live elastic IP (DNAT in, SNAT out at the nearest exit,
 * compile-elastic-ip.ts). A live one places its endpoint's VPC on the switches of the gateways
 * serving its public address.
 * Reads: itself, rivals claiming its public IP or endpoint, its endpoint (placement, VPC), the
 * gateways and paths (a new topology recompiles every owner).
 */
import { compileElasticIpFlows } from '../compile-elastic-ip.js';
import { elasticIpCookie } from '../cookies.js';
import type { CompileState } from './compile-state.js';
import { applyObjectChange, type EngineNode } from './engine-node.js';
import { gatewaysServing, routesToExits } from './exits.js';
import { gatewayPlacement } from './presence.js';

export function elasticIpNode(state: CompileState): EngineNode {
  const svc = state.services;
  const endpoints = state.presence.placements('endpoint');
  const placed = state.presence.placements('elasticIp');
  return {
    name: 'elasticIp',
    ids: () => svc.elasticIps.keys(),
    change(change, dirty) {
      if (change.kind !== 'elasticIp') return;
      const target = change.op === 'delete' ? change.id : change.elasticIp;
      const { id, old, now } = applyObjectChange(target, svc.elasticIps, (x) => svc.putElasticIp(x), (x) => svc.deleteElasticIp(x));
      dirty.mark('elasticIp', id);
      // Elastic IPs claiming the old or the new public IP or endpoint may have won or lost it.
      for (const x of [old, now]) if (x) dirty.markAll('elasticIp', svc.elasticIpRivals(x));
    },
    placing(node, id, _before, dirty) {
      if (node === 'endpoint' && svc.eipsByEndpoint.size > 0) dirty.markAll('elasticIp', svc.eipsByEndpoint.get(id));
    },
    place(id) {
      const x = svc.elasticIps.get(id);
      if (!x || !svc.elasticIpHolds(x) || x.endpointId === undefined) return undefined;
      const at = endpoints.get(x.endpointId);
      return at ? gatewayPlacement(at.vpcId, gatewaysServing(state.gateways, x.publicIp), state.fabric) : undefined;
    },
    compile(id) {
      const x = svc.elasticIps.get(id);
      if (!x || !placed.has(id) || x.endpointId === undefined) return undefined;
      const e = state.intent.endpoints.get(x.endpointId);
      const vpc = e ? state.intent.activeVpc(e.vpcId) : undefined;
      if (!e || !vpc) return undefined;
      const gateways = gatewaysServing(state.gateways, x.publicIp);
      const { exits, transit, receivers } = routesToExits(state.fabric, gateways, [e.dpid]);
      const cookie = elasticIpCookie(id);
      const flows = compileElasticIpFlows({ publicIp: x.publicIp, endpoint: e, vni: vpc.vni, vpcCidr: vpc.cidr, gateways, exits, transit, receivers }, cookie);
      return { flows, cookie };
    },
  };
}
