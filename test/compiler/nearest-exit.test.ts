/**
 * Several gateways serving one pool: traffic for the outside leaves by the nearest one (fewest hops,
 * ties to the first by name), decided switch by switch, and by another when links down cut the
 * nearest off; every gateway translates inbound. Real frames through the shared executor, checksums
 * verified on the delivered bytes; incremental tables equal a full compile after each link change.
 */
import { describe, expect, it } from 'vitest';
import { createIncrementalCompiler, fullCompile, type IncrementalCompiler } from '../../src/compiler/index.js';
import { flowKey, type FlowEntry } from '../../src/flow/index.js';
import { GATEWAY_MAC, setLinkUp, type ElasticIp, type Endpoint, type Intent, type LoadBalancer, type Topology } from '../../src/model/index.js';
import { buildUdpFrame, isMalformed, parseFrame, verifyIpv4Checksum, verifyL4Checksum } from '../../src/net/index.js';
import { ip } from './vpc-fixture.js';
import { createServiceSim, fnEndpoint, GW_DPID, GW_MAC, GW_PORT, GW2_DPID, GW2_MAC, OUTSIDE_IP, ROUTER_MAC, serviceIntent, twoGatewayTopology } from './service-fixture.js';

const topology = twoGatewayTopology();
const PUBLIC = ip(203, 0, 113, 5);
const VIP = ip(10, 0, 0, 200);
// leaf1 (gw1) = 101, leaf3 = 103 (two hops from both gateways), leaf4 (gw2) = 104.
const onLeaf1 = fnEndpoint('e1', 101, 7, 1, { function: 'resize' });
const onLeaf3 = fnEndpoint('e3', 103, 7, 3, { function: 'resize' });
const onLeaf4 = fnEndpoint('e4', 104, 7, 4, { function: 'resize' });
const endpoints = [onLeaf1, onLeaf3, onLeaf4];
/** leaf1's two spine links: down, leaf1 (and gw1) is cut off from the fabric. */
const LEAF1_UPLINKS = [5, 6].map((port) => ({ switch: 'leaf1', port }));

function parsed(frame: Uint8Array) {
  const p = parseFrame(frame);
  if (isMalformed(p)) throw new Error('malformed');
  return p;
}

/** Sends one UDP frame from the endpoint to the outside host; returns where it left and how it looked. */
function outbound(c: IncrementalCompiler, t: Topology, e: Endpoint) {
  const s = createServiceSim(t, c.tables(), c.groups(), endpoints);
  const frame = buildUdpFrame({ srcMac: e.mac, dstMac: GATEWAY_MAC, srcIp: e.ip, dstIp: OUTSIDE_IP, srcPort: 8080, dstPort: 4000, ttl: 64, payload: Buffer.from('out') });
  const out = s.send(e.dpid, e.port, frame);
  expect(out).toHaveLength(1);
  const p = parsed(out[0].frame);
  expect(verifyIpv4Checksum(out[0].frame, 14) && verifyL4Checksum(out[0].frame, 14)).toBe(true);
  expect([p.ip?.src, p.ip?.dst, p.ip?.ttl, p.eth.dst, p.eth.vlan]).toEqual([PUBLIC, OUTSIDE_IP, 63, ROUTER_MAC, undefined]);
  return { via: out[0].to, ethSrc: p.eth.src, srcPort: p.udp?.srcPort };
}

function inbound(c: IncrementalCompiler, t: Topology, gatewayDpid: number, gatewayMac: number) {
  const s = createServiceSim(t, c.tables(), c.groups(), endpoints);
  const frame = buildUdpFrame({ srcMac: ROUTER_MAC, dstMac: gatewayMac, srcIp: OUTSIDE_IP, dstIp: PUBLIC, srcPort: 4000, dstPort: 80, ttl: 64, payload: Buffer.from('in') });
  return s.send(gatewayDpid, GW_PORT, frame).map((d) => d.to);
}

/** Sets leaf1's spine links down (or up again) in the compiler; returns the topology it now has. */
function setLeaf1Uplinks(c: IncrementalCompiler, t: Topology, up: boolean): Topology {
  for (const link of LEAF1_UPLINKS) {
    c.apply({ kind: 'link', op: up ? 'up' : 'down', link });
    t = setLinkUp(t, link, up);
  }
  return t;
}

const sortedTables = (t: ReadonlyMap<number, readonly FlowEntry[]>) =>
  [...t].map(([d, fs]) => [d, fs.map((f) => `${flowKey(f)} ${JSON.stringify(f)}`).sort()] as const).sort((a, b) => a[0] - b[0]);

describe('elastic IP with two gateways', () => {
  const intentFor = (endpointId: string): Intent => ({ ...serviceIntent(endpoints), elasticIps: new Map([['eip-1', { id: 'eip-1', publicIp: PUBLIC, endpointId } satisfies ElasticIp]]) });

  it('outbound leaves by the nearest gateway, ties to the first by name', () => {
    const cases: [Endpoint, string, number][] = [
      [onLeaf1, 'gateway:gw1', GW_MAC],
      [onLeaf3, 'gateway:gw1', GW_MAC],
      [onLeaf4, 'gateway:gw2', GW2_MAC],
    ];
    for (const [e, via, mac] of cases) {
      const c = createIncrementalCompiler(topology, intentFor(e.id));
      expect(outbound(c, topology, e), e.id).toMatchObject({ via, ethSrc: mac });
    }
  });

  it('both gateways translate inbound', () => {
    const c = createIncrementalCompiler(topology, intentFor(onLeaf3.id));
    expect(inbound(c, topology, GW_DPID, GW_MAC)).toEqual(['endpoint:e3']);
    expect(inbound(c, topology, GW2_DPID, GW2_MAC)).toEqual(['endpoint:e3']);
  });

  it('leaves by the other gateway while links down cut the nearest off, and comes back; incremental = full', () => {
    const intent = intentFor(onLeaf3.id);
    const c = createIncrementalCompiler(topology, intent);
    let t = setLeaf1Uplinks(c, topology, false);
    expect(sortedTables(c.tables())).toEqual(sortedTables(fullCompile(t, intent)));
    expect(outbound(c, t, onLeaf3)).toMatchObject({ via: 'gateway:gw2', ethSrc: GW2_MAC });
    // Inbound: gw2 still reaches e3; gw1, cut off, has no way in.
    expect(inbound(c, t, GW2_DPID, GW2_MAC)).toEqual(['endpoint:e3']);
    expect(inbound(c, t, GW_DPID, GW_MAC)).toEqual([]);
    t = setLeaf1Uplinks(c, t, true);
    expect(sortedTables(c.tables())).toEqual(sortedTables(fullCompile(t, intent)));
    expect(outbound(c, t, onLeaf3)).toMatchObject({ via: 'gateway:gw1', ethSrc: GW_MAC });
  });
});

describe('load balancer behind an elastic IP with two gateways', () => {
  const lb: LoadBalancer = { id: 'lb-1', vpcId: 'red', vip: VIP, protocol: 'udp', port: 80, backendPort: 8080, function: 'resize', weights: {}, unhealthy: [], elasticIpId: 'eip-1' };
  const intent: Intent = { ...serviceIntent(endpoints), elasticIps: new Map([['eip-1', { id: 'eip-1', publicIp: PUBLIC }]]), loadBalancers: new Map([[lb.id, lb]]) };

  it("each backend's replies leave by its nearest gateway, from publicIp:port", () => {
    const c = createIncrementalCompiler(topology, intent);
    // A backend replies from its own address and port; the switches make it publicIp:80.
    const via = (e: Endpoint) => outbound(c, topology, e);
    expect(via(onLeaf1)).toEqual({ via: 'gateway:gw1', ethSrc: GW_MAC, srcPort: 80 });
    expect(via(onLeaf3)).toEqual({ via: 'gateway:gw1', ethSrc: GW_MAC, srcPort: 80 });
    expect(via(onLeaf4)).toEqual({ via: 'gateway:gw2', ethSrc: GW2_MAC, srcPort: 80 });
  });

  it('with gw1 cut off, every reachable backend replies through gw2; incremental = full', () => {
    const c = createIncrementalCompiler(topology, intent);
    const t = setLeaf1Uplinks(c, topology, false);
    expect(sortedTables(c.tables())).toEqual(sortedTables(fullCompile(t, intent)));
    expect(outbound(c, t, onLeaf3).via).toBe('gateway:gw2');
    expect(outbound(c, t, onLeaf4).via).toBe('gateway:gw2');
    // The backend behind the cut-off leaf still has its own exit.
    expect(outbound(c, t, onLeaf1).via).toBe('gateway:gw1');
  });
});
