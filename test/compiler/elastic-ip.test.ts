/**
 * Elastic IPs through the shared executor: real frames from the outside (the gateway's uplink port)
 * and from endpoints; checksums verified on the delivered bytes; a move is one delta that modifies the
 * DNAT flow in place (make-before-break).
 */
import { describe, expect, it } from 'vitest';
import { createIncrementalCompiler, elasticIpCookie, type IncrementalCompiler } from '../../src/compiler/index.js';
import { flowKey, TABLE } from '../../src/flow/index.js';
import { GATEWAY_MAC, type ElasticIp, type Endpoint } from '../../src/model/index.js';
import { buildArpRequest, buildUdpFrame, isMalformed, parseFrame, verifyIpv4Checksum, verifyL4Checksum, ARP_OP_REPLY } from '../../src/net/index.js';
import { ip } from './vpc-fixture.js';
import { createServiceSim, fnEndpoint, gatewayTopology, GW_DPID, GW_IP, GW_MAC, GW_PORT, OUTSIDE_IP, ROUTER_MAC, serviceIntent } from './service-fixture.js';

const PUBLIC = ip(203, 0, 113, 5);
const topology = gatewayTopology();
const e1 = fnEndpoint('e1', 103, 7, 1);
const e2 = fnEndpoint('e2', 104, 7, 2);
const e3 = fnEndpoint('e3', 101, 7, 3);
const endpoints = [e1, e2, e3];

function setup(eip: ElasticIp): IncrementalCompiler {
  const intent = serviceIntent(endpoints);
  return createIncrementalCompiler(topology, { ...intent, elasticIps: new Map([[eip.id, eip]]) });
}

function sim(c: IncrementalCompiler) {
  return createServiceSim(topology, c.tables(), c.groups(), endpoints);
}

const inbound = (payload = 'hello') =>
  buildUdpFrame({ srcMac: ROUTER_MAC, dstMac: GW_MAC, srcIp: OUTSIDE_IP, dstIp: PUBLIC, srcPort: 4000, dstPort: 7000, ttl: 64, payload: Buffer.from(payload) });

function parsed(frame: Uint8Array) {
  const p = parseFrame(frame);
  if (isMalformed(p)) throw new Error('malformed');
  return p;
}

function checksumsOk(frame: Uint8Array): boolean {
  return verifyIpv4Checksum(frame, 14) && verifyL4Checksum(frame, 14);
}

describe('elastic IP', () => {
  it('the gateway answers ARP for its own IP and for an associated public IP, with its MAC, out of the uplink', () => {
    const s = sim(setup({ id: 'eip-1', publicIp: PUBLIC, endpointId: 'e1' }));
    for (const target of [GW_IP, PUBLIC]) {
      const out = s.send(GW_DPID, GW_PORT, buildArpRequest({ srcMac: ROUTER_MAC, srcIp: OUTSIDE_IP, targetIp: target }));
      expect(out.map((d) => d.to)).toEqual(['gateway:gw1']);
      const arp = parsed(out[0].frame).arp;
      expect(arp?.op).toBe(ARP_OP_REPLY);
      expect(arp?.sha).toBe(GW_MAC);
      expect(arp?.spa).toBe(target);
    }
    // A pool address nobody holds: no answer.
    expect(s.send(GW_DPID, GW_PORT, buildArpRequest({ srcMac: ROUTER_MAC, srcIp: OUTSIDE_IP, targetIp: ip(203, 0, 113, 6) }))).toEqual([]);
  });

  it('inbound to the public IP reaches the endpoint on another leaf, DNATed, TTL -1, checksums right', () => {
    const s = sim(setup({ id: 'eip-1', publicIp: PUBLIC, endpointId: 'e1' }));
    const out = s.send(GW_DPID, GW_PORT, inbound());
    expect(out.map((d) => d.to)).toEqual(['endpoint:e1']);
    const p = parsed(out[0].frame);
    expect(p.ip?.dst).toBe(e1.ip);
    expect(p.ip?.src).toBe(OUTSIDE_IP);
    expect(p.ip?.ttl).toBe(63);
    expect(p.eth.src).toBe(GATEWAY_MAC);
    expect(p.eth.dst).toBe(e1.mac);
    expect(p.eth.vlan).toBeUndefined();
    expect(checksumsOk(out[0].frame)).toBe(true);
    expect(p.payload.toString()).toBe('hello');
  });

  it('outbound leaves the uplink with the public IP as source, to the router MAC, checksums right', () => {
    for (const e of [e1, e3]) {
      const s = sim(setup({ id: 'eip-1', publicIp: PUBLIC, endpointId: e.id }));
      const frame = buildUdpFrame({ srcMac: e.mac, dstMac: GATEWAY_MAC, srcIp: e.ip, dstIp: OUTSIDE_IP, srcPort: 7000, dstPort: 4000, ttl: 64, payload: Buffer.from('out') });
      const out = s.send(e.dpid, e.port, frame);
      expect(out.map((d) => d.to)).toEqual(['gateway:gw1']);
      const p = parsed(out[0].frame);
      expect(p.ip?.src).toBe(PUBLIC);
      expect(p.ip?.dst).toBe(OUTSIDE_IP);
      expect(p.ip?.ttl).toBe(63);
      expect(p.eth.src).toBe(GW_MAC);
      expect(p.eth.dst).toBe(ROUTER_MAC);
      expect(p.eth.vlan).toBeUndefined();
      expect(checksumsOk(out[0].frame)).toBe(true);
    }
  });

  it('traffic inside the VPC is not translated', () => {
    const s = sim(setup({ id: 'eip-1', publicIp: PUBLIC, endpointId: 'e1' }));
    const frame = buildUdpFrame({ srcMac: e1.mac, dstMac: GATEWAY_MAC, srcIp: e1.ip, dstIp: e2.ip, srcPort: 1, dstPort: 2, payload: Buffer.from('in') });
    const out = s.send(e1.dpid, e1.port, frame);
    expect(out.map((d) => d.to)).toEqual(['endpoint:e2']);
    expect(parsed(out[0].frame).ip?.src).toBe(e1.ip);
  });

  it('an endpoint without an elastic IP cannot reach the outside; an unassociated address reaches nobody', () => {
    const c = setup({ id: 'eip-1', publicIp: PUBLIC });
    const s = sim(c);
    expect(s.send(GW_DPID, GW_PORT, inbound())).toEqual([]);
    const frame = buildUdpFrame({ srcMac: e1.mac, dstMac: GATEWAY_MAC, srcIp: e1.ip, dstIp: OUTSIDE_IP, srcPort: 1, dstPort: 2 });
    expect(s.send(e1.dpid, e1.port, frame)).toEqual([]);
  });

  it('a move is one delta: the DNAT flow is replaced in place (no remove of it), and traffic follows', () => {
    const c = setup({ id: 'eip-1', publicIp: PUBLIC, endpointId: 'e1' });
    const dnatKey = flowKey(c.table(GW_DPID).find((f) => f.table === TABLE.NAT_LB && f.cookie === elasticIpCookie('eip-1'))!);
    const delta = c.apply({ kind: 'elasticIp', op: 'update', elasticIp: { id: 'eip-1', publicIp: PUBLIC, endpointId: 'e2' } });
    const gw = delta.get(GW_DPID)!;
    expect(gw.add.map(flowKey)).toContain(dnatKey);
    expect(gw.remove.map(flowKey)).not.toContain(dnatKey);
    const out = sim(c).send(GW_DPID, GW_PORT, inbound());
    expect(out.map((d) => d.to)).toEqual(['endpoint:e2']);
    expect(parsed(out[0].frame).ip?.dst).toBe(e2.ip);
    expect(checksumsOk(out[0].frame)).toBe(true);
  });

  it('gateway ports cannot hold endpoints (the endpoint stays dark)', () => {
    const squatter: Endpoint = fnEndpoint('zz', GW_DPID, GW_PORT, 9);
    const c = createIncrementalCompiler(topology, serviceIntent([squatter]));
    expect(c.table(GW_DPID).some((f) => f.match.inPort === GW_PORT && f.match.ethSrc === squatter.mac)).toBe(false);
  });
});
