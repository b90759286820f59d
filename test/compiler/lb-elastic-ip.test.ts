/**
 * A load balancer behind an elastic IP through the shared executor: the outside reaches a backend at
 * publicIp:port (public -> VIP -> backend, port rewritten), the reply leaves the uplink from
 * publicIp:port; checksums verified on the delivered bytes. Clients inside the VPC are not translated.
 */
import { describe, expect, it } from 'vitest';
import { coldTargetOfCookie, createIncrementalCompiler, fullCompile, loadBalancerCookie, type IncrementalCompiler } from '../../src/compiler/index.js';
import { flowKey } from '../../src/flow/index.js';
import { GATEWAY_MAC, type ElasticIp, type Endpoint, type LoadBalancer } from '../../src/model/index.js';
import { buildArpRequest, buildUdpFrame, isMalformed, parseFrame, verifyIpv4Checksum, verifyL4Checksum, ARP_OP_REPLY } from '../../src/net/index.js';
import { ip } from './vpc-fixture.js';
import { createServiceSim, fnEndpoint, gatewayTopology, GW_DPID, GW_MAC, GW_PORT, OUTSIDE_IP, ROUTER_MAC, serviceIntent } from './service-fixture.js';

const topology = gatewayTopology();
const PUBLIC = ip(203, 0, 113, 5);
const VIP = ip(10, 0, 0, 200);
const client = fnEndpoint('client', 102, 12, 90);
const eps: Endpoint[] = [
  fnEndpoint('b0', 101, 7, 1, { function: 'resize' }),
  fnEndpoint('b1', 103, 7, 2, { function: 'resize' }),
  fnEndpoint('b2', 104, 7, 3, { function: 'resize' }),
];
const all = [client, ...eps];
const lb = (over: Partial<LoadBalancer> = {}): LoadBalancer => ({
  id: 'lb-1',
  vpcId: 'red',
  vip: VIP,
  protocol: 'udp',
  port: 80,
  backendPort: 8080,
  function: 'resize',
  weights: {},
  unhealthy: [],
  elasticIpId: 'eip-1',
  ...over,
});
const eip: ElasticIp = { id: 'eip-1', publicIp: PUBLIC };

function compile(l: LoadBalancer, x: ElasticIp = eip): IncrementalCompiler {
  return createIncrementalCompiler(topology, { ...serviceIntent(all), elasticIps: new Map([[x.id, x]]), loadBalancers: new Map([[l.id, l]]) });
}

function parsed(frame: Uint8Array) {
  const p = parseFrame(frame);
  if (isMalformed(p)) throw new Error('malformed');
  return p;
}

const checksumsOk = (frame: Uint8Array) => verifyIpv4Checksum(frame, 14) && verifyL4Checksum(frame, 14);

const inbound = (srcPort: number) =>
  buildUdpFrame({ srcMac: ROUTER_MAC, dstMac: GW_MAC, srcIp: OUTSIDE_IP, dstIp: PUBLIC, srcPort, dstPort: 80, ttl: 64, payload: Buffer.from(`q${srcPort}`) });

describe('load balancer behind an elastic IP', () => {
  it('the gateway answers ARP for the public IP', () => {
    const s = createServiceSim(topology, compile(lb()).tables(), compile(lb()).groups(), all);
    const out = s.send(GW_DPID, GW_PORT, buildArpRequest({ srcMac: ROUTER_MAC, srcIp: OUTSIDE_IP, targetIp: PUBLIC }));
    expect(out.map((d) => d.to)).toEqual(['gateway:gw1']);
    expect(parsed(out[0].frame).arp?.op).toBe(ARP_OP_REPLY);
    expect(parsed(out[0].frame).arp?.sha).toBe(GW_MAC);
  });

  it('outside -> publicIp:port reaches a backend (VIP DNATed to it); the reply leaves from publicIp:port', () => {
    const c = compile(lb());
    const s = createServiceSim(topology, c.tables(), c.groups(), all);
    const reached = new Set<string>();
    for (let sp = 4000; sp < 4060; sp++) {
      const out = s.send(GW_DPID, GW_PORT, inbound(sp));
      expect(out.length).toBe(1);
      const to = out[0].to.replace('endpoint:', '');
      const b = eps.find((e) => e.id === to);
      if (!b) throw new Error(`delivered to ${out[0].to}`);
      reached.add(b.id);
      const p = parsed(out[0].frame);
      expect(p.ip?.dst).toBe(b.ip);
      expect(p.ip?.src).toBe(OUTSIDE_IP);
      expect(p.udp?.dstPort).toBe(8080);
      expect(p.udp?.srcPort).toBe(sp);
      expect(p.ip?.ttl).toBe(63);
      expect(p.eth.dst).toBe(b.mac);
      expect(p.eth.vlan).toBeUndefined();
      expect(checksumsOk(out[0].frame)).toBe(true);
      expect(p.payload.toString()).toBe(`q${sp}`);

      const reply = buildUdpFrame({ srcMac: b.mac, dstMac: GATEWAY_MAC, srcIp: b.ip, dstIp: OUTSIDE_IP, srcPort: 8080, dstPort: sp, ttl: 64, payload: Buffer.from('r') });
      const back = s.send(b.dpid, b.port, reply);
      expect(back.map((d) => d.to)).toEqual(['gateway:gw1']);
      const r = parsed(back[0].frame);
      expect(r.ip?.src).toBe(PUBLIC);
      expect(r.ip?.dst).toBe(OUTSIDE_IP);
      expect(r.udp?.srcPort).toBe(80);
      expect(r.udp?.dstPort).toBe(sp);
      expect(r.eth.src).toBe(GW_MAC);
      expect(r.eth.dst).toBe(ROUTER_MAC);
      expect(r.eth.vlan).toBeUndefined();
      expect(checksumsOk(back[0].frame)).toBe(true);
    }
    expect(reached.size).toBe(3);
  });

  it('clients inside the VPC still see the VIP, untranslated', () => {
    const c = compile(lb());
    const s = createServiceSim(topology, c.tables(), c.groups(), all);
    const b = eps[1];
    const reply = buildUdpFrame({ srcMac: b.mac, dstMac: GATEWAY_MAC, srcIp: b.ip, dstIp: client.ip, srcPort: 8080, dstPort: 5000, ttl: 64, payload: Buffer.from('r') });
    const out = s.send(b.dpid, b.port, reply);
    expect(out.map((d) => d.to)).toEqual(['endpoint:client']);
    expect(parsed(out[0].frame).ip?.src).toBe(VIP);
    expect(checksumsOk(out[0].frame)).toBe(true);
  });

  it('no outside path without the link, with an address that serves an endpoint, or on the wrong port', () => {
    for (const c of [compile(lb({ elasticIpId: undefined })), compile(lb(), { ...eip, endpointId: 'nobody' }), compile(lb({ elasticIpId: 'eip-9' }))]) {
      const s = createServiceSim(topology, c.tables(), c.groups(), all);
      expect(s.send(GW_DPID, GW_PORT, inbound(4000))).toEqual([]);
      expect(s.send(GW_DPID, GW_PORT, buildArpRequest({ srcMac: ROUTER_MAC, srcIp: OUTSIDE_IP, targetIp: PUBLIC }))).toEqual([]);
    }
    const c = compile(lb());
    const s = createServiceSim(topology, c.tables(), c.groups(), all);
    const wrongPort = buildUdpFrame({ srcMac: ROUTER_MAC, dstMac: GW_MAC, srcIp: OUTSIDE_IP, dstIp: PUBLIC, srcPort: 4000, dstPort: 81, ttl: 64, payload: Buffer.from('x') });
    expect(s.send(GW_DPID, GW_PORT, wrongPort)).toEqual([]);
  });

  it('cold: the gateway holds the packet as it came from the uplink, so its replay (in_port = uplink, table 0) reaches the first instance', () => {
    const c = createIncrementalCompiler(topology, { ...serviceIntent([client]), elasticIps: new Map([[eip.id, eip]]), loadBalancers: new Map([['lb-1', lb()]]) });
    const cold = createServiceSim(topology, c.tables(), c.groups(), [client]);
    expect(cold.send(GW_DPID, GW_PORT, inbound(4000))).toEqual([]);
    expect(cold.packetInFrames.length).toBe(1);
    const held = cold.packetInFrames[0];
    expect([held.dpid, held.inPort, held.cookie]).toEqual([GW_DPID, GW_PORT, loadBalancerCookie('lb-1')]);
    expect(coldTargetOfCookie(held.cookie, (k) => c.describeCookie(k), c.intent())?.functionKey).toBe('red/resize');
    // Untranslated: the replay goes through the uplink's flows again, which match the public address.
    expect(parsed(held.frame).ip?.dst).toBe(PUBLIC);
    // The first instance registers; the controller replays the held frame on the switch and port it came from.
    c.apply({ kind: 'endpoint', op: 'add', endpoint: eps[1] });
    const warm = createServiceSim(topology, c.tables(), c.groups(), [client, eps[1]]);
    const out = warm.send(held.dpid, held.inPort, held.frame);
    expect(out.map((d) => d.to)).toEqual(['endpoint:b1']);
    const p = parsed(out[0].frame);
    expect([p.ip?.dst, p.udp?.dstPort, p.payload.toString()]).toEqual([eps[1].ip, 8080, 'q4000']);
    expect(checksumsOk(out[0].frame)).toBe(true);
  });

  it('attach and detach incrementally equal a full compile', () => {
    const intent = { ...serviceIntent(all), elasticIps: new Map([[eip.id, eip]]), loadBalancers: new Map([['lb-1', lb({ elasticIpId: undefined })]]) };
    const c = createIncrementalCompiler(topology, intent);
    const keys = (t: ReadonlyMap<number, readonly { table: number }[]>) =>
      [...t].map(([d, fs]) => [d, fs.map((f) => `${flowKey(f as never)} ${JSON.stringify(f)}`).sort()] as const).sort((a, b) => a[0] - b[0]);
    for (const l of [lb(), lb({ elasticIpId: undefined }), lb()]) {
      c.apply({ kind: 'loadBalancer', op: 'update', loadBalancer: l });
      const full = fullCompile(topology, { ...intent, loadBalancers: new Map([['lb-1', l]]) });
      expect(keys(c.tables())).toEqual(keys(full));
    }
    c.apply({ kind: 'elasticIp', op: 'update', elasticIp: { ...eip, endpointId: 'b1' } });
    const s = createServiceSim(topology, c.tables(), c.groups(), all);
    // The address now serves the endpoint: inbound on the LB port reaches b1 untranslated to the VIP path.
    expect(s.send(GW_DPID, GW_PORT, inbound(4000)).map((d) => d.to)).toEqual(['endpoint:b1']);
  });
});
