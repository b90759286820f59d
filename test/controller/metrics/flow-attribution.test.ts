/**
 * Flow attribution: real frames through the compiled tables (the shared executor, groups included),
 * every matched flow's counter credited to the targets attributeFlow names. One frame counts once per
 * target (no flow pair credits the same endpoint twice), and the counters say who sent, who received,
 * which backend answered and what an elastic IP carried.
 */
import { describe, expect, it } from 'vitest';
import { createIncrementalCompiler } from '../../../src/compiler/index.js';
import { attributeFlow, dropReason, type FlowTarget } from '../../../src/controller/metrics/index.js';
import { TABLE, type FlowEntry } from '../../../src/flow/index.js';
import { createExecResult, trimResult, type PipelineExecutor } from '../../../src/flow/execute.js';
import { GATEWAY_MAC, type ElasticIp, type Endpoint, type LoadBalancer } from '../../../src/model/index.js';
import { buildUdpFrame } from '../../../src/net/index.js';
import { ip } from '../../compiler/vpc-fixture.js';
import { executorsFor, fnEndpoint, gatewayTopology, GW_DPID, GW_MAC, GW_PORT, OUTSIDE_IP, ROUTER_MAC, serviceIntent } from '../../compiler/service-fixture.js';

const topology = gatewayTopology();
const VIP = ip(10, 0, 0, 200);
const PUBLIC = ip(203, 0, 113, 5);
const client = fnEndpoint('client', 102, 12, 90, { function: 'front' });
const backends: Endpoint[] = [fnEndpoint('b0', 101, 7, 1, { function: 'resize' }), fnEndpoint('b1', 103, 7, 2, { function: 'resize' })];
const lb: LoadBalancer = { id: 'lb-1', vpcId: 'red', vip: VIP, protocol: 'udp', port: 80, backendPort: 80, function: 'resize', weights: {}, unhealthy: [] };
const eip: ElasticIp = { id: 'eip-1', publicIp: PUBLIC, endpointId: 'client' };
const intent = { ...serviceIntent([client, ...backends]), elasticIps: new Map([[eip.id, eip]]), loadBalancers: new Map([[lb.id, lb]]) };
const compiler = createIncrementalCompiler(topology, intent);
const ctx = { describeCookie: (c: number) => compiler.describeCookie(c), intent };
const key = (t: FlowTarget) => JSON.stringify(t);

/** Frames through the compiled tables; every matched flow's attribution credited once per frame. */
function countingSim() {
  const executors = executorsFor(topology, compiler.tables(), compiler.groups());
  const dpidOf = new Map(topology.switches.map((s) => [s.name, s.dpid]));
  const peer = new Map<string, { dpid: number; port: number }>();
  for (const l of topology.links) {
    peer.set(`${dpidOf.get(l.a.switch)}:${l.a.port}`, { dpid: dpidOf.get(l.b.switch) ?? 0, port: l.b.port });
    peer.set(`${dpidOf.get(l.b.switch)}:${l.b.port}`, { dpid: dpidOf.get(l.a.switch) ?? 0, port: l.a.port });
  }
  const counted = new Map<string, number>();
  return {
    counted,
    send(dpid: number, port: number, frame: Uint8Array): void {
      const queue = [{ dpid, port, frame }];
      while (queue.length > 0) {
        const hop = queue.shift() as (typeof queue)[number];
        const r = trimResult((executors.get(hop.dpid) as PipelineExecutor).run(hop.frame, hop.port, createExecResult()));
        for (const h of r.matched) for (const t of attributeFlow(h.flow, hop.dpid, ctx)) counted.set(key(t), (counted.get(key(t)) ?? 0) + 1);
        for (let i = 0; i < r.outCount; i++) {
          const next = peer.get(`${hop.dpid}:${r.outPorts[i]}`);
          if (next) queue.push({ dpid: next.dpid, port: next.port, frame: Uint8Array.from(r.outFrames[i]) });
        }
      }
    },
  };
}

const udp = (from: Endpoint, dstMac: number, dstIp: number, srcPort = 5000, dstPort = 80) =>
  buildUdpFrame({ srcMac: from.mac, dstMac, srcIp: from.ip, dstIp, srcPort, dstPort, payload: Buffer.from('x') });

describe('attributeFlow', () => {
  it('gives each endpoint receiving and sending flows only on its own switch', () => {
    for (const e of [client, ...backends]) {
      const received: number[] = [];
      const sent: number[] = [];
      for (const [dpid, flows] of compiler.tables()) {
        for (const f of flows) {
          for (const t of attributeFlow(f, dpid, ctx)) {
            if (t.kind !== 'endpoint' || t.id !== e.id) continue;
            (t.direction === 'received' ? received : sent).push(dpid);
          }
        }
      }
      expect(new Set(received), e.id).toEqual(new Set([e.dpid]));
      expect(new Set(sent), e.id).toEqual(new Set([e.dpid]));
    }
  });

  it('counts a frame between endpoints once as sent and once as received', () => {
    const sim = countingSim();
    sim.send(client.dpid, client.port, udp(client, backends[1].mac, backends[1].ip));
    expect(sim.counted.get(key({ kind: 'endpoint', id: 'client', direction: 'sent' }))).toBe(1);
    expect(sim.counted.get(key({ kind: 'endpoint', id: 'b1', direction: 'received' }))).toBe(1);
    expect([...sim.counted.keys()].filter((k) => k.includes('"endpoint"'))).toHaveLength(2);
  });

  it('counts a request to the VIP for the load balancer, and the answer for the backend that gave it', () => {
    const sim = countingSim();
    sim.send(client.dpid, client.port, udp(client, GATEWAY_MAC, VIP));
    expect(sim.counted.get(key({ kind: 'loadBalancer', id: 'lb-1' }))).toBe(1);
    const chosen = backends.find((b) => sim.counted.get(key({ kind: 'endpoint', id: b.id, direction: 'received' })) === 1);
    expect(chosen, JSON.stringify([...sim.counted])).toBeDefined();
    const b = chosen as Endpoint;
    // The backend answers from its own address and port; the return flow names it.
    sim.send(b.dpid, b.port, buildUdpFrame({ srcMac: b.mac, dstMac: GATEWAY_MAC, srcIp: b.ip, dstIp: client.ip, srcPort: 80, dstPort: 5000, payload: Buffer.from('y') }));
    expect(sim.counted.get(key({ kind: 'backend', loadBalancer: 'lb-1', endpoint: b.id }))).toBe(1);
  });

  it("counts an elastic IP's outbound at the exit and its inbound at the gateway", () => {
    const sim = countingSim();
    sim.send(client.dpid, client.port, udp(client, GATEWAY_MAC, OUTSIDE_IP));
    expect(sim.counted.get(key({ kind: 'elasticIp', id: 'eip-1', direction: 'out' }))).toBe(1);
    sim.send(GW_DPID, GW_PORT, buildUdpFrame({ srcMac: ROUTER_MAC, dstMac: GW_MAC, srcIp: OUTSIDE_IP, dstIp: PUBLIC, srcPort: 53, dstPort: 5000, payload: Buffer.from('z') }));
    expect(sim.counted.get(key({ kind: 'elasticIp', id: 'eip-1', direction: 'in' }))).toBe(1);
    expect(sim.counted.get(key({ kind: 'endpoint', id: 'client', direction: 'received' }))).toBe(1);
  });

  it("counts a spoofed frame as the endpoint's drop and the switch's, with a bounded reason", () => {
    const sim = countingSim();
    sim.send(client.dpid, client.port, buildUdpFrame({ srcMac: client.mac, dstMac: GATEWAY_MAC, srcIp: ip(10, 0, 0, 99), dstIp: OUTSIDE_IP, srcPort: 1, dstPort: 2, payload: Buffer.from('s') }));
    expect(sim.counted.get(key({ kind: 'endpoint', id: 'client', direction: 'dropped' }))).toBe(1);
    expect(sim.counted.get(key({ kind: 'drop', reason: 'ingress_endpoint' }))).toBe(1);
  });

  it('names a table-miss flow by its table', () => {
    const miss: FlowEntry = { table: TABLE.FORWARD, priority: 0, match: {}, actions: [], cookie: 0 };
    expect(dropReason(miss, { kind: 'fabric', name: '' })).toBe('forward_miss');
  });
});
