/**
 * Gateways and the way out: which gateways serve a public address, and by which exit each switch
 * sends traffic for the outside (elastic IPs and load balancers behind one).
 *
 * Several gateways may serve one pool. Traffic leaves by the nearest serving gateway, decided switch
 * by switch, as cloud VPCs leave by the closest internet gateway (docs/elastic-ip.md).
 */
import type { Topology } from '../../model/index.js';
import { prefixMask } from '../../net/cidr.js';
import type { GatewayPort } from '../compile-elastic-ip.js';
import type { FabricContext } from '../fabric-context.js';

/** A gateway with the public pool it serves. */
export interface ServingGateway extends GatewayPort {
  pool: { network: number; prefixLength: number };
}

/** The topology's gateways on known switches, by name. */
export function topologyGateways(topology: Topology, fabric: FabricContext): ServingGateway[] {
  const out: ServingGateway[] = [];
  for (const g of topology.gateways ?? []) {
    const dpid = fabric.dpidOf.get(g.attach.switch);
    if (dpid === undefined) continue;
    out.push({ name: g.name, dpid, port: g.attach.port, mac: g.mac, ip: g.ip, routerMac: g.routerMac, pool: g.publicPool });
  }
  return out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/** The gateways whose pool holds a public address, in the given order. */
export function gatewaysServing(gateways: readonly ServingGateway[], publicIp: number): ServingGateway[] {
  return gateways.filter((g) => {
    const mask = prefixMask(g.pool.prefixLength);
    return ((publicIp & mask) >>> 0) === ((g.pool.network & mask) >>> 0);
  });
}

/**
 * Where traffic for the outside leaves. Every switch with a serving gateway is an exit (its first
 * gateway by name translates there); any other switch on the way from `sources` sends towards ITS
 * nearest exit (fewest hops; ties to the exit of the first gateway by name), so the paths of several
 * sources (an LB's backends) agree wherever they meet, each hop is closer to an exit than the last,
 * and an exit cut off by links down is never chosen while another is reachable. `receivers` are the
 * switches those paths reach over a link (exits among them): they see the traffic labelled.
 */
export function routesToExits(
  fabric: FabricContext,
  gateways: readonly ServingGateway[],
  sources: Iterable<number>,
): { exits: GatewayPort[]; transit: Map<number, number>; receivers: Set<number> } {
  const exitAt = new Map<string, GatewayPort>();
  for (const g of gateways) {
    const name = fabric.switchNameOf.get(g.dpid);
    if (name !== undefined && !exitAt.has(name)) exitAt.set(name, g);
  }
  const transit = new Map<number, number>();
  const receivers = new Set<number>();
  for (const dpid of sources) {
    let at = fabric.switchNameOf.get(dpid);
    while (at !== undefined && !exitAt.has(at) && !transit.has(fabric.dpidOf.get(at) ?? 0)) {
      let best: string | undefined;
      let bestHops = Infinity;
      for (const exit of exitAt.keys()) {
        const n = hopsBetween(fabric, at, exit);
        if (n !== undefined && n < bestHops) {
          best = exit;
          bestHops = n;
        }
      }
      const hop = best === undefined ? undefined : fabric.nextHopsTo(best).get(at);
      if (!hop) break;
      transit.set(fabric.dpidOf.get(at) ?? 0, hop.outPort);
      receivers.add(fabric.dpidOf.get(hop.next) ?? 0);
      at = hop.next;
    }
  }
  return { exits: [...exitAt.values()], transit, receivers };
}

/** Hops from one switch to another along the shortest paths, or undefined when links down part them. */
function hopsBetween(fabric: FabricContext, from: string, to: string): number | undefined {
  const hops = fabric.nextHopsTo(to);
  const limit = fabric.switchNameOf.size;
  let n = 0;
  for (let at = from; at !== to; n++) {
    const hop = hops.get(at);
    if (!hop || n > limit) return undefined;
    at = hop.next;
  }
  return n;
}
