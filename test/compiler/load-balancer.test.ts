/**
 * Load balancers through the shared executor with the compiled select groups (Maglev in the
 * executor): the canary split over 10,000 connections, the disruption of removing one backend of
 * ten, the return path's SNAT back to the VIP, and the empty pool's packet-in under the LB's cookie.
 */
import { describe, expect, it } from 'vitest';
import { coldFunctionOfCookie, createIncrementalCompiler, loadBalancerCookie, type IncrementalCompiler } from '../../src/compiler/index.js';
import { TABLE } from '../../src/flow/index.js';
import { GATEWAY_MAC, type Endpoint, type LoadBalancer, type NetworkAcl, type SecurityGroup, type SecurityRule } from '../../src/model/index.js';
import { buildUdpFrame, isMalformed, parseFrame, verifyIpv4Checksum, verifyL4Checksum } from '../../src/net/index.js';
import { ip } from './vpc-fixture.js';
import { createServiceSim, fnEndpoint, gatewayTopology, serviceIntent } from './service-fixture.js';

const topology = gatewayTopology();
const VIP = ip(10, 0, 0, 200);
const client = fnEndpoint('client', 101, 12, 90);
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
  ...over,
});

/** n backends over leaves 102..104, ports 7..10. */
function backends(n: number, revision: (i: number) => string): Endpoint[] {
  return Array.from({ length: n }, (_, i) => fnEndpoint(`b${String(i).padStart(2, '0')}`, 102 + (i % 3), 7 + Math.floor(i / 3), i + 1, { function: 'resize', revision: revision(i) }));
}

function compile(eps: Endpoint[], l: LoadBalancer): IncrementalCompiler {
  return createIncrementalCompiler(topology, { ...serviceIntent([client, ...eps]), loadBalancers: new Map([[l.id, l]]) });
}

function conn(i: number): Uint8Array {
  return buildUdpFrame({ srcMac: client.mac, dstMac: GATEWAY_MAC, srcIp: client.ip, dstIp: VIP, srcPort: 1024 + (i % 60000), dstPort: 80, ttl: 64, payload: Buffer.from(`c${i}`) });
}

/** Where each of `n` connections from the client lands (endpoint id per connection). */
function spread(c: IncrementalCompiler, eps: Endpoint[], n: number, vary = (i: number) => i): string[] {
  const s = createServiceSim(topology, c.tables(), c.groups(), [client, ...eps]);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    // Vary the source port and, past 60,000, the destination: every connection a distinct 5-tuple.
    const d = s.send(client.dpid, client.port, conn(vary(i)));
    expect(d.length).toBe(1);
    out.push(d[0].to);
  }
  return out;
}

describe('load balancer', () => {
  it('delivers to a backend: VIP and port rewritten, gateway MAC as source, checksums right', () => {
    const eps = backends(3, () => 'v1');
    const c = compile(eps, lb());
    const s = createServiceSim(topology, c.tables(), c.groups(), [client, ...eps]);
    const d = s.send(client.dpid, client.port, conn(1));
    expect(d).toHaveLength(1);
    const p = parseFrame(d[0].frame);
    if (isMalformed(p)) throw new Error('malformed');
    const to = eps.find((e) => `endpoint:${e.id}` === d[0].to)!;
    expect(p.ip?.dst).toBe(to.ip);
    expect(p.udp?.dstPort).toBe(8080);
    expect(p.eth.src).toBe(GATEWAY_MAC);
    expect(p.ip?.ttl).toBe(63);
    expect(verifyIpv4Checksum(d[0].frame, 14) && verifyL4Checksum(d[0].frame, 14)).toBe(true);
  });

  it('a backend on the client\'s own switch gets only what its security groups and ACL allow', () => {
    const local = { ...fnEndpoint('local', client.dpid, 13, 50, { function: 'resize', revision: 'v1' }), securityGroups: ['sg-9'] };
    const sim = (rules: SecurityRule[], acls: NetworkAcl[] = []) => {
      const group: SecurityGroup = { id: 'sg-9', vpcId: 'red', name: 'api', rules, isDefault: false };
      const c = createIncrementalCompiler(topology, { ...serviceIntent([client, local]), securityGroups: new Map([[group.id, group]]), networkAcls: new Map(acls.map((a) => [a.id, a])), loadBalancers: new Map([['lb-1', lb()]]) });
      return createServiceSim(topology, c.tables(), c.groups(), [client, local]);
    };
    // Rules without conjunctive clauses: this simulator's classifier does not resolve conjunctions
    // (test/compiler/security-groups.test.ts and the end-to-end test cover ports and groups).
    const anywhere = { network: 0, prefixLength: 0 };
    const allowAll: SecurityRule = { direction: 'ingress', protocol: 'any', cidr: anywhere };
    expect(sim([allowAll]).send(client.dpid, client.port, conn(1)).map((d) => d.to)).toEqual(['endpoint:local']);
    // The group lets nothing in: the VIP's traffic is dropped at the backend.
    expect(sim([{ direction: 'egress', protocol: 'any', cidr: anywhere }]).send(client.dpid, client.port, conn(1))).toEqual([]);
    // The subnet's ACL denies the client: dropped although the group allows it.
    const acl: NetworkAcl = {
      id: 'acl-1',
      subnetId: 'red-a',
      rules: [
        { number: 10, action: 'deny', direction: 'ingress', protocol: 'udp', cidr: { network: client.ip, prefixLength: 32 } },
        { number: 20, action: 'allow', direction: 'ingress', protocol: 'any', cidr: anywhere },
        { number: 10, action: 'allow', direction: 'egress', protocol: 'any', cidr: anywhere },
      ],
    };
    expect(sim([allowAll], [acl]).send(client.dpid, client.port, conn(1))).toEqual([]);
  });

  it('the reply reaches the client from the VIP and the service port', () => {
    const eps = backends(1, () => 'v1');
    const c = compile(eps, lb());
    const s = createServiceSim(topology, c.tables(), c.groups(), [client, ...eps]);
    const b = eps[0];
    const reply = buildUdpFrame({ srcMac: b.mac, dstMac: GATEWAY_MAC, srcIp: b.ip, dstIp: client.ip, srcPort: 8080, dstPort: 5555, payload: Buffer.from('r') });
    const d = s.send(b.dpid, b.port, reply);
    expect(d.map((x) => x.to)).toEqual(['endpoint:client']);
    const p = parseFrame(d[0].frame);
    if (isMalformed(p)) throw new Error('malformed');
    expect(p.ip?.src).toBe(VIP);
    expect(p.udp?.srcPort).toBe(80);
    expect(verifyIpv4Checksum(d[0].frame, 14) && verifyL4Checksum(d[0].frame, 14)).toBe(true);
  });

  it('splits a 90/10 canary within 2 points over 10,000 connections; reweighting at runtime follows', () => {
    const eps = backends(6, (i) => (i < 4 ? 'v1' : 'v2'));
    const c = compile(eps, lb({ weights: { v1: 90, v2: 10 } }));
    const revOf = new Map(eps.map((e) => [`endpoint:${e.id}`, e.labels.revision]));
    const share = (to: string[]) => to.filter((t) => revOf.get(t) === 'v2').length / to.length;
    const vary = (i: number) => i * 7 + 3;
    expect(Math.abs(share(spread(c, eps, 10_000, vary)) - 0.1)).toBeLessThan(0.02);
    c.apply({ kind: 'loadBalancer', op: 'update', loadBalancer: lb({ weights: { v1: 50, v2: 50 } }) });
    expect(Math.abs(share(spread(c, eps, 10_000, vary)) - 0.5)).toBeLessThan(0.02);
  });

  it('removing one backend of ten moves about a tenth of the connections (its own)', () => {
    const eps = backends(10, () => 'v1');
    const c = compile(eps, lb());
    const before = spread(c, eps, 10_000);
    c.apply({ kind: 'endpoint', op: 'delete', id: eps[4].id });
    const after = spread(c, eps, 10_000);
    const moved = before.filter((t, i) => t !== after[i]).length / before.length;
    const ownShare = before.filter((t) => t === `endpoint:${eps[4].id}`).length / before.length;
    expect(moved).toBeGreaterThan(0.07);
    expect(moved).toBeLessThan(0.15);
    expect(moved - ownShare).toBeLessThan(0.03);
  });

  it('an unhealthy backend leaves the pool and comes back', () => {
    const eps = backends(3, () => 'v1');
    const c = compile(eps, lb());
    c.apply({ kind: 'loadBalancer', op: 'update', loadBalancer: lb({ unhealthy: [eps[0].id] }) });
    expect(spread(c, eps, 2000)).not.toContain(`endpoint:${eps[0].id}`);
    c.apply({ kind: 'loadBalancer', op: 'update', loadBalancer: lb() });
    expect(spread(c, eps, 2000)).toContain(`endpoint:${eps[0].id}`);
  });

  it('an empty pool sends VIP packets to the controller under the LB cookie, which names the function', () => {
    const c = compile([], lb());
    const flow = c.table(client.dpid).find((f) => f.table === TABLE.NAT_LB && f.cookie === loadBalancerCookie('lb-1'));
    expect(flow?.actions[0]).toMatchObject({ type: 'output' });
    const s = createServiceSim(topology, c.tables(), c.groups(), [client]);
    expect(s.send(client.dpid, client.port, conn(1))).toEqual([]);
    expect(s.packetIns).toBe(1);
    expect(coldFunctionOfCookie(loadBalancerCookie('lb-1'), (k) => c.describeCookie(k), c.intent())).toBe('red/resize');
    // The first instance registers: the group replaces the controller flow.
    const b = backends(1, () => 'v1')[0];
    const delta = c.apply({ kind: 'endpoint', op: 'add', endpoint: b });
    expect(delta.get(client.dpid)?.groupMods?.map((m) => m.command)).toEqual(['add']);
    expect(spread(c, [b], 5)).toEqual(Array(5).fill(`endpoint:${b.id}`));
  });
});
