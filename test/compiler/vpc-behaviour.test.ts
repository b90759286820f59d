/**
 * VPC behaviour through the reference interpreter: real frames in, "this packet from here leaves there,
 * rewritten so" out. Two VPCs with the same address plan (and one shared MAC) on leaf-spine.
 */
import { describe, expect, it } from 'vitest';
import { endpointCookie, fullCompile } from '../../src/compiler/index.js';
import { checkFlow, flowKey, TABLE, TABLE_COUNT } from '../../src/flow/index.js';
import { GATEWAY_MAC, type Endpoint } from '../../src/model/index.js';
import { buildArpReply, buildArpRequest } from '../../src/net/packet/arp.js';
import { buildUdpFrame } from '../../src/net/packet/udp.js';
import { createFrameSim, twoVpcIntent, vpcLabels, vpcTopology, withLabels } from './vpc-fixture.js';

const t = vpcTopology();
const intent = twoVpcIntent();
const tables = fullCompile(t, intent);
const sim = createFrameSim(t, tables, intent);
const eps = [...intent.endpoints.values()];
const subnetOf = (e: Endpoint) => intent.subnets.get(e.subnetId);
const udp = (from: Endpoint, dstMac: number, dstIp: number, ttl = 64) =>
  buildUdpFrame({ srcMac: from.mac, dstMac, srcIp: from.ip, dstIp, ttl, srcPort: 40000, dstPort: 7, payload: Buffer.from('hello') });
const ep = (id: string) => intent.endpoints.get(id) as Endpoint;

describe('inside one VPC', () => {
  const sameVpc = eps.flatMap((a) => eps.filter((b) => b !== a && b.vpcId === a.vpcId).map((b) => [a, b] as const));

  it('same subnet: a frame reaches exactly its destination, byte for byte (the VPC\'s labels are gone again)', () => {
    for (const [a, b] of sameVpc.filter(([a, b]) => a.subnetId === b.subnetId)) {
      const frame = udp(a, b.mac, b.ip);
      expect(sim.fromEndpoint(a, frame).received, `${a.id} -> ${b.id}`).toEqual([{ to: `endpoint:${b.id}`, frame: Uint8Array.from(frame) }]);
    }
  });

  it('across subnets through the gateway: MACs rewritten, TTL decremented once, checksums valid', () => {
    for (const [a, b] of sameVpc.filter(([a, b]) => a.subnetId !== b.subnetId)) {
      const sent = udp(a, GATEWAY_MAC, b.ip, 64);
      const expected = buildUdpFrame({ srcMac: GATEWAY_MAC, dstMac: b.mac, srcIp: a.ip, dstIp: b.ip, ttl: 63, srcPort: 40000, dstPort: 7, payload: Buffer.from('hello') });
      expect(sim.fromEndpoint(a, sent).received, `${a.id} -> gw -> ${b.id}`).toEqual([{ to: `endpoint:${b.id}`, frame: Uint8Array.from(expected) }]);
    }
  });

  it('a routed packet with TTL 1 dies at the gateway', () => {
    expect(sim.fromEndpoint(ep('r1'), udp(ep('r1'), GATEWAY_MAC, ep('r4').ip, 1)).received).toEqual([]);
  });

  it('a routed packet to an address nobody has is dropped in the first switch', () => {
    const r = sim.fromEndpoint(ep('r1'), udp(ep('r1'), GATEWAY_MAC, 0x0a000163));
    expect(r).toEqual({ received: [], path: ['leaf1'] });
  });

  it('ARP for an endpoint of the subnet is answered in the first switch with the exact reply', () => {
    for (const [a, b] of sameVpc.filter(([a, b]) => a.subnetId === b.subnetId)) {
      const reply = buildArpReply({ srcMac: b.mac, srcIp: b.ip, dstMac: a.mac, dstIp: a.ip });
      expect(sim.fromEndpoint(a, buildArpRequest({ srcMac: a.mac, srcIp: a.ip, targetIp: b.ip }))).toEqual({
        received: [{ to: `endpoint:${a.id}`, frame: Uint8Array.from(reply) }],
        path: [t.switches.find((s) => s.dpid === a.dpid)?.name],
      });
    }
  });

  it('ARP for the gateway is answered with the gateway MAC; for another subnet\'s endpoint or itself, not at all', () => {
    for (const a of eps) {
      const gw = subnetOf(a)?.gateway ?? 0;
      const reply = buildArpReply({ srcMac: GATEWAY_MAC, srcIp: gw, dstMac: a.mac, dstIp: a.ip });
      expect(sim.fromEndpoint(a, buildArpRequest({ srcMac: a.mac, srcIp: a.ip, targetIp: gw })).received).toEqual([
        { to: `endpoint:${a.id}`, frame: Uint8Array.from(reply) },
      ]);
      expect(sim.fromEndpoint(a, buildArpRequest({ srcMac: a.mac, srcIp: a.ip, targetIp: a.ip })).received).toEqual([]);
    }
    const [r1, r4] = [ep('r1'), ep('r4')];
    expect(sim.fromEndpoint(r1, buildArpRequest({ srcMac: r1.mac, srcIp: r1.ip, targetIp: r4.ip })).received).toEqual([]);
  });
});

describe('between VPCs: nothing ever crosses', () => {
  const cross = eps.flatMap((a) => eps.filter((b) => b.vpcId !== a.vpcId).map((b) => [a, b] as const));
  const reachesOtherVpc = (a: Endpoint, frame: Uint8Array) =>
    sim.fromEndpoint(a, frame).received.filter((r) => !r.to.startsWith('endpoint:') || ep(r.to.slice(9)).vpcId !== a.vpcId);

  it('a frame addressed with the other VPC\'s MAC and IP, directly or through the gateway, reaches nobody outside the own VPC', () => {
    for (const [a, b] of cross) {
      expect(reachesOtherVpc(a, udp(a, b.mac, b.ip)), `${a.id} -> ${b.id}`).toEqual([]);
      expect(reachesOtherVpc(a, udp(a, GATEWAY_MAC, b.ip)), `${a.id} -> gw -> ${b.id}`).toEqual([]);
    }
  });

  it('overlapping addresses resolve inside the asker\'s VPC only', () => {
    // r1 and b1 share MAC and IP; r2 (red) asks for 10.0.0.10 and must hear r1's answer, b2 (blue) b1's.
    const [r2, b2] = [ep('r2'), ep('b2')];
    const ask = (a: Endpoint) => sim.fromEndpoint(a, buildArpRequest({ srcMac: a.mac, srcIp: a.ip, targetIp: 0x0a00000a })).received;
    expect(ask(r2)).toEqual([{ to: 'endpoint:r2', frame: Uint8Array.from(buildArpReply({ srcMac: ep('r1').mac, srcIp: ep('r1').ip, dstMac: r2.mac, dstIp: r2.ip })) }]);
    expect(ask(b2)).toEqual([{ to: 'endpoint:b2', frame: Uint8Array.from(buildArpReply({ srcMac: ep('b1').mac, srcIp: ep('b1').ip, dstMac: b2.mac, dstIp: b2.ip })) }]);
    // The shared MAC: each VPC delivers to its own.
    expect(sim.fromEndpoint(r2, udp(r2, 0x0200000a0001, 0x0a00000a)).received.map((r) => r.to)).toEqual(['endpoint:r1']);
    expect(sim.fromEndpoint(b2, udp(b2, 0x0200000a0001, 0x0a00000a)).received.map((r) => r.to)).toEqual(['endpoint:b1']);
  });

  it('a frame an endpoint sends with the other VPC\'s labels (or a VLAN tag) is dropped at its own port (counted on it)', () => {
    const [r1, b3] = [ep('r1'), ep('b3')];
    const plain = buildUdpFrame({ srcMac: r1.mac, dstMac: b3.mac, srcIp: r1.ip, dstIp: b3.ip, srcPort: 1, dstPort: 2 });
    expect(sim.fromEndpoint(r1, withLabels(plain, vpcLabels(2)))).toEqual({ received: [], path: ['leaf1'] });
    const tagged = buildUdpFrame({ srcMac: r1.mac, dstMac: b3.mac, srcIp: r1.ip, dstIp: b3.ip, srcPort: 1, dstPort: 2, vlan: { vid: 2 } });
    expect(sim.fromEndpoint(r1, tagged)).toEqual({ received: [], path: ['leaf1'] });
  });

  it('the underlay and the VPCs do not meet', () => {
    const h1 = t.hosts[0]; // leaf1:1, 10.0.0.1
    const r2 = ep('r2');
    // A host addressing an endpoint, and an endpoint addressing a host (same 10.0.0.0/24 plan).
    const fromHost = buildUdpFrame({ srcMac: h1.mac, dstMac: r2.mac, srcIp: h1.ip, dstIp: r2.ip, srcPort: 1, dstPort: 2 });
    expect(sim.send(101, h1.attach.port, fromHost).received).toEqual([]);
    expect(sim.fromEndpoint(r2, udp(r2, h1.mac, h1.ip)).received).toEqual([]);
    // A host putting a VPC's labels (or a VLAN tag) on a frame does not enter the VPC.
    expect(sim.send(101, h1.attach.port, withLabels(fromHost, vpcLabels(1))).received).toEqual([]);
    const tagged = buildUdpFrame({ srcMac: h1.mac, dstMac: r2.mac, srcIp: h1.ip, dstIp: r2.ip, srcPort: 1, dstPort: 2, vlan: { vid: 1 } });
    expect(sim.send(101, h1.attach.port, tagged).received).toEqual([]);
    // ARP from an endpoint for a host's address (10.0.0.5, in r2's subnet) is not answered by the underlay responder.
    expect(sim.fromEndpoint(r2, buildArpRequest({ srcMac: r2.mac, srcIp: r2.ip, targetIp: t.hosts[4].ip })).received).toEqual([]);
  });

  it('a labelled frame for a VPC arriving on a link port is taken in; any other stack, or a VLAN tag, is dropped', () => {
    const r2 = ep('r2'); // leaf2:7
    const plain = buildUdpFrame({ srcMac: 0x020000000099, dstMac: r2.mac, srcIp: 1, dstIp: r2.ip, srcPort: 1, dstPort: 2 });
    const fromSpine = (labels: number[]) => sim.send(102, 5, withLabels(plain, labels)).received;
    expect(fromSpine(vpcLabels(1)).map((r) => r.to)).toEqual(['endpoint:r2']);
    // Delivered without labels, byte for byte what the first switch labelled.
    expect(fromSpine(vpcLabels(1))[0].frame).toEqual(Uint8Array.from(plain));
    expect(fromSpine(vpcLabels(3))).toEqual([]); // no such VPC
    expect(fromSpine(vpcLabels(2))).toEqual([]); // blue's: r2's MAC is red's
    expect(fromSpine(vpcLabels(1 + 65536))).toEqual([]); // red's bottom label in a block nobody uses
    expect(fromSpine(vpcLabels(1).slice(1))).toEqual([]); // the bottom label alone
    expect(fromSpine([vpcLabels(1)[0]])).toEqual([]); // the top label alone
    expect(fromSpine([...vpcLabels(1), 99])).toEqual([]); // one entry too many
    expect(sim.send(102, 5, plain).received).toEqual([]); // unlabelled: the underlay, where r2's MAC is nobody's
    const tagged = buildUdpFrame({ srcMac: 0x020000000099, dstMac: r2.mac, srcIp: 1, dstIp: r2.ip, srcPort: 1, dstPort: 2, vlan: { vid: 1 } });
    expect(sim.send(102, 5, tagged).received).toEqual([]);
  });
});

describe('VNIs past 4,094: two VPCs in different blocks, the same address plan', () => {
  const big = twoVpcIntent({ red: 70_000, blue: 0xffffff });
  const bigSim = createFrameSim(t, fullCompile(t, big), big);
  const bigEps = [...big.endpoints.values()];

  it('inside each VPC every frame arrives, across the spines, byte for byte; between them nothing crosses', () => {
    for (const a of bigEps) {
      for (const b of bigEps) {
        if (a === b) continue;
        const frame = udp(a, b.mac, b.ip);
        const { received, path } = bigSim.fromEndpoint(a, frame);
        if (a.vpcId !== b.vpcId) {
          expect(received.filter((r) => r.to !== `endpoint:${a.id}` && ep(r.to.slice(9))?.vpcId !== a.vpcId), `${a.id} -> ${b.id}`).toEqual([]);
        } else if (a.subnetId === b.subnetId) {
          expect(received, `${a.id} -> ${b.id}`).toEqual([{ to: `endpoint:${b.id}`, frame: Uint8Array.from(frame) }]);
          if (a.dpid !== b.dpid) expect(path.some((p) => p.startsWith('spine')), `${a.id} -> ${b.id}: ${path.join(' > ')}`).toBe(true);
        }
      }
    }
  });

  it('a frame with one VPC\'s bottom label under the other\'s block reaches nobody', () => {
    const r2 = ep('r2');
    const plain = buildUdpFrame({ srcMac: 0x020000000099, dstMac: r2.mac, srcIp: 1, dstIp: r2.ip, srcPort: 1, dstPort: 2 });
    expect(bigSim.send(102, 5, withLabels(plain, vpcLabels(70_000))).received.map((r) => r.to)).toEqual(['endpoint:r2']);
    expect(bigSim.send(102, 5, withLabels(plain, [vpcLabels(0xffffff)[0], vpcLabels(70_000)[1]])).received).toEqual([]);
  });
});

describe('port security', () => {
  it('a spoofed source MAC or IP from an endpoint is dropped at its port by its own flow', () => {
    const [r1, r2, r3] = [ep('r1'), ep('r2'), ep('r3')];
    const spoofs = [
      buildUdpFrame({ srcMac: r3.mac, dstMac: r2.mac, srcIp: r1.ip, dstIp: r2.ip, srcPort: 1, dstPort: 2 }),
      buildUdpFrame({ srcMac: r1.mac, dstMac: r2.mac, srcIp: r3.ip, dstIp: r2.ip, srcPort: 1, dstPort: 2 }),
      buildArpRequest({ srcMac: r1.mac, srcIp: r3.ip, targetIp: r2.ip }),
    ];
    const drop = (tables.get(101) ?? []).find((f) => f.table === TABLE.INGRESS && f.cookie === endpointCookie('r1') && f.actions.length === 0 && f.gotoTable === undefined);
    expect(drop?.match).toEqual({ inPort: 7 });
    for (const frame of spoofs) expect(sim.fromEndpoint(r1, frame)).toEqual({ received: [], path: ['leaf1'] });
  });
});

describe('the compiled tables', () => {
  it('every flow is valid and no two flows on a switch share an identity', () => {
    for (const flows of tables.values()) {
      for (const f of flows) expect(checkFlow(f, TABLE_COUNT)).toEqual([]);
      expect(new Set(flows.map(flowKey)).size).toBe(flows.length);
    }
  });
});
