/**
 * The workload OVN 23.03 was measured on (docs/vpc.md, "Figures"): each VPC has 2 subnets x 10
 * endpoints, one elastic IP (on its first endpoint) and one load balancer (a VIP, UDP 80 -> 8080) over
 * 4 function endpoints. Every VPC uses the same address plan (10.0.0.0/16): overlap is the normal case.
 * Endpoints are spread pseudo-randomly over the leaves of a leaf-spine fabric with a gateway (uplink)
 * on leaf 1 whose public pool holds every VPC's elastic IP. Deterministic for a seed.
 */
import { generateLeafSpine, type ElasticIp, type Endpoint, type GatewaySpec, type Intent, type LoadBalancer, type Subnet, type Topology, type Vpc } from '../src/model/index.js';
import { prng } from '../test/support/prng.js';

/** First endpoint port on a leaf (below it: the uplinks and the gateway). */
export const ENDPOINT_PORT_BASE = 100;
/** The elastic IPs' pool: 100.64.0.0/10, room for 4 million. */
const PUBLIC_POOL = { network: 0x64400000, prefixLength: 10 };
const LB_FUNCTION = 'web';

/** Leaf-spine with a gateway on leaf1 (its last port). */
export function ovnTopology(spines: number, leaves: number): Topology {
  const t = generateLeafSpine(spines, leaves, 0, `leaf-spine ${spines}x${leaves} + gateway`);
  const gwPort = spines + 1;
  const gw: GatewaySpec = {
    name: 'gw1',
    attach: { switch: 'leaf1', port: gwPort },
    mac: 0x0a00000000fe,
    ip: 0xc6336401, // 198.51.100.1
    prefixLength: 24,
    routerMac: 0x020000000110,
    publicPool: PUBLIC_POOL,
  };
  return {
    ...t,
    switches: t.switches.map((s) => (s.name === 'leaf1' ? { ...s, ports: [...s.ports, { number: gwPort }] } : s)),
    gateways: [gw],
  };
}

export interface OvnWorkload {
  intent: Intent;
  leaves: number[];
  /** The next free endpoint port per leaf (after the workload's). */
  nextPort: Map<number, number>;
  endpointCount: number;
}

/** `vpcCount` VPCs of the OVN workload, VNIs 1..vpcCount (or from `firstVni`). */
export function ovnWorkload(topology: Topology, vpcCount: number, seed = 42, firstVni = 1): OvnWorkload {
  const leaves = topology.switches.filter((s) => s.name.startsWith('leaf')).map((s) => s.dpid);
  const nextPort = new Map(leaves.map((d) => [d, ENDPOINT_PORT_BASE]));
  const random = prng(seed);
  const vpcs: Vpc[] = [];
  const subnets: Subnet[] = [];
  const endpoints: Endpoint[] = [];
  const elasticIps: ElasticIp[] = [];
  const loadBalancers: LoadBalancer[] = [];
  let mac = 0x020000000000;
  for (let v = 1; v <= vpcCount; v++) {
    const vpcId = `vpc-${v}`;
    vpcs.push({ id: vpcId, name: vpcId, vni: firstVni + v - 1, cidr: { network: 0x0a000000, prefixLength: 16 } });
    for (let s = 0; s < 2; s++) {
      const subnetId = `${vpcId}-s${s}`;
      const network = 0x0a000000 + s * 256;
      subnets.push({ id: subnetId, vpcId, name: subnetId, cidr: { network, prefixLength: 24 }, gateway: network + 1 });
      for (let e = 0; e < 10; e++) {
        const dpid = leaves[Math.floor(random() * leaves.length)];
        const port = nextPort.get(dpid) ?? ENDPOINT_PORT_BASE;
        nextPort.set(dpid, port + 1);
        // Subnet 1's first four endpoints are the load balancer's backends.
        const labels: Record<string, string> = s === 1 && e < 4 ? { function: LB_FUNCTION, revision: 'v1' } : {};
        endpoints.push({ id: `${subnetId}-e${e}`, kind: s === 1 && e < 4 ? 'function' : 'container', vpcId, subnetId, dpid, port, mac: ++mac, ip: network + 10 + e, labels });
      }
    }
    elasticIps.push({ id: `${vpcId}-eip`, publicIp: PUBLIC_POOL.network + v, endpointId: `${vpcId}-s0-e0` });
    loadBalancers.push({ id: `${vpcId}-lb`, vpcId, vip: 0x0a0000c8, protocol: 'udp', port: 80, backendPort: 8080, function: LB_FUNCTION, weights: {}, unhealthy: [] });
  }
  return {
    intent: {
      vpcs: new Map(vpcs.map((x) => [x.id, x])),
      subnets: new Map(subnets.map((x) => [x.id, x])),
      endpoints: new Map(endpoints.map((x) => [x.id, x])),
      elasticIps: new Map(elasticIps.map((x) => [x.id, x])),
      loadBalancers: new Map(loadBalancers.map((x) => [x.id, x])),
    },
    leaves,
    nextPort,
    endpointCount: endpoints.length,
  };
}
