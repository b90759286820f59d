import { describe, expect, it } from 'vitest';
import {
  compileFabric,
  compileOwnerFlows,
  cookieKind,
  createFabricContext,
  FABRIC_COOKIE,
  fabricOwners,
  hostCookie,
} from '../../src/compiler/index.js';
import { checkFlow, flowKey, K, TABLE, TABLE_COUNT, type FlowEntry } from '../../src/flow/index.js';
import {
  buildTopologyGraph,
  removeHost,
  setLinkUp,
  shortestPath,
  type HostSpec,
  type Topology,
} from '../../src/model/index.js';
import { loadShipped, SHIPPED } from '../model/helpers.js';
import { arpRequestKey, BROADCAST, ipv4Key, readField, walkFabric } from './walk-tables.js';

function setup(t: Topology) {
  const graph = buildTopologyGraph(t);
  return { t, graph, tables: compileFabric(t, graph) };
}

const pairs = (hosts: readonly HostSpec[]) => hosts.flatMap((a) => hosts.filter((b) => b !== a).map((b) => [a, b] as const));

describe.each(['linear-8.yaml', 'leaf-spine.yaml', 'fat-tree-k4.yaml', 'demo.yaml'])('%s: unicast between every pair of hosts', (file) => {
  const { t, graph, tables } = setup(loadShipped(file));

  it('arrives at the destination host only, unchanged, along a shortest path', () => {
    for (const [a, b] of pairs(t.hosts)) {
      const key = ipv4Key(a, b.mac, b.ip);
      const walk = walkFabric(graph, tables, a.attach.switch, key);
      expect(walk.dropped, `${a.name} -> ${b.name}`).toEqual([]);
      expect(walk.delivered.map((d) => d.host.name), `${a.name} -> ${b.name}`).toEqual([b.name]);
      // Every header field as sent; only the bookkeeping of where it last came in differs.
      const got = walk.delivered[0].key.slice();
      got[K.IN_PORT] = key[K.IN_PORT];
      expect(got).toEqual(key);
      expect(walk.path).toEqual(shortestPath(graph, a.attach.switch, b.attach.switch)?.switches);
    }
  });
});

describe.each(['linear-8.yaml', 'leaf-spine.yaml'])('%s: ARP is answered in the first switch', (file) => {
  const { t, graph, tables } = setup(loadShipped(file));

  it('a request for any other host comes back out of the asking port as that host\'s reply', () => {
    for (const [a, b] of pairs(t.hosts)) {
      const walk = walkFabric(graph, tables, a.attach.switch, arpRequestKey(a, b.ip));
      expect(walk.path, `${a.name} asks for ${b.name}`).toEqual([a.attach.switch]);
      expect(walk.delivered.map((d) => d.host.name)).toEqual([a.name]);
      const reply = walk.delivered[0].key;
      expect({
        ethDst: readField(reply, 'ethDst'),
        ethSrc: readField(reply, 'ethSrc'),
        arpOp: readField(reply, 'arpOp'),
        arpSha: readField(reply, 'arpSha'),
        arpSpa: readField(reply, 'arpSpa'),
        arpTha: readField(reply, 'arpTha'),
        arpTpa: readField(reply, 'arpTpa'),
      }).toEqual({ ethDst: a.mac, ethSrc: b.mac, arpOp: 2, arpSha: b.mac, arpSpa: b.ip, arpTha: a.mac, arpTpa: a.ip });
    }
  });

  it("a request for an unknown address is dropped by the ARP table's miss flow", () => {
    const a = t.hosts[0];
    const walk = walkFabric(graph, tables, a.attach.switch, arpRequestKey(a, 0x0a0000fe));
    expect(walk.delivered).toEqual([]);
    expect(walk.dropped.map((d) => [d.switch, d.table, d.flow?.cookie])).toEqual([[a.attach.switch, TABLE.ARP, FABRIC_COOKIE]]);
  });

  it('a host asking for its own address gets no answer', () => {
    const a = t.hosts[2];
    const walk = walkFabric(graph, tables, a.attach.switch, arpRequestKey(a, a.ip));
    expect(walk.delivered).toEqual([]);
    expect(walk.dropped.map((d) => [d.table, d.flow?.cookie])).toEqual([[TABLE.ARP, hostCookie(a.name)]]);
  });

  it('an ARP reply from a host is forwarded to its destination like unicast', () => {
    const [a, b] = [t.hosts[0], t.hosts[t.hosts.length - 1]];
    const reply = arpRequestKey(a, b.ip);
    reply[K.IP_PROTO] = 2; // arpOp = reply
    reply[K.ETH_DST_HI] = Math.floor(b.mac / 2 ** 32);
    reply[K.ETH_DST_LO] = b.mac >>> 0;
    expect(walkFabric(graph, tables, a.attach.switch, reply).delivered.map((d) => d.host.name)).toEqual([b.name]);
  });
});

describe('port security and drops', () => {
  const { t, graph, tables } = setup(loadShipped('leaf-spine.yaml'));
  const [a, b, , , e] = t.hosts; // a, b on leaf1; e on leaf2
  const droppedAtIngress = (key: Uint32Array, by: HostSpec = a) => {
    const walk = walkFabric(graph, tables, by.attach.switch, key);
    expect(walk.delivered).toEqual([]);
    return walk.dropped.map((d) => [d.switch, d.table, d.flow?.cookie]);
  };
  const portSecurity = [['leaf1', TABLE.INGRESS, hostCookie(a.name)]];

  it('drops a spoofed source MAC, source IP, ARP sender IP or ARP sender MAC at ingress, counted on the host', () => {
    expect(droppedAtIngress(ipv4Key(a, e.mac, e.ip, { ethSrc: b.mac }))).toEqual(portSecurity);
    expect(droppedAtIngress(ipv4Key(a, e.mac, e.ip, { ipv4Src: b.ip }))).toEqual(portSecurity);
    expect(droppedAtIngress(ipv4Key(a, e.mac, e.ip, { ipv4Src: 0x0a0000fe }))).toEqual(portSecurity);
    expect(droppedAtIngress(arpRequestKey(a, e.ip, { arpSpa: b.ip }))).toEqual(portSecurity);
    expect(droppedAtIngress(arpRequestKey(a, e.ip, { arpSha: b.mac }))).toEqual(portSecurity);
    expect(droppedAtIngress(arpRequestKey(a, e.ip, { ethSrc: b.mac }))).toEqual(portSecurity);
  });

  it('drops other ethertypes from a host at ingress', () => {
    const ipv6 = ipv4Key(a, e.mac, e.ip);
    ipv6[K.ETH_TYPE] = 0x86dd;
    expect(droppedAtIngress(ipv6)).toEqual(portSecurity);
  });

  it('drops an unknown destination MAC by the explicit FORWARD drop (counted under the fabric cookie)', () => {
    expect(droppedAtIngress(ipv4Key(a, 0x02000000ffff, e.ip))).toEqual([['leaf1', TABLE.FORWARD, FABRIC_COOKIE]]);
  });

  it('drops non-ARP broadcast and multicast in FORWARD by the fabric flow (no flooding)', () => {
    expect(droppedAtIngress(ipv4Key(a, BROADCAST, 0xffffffff))).toEqual([['leaf1', TABLE.FORWARD, FABRIC_COOKIE]]);
    expect(droppedAtIngress(ipv4Key(a, 0x01005e000001, 0xe0000001))).toEqual([['leaf1', TABLE.FORWARD, FABRIC_COOKIE]]);
  });

  it('drops frames on a port with nothing declared on it by the INGRESS miss flow', () => {
    const linear = setup(loadShipped('linear-8.yaml'));
    const h1 = linear.t.hosts[0];
    const key = ipv4Key(h1, linear.t.hosts[1].mac, linear.t.hosts[1].ip);
    key[K.IN_PORT] = 2; // s1:2 faces nothing (s1 is the end of the line)
    const walk = walkFabric(linear.graph, linear.tables, 's1', key);
    expect(walk.dropped.map((d) => [d.switch, d.table, d.flow?.cookie])).toEqual([['s1', TABLE.INGRESS, FABRIC_COOKIE]]);
  });
});

describe('links going down', () => {
  it('leaf-spine keeps every pair connected through the other spine', () => {
    const t0 = loadShipped('leaf-spine.yaml');
    const t = setLinkUp(setLinkUp(t0, { switch: 'leaf1', port: 5 }, false), { switch: 'leaf3', port: 6 }, false);
    const { graph, tables } = setup(t);
    for (const [a, b] of pairs(t.hosts)) {
      expect(walkFabric(graph, tables, a.attach.switch, ipv4Key(a, b.mac, b.ip)).delivered.map((d) => d.host.name)).toEqual([b.name]);
    }
    // No flow admits or sends frames over the down links.
    const leaf1 = tables.get(101) ?? [];
    expect(leaf1.some((f) => f.match.inPort === 5 || f.actions.some((x) => x.type === 'output' && x.port === 5))).toBe(false);
  });

  it('a cut line drops traffic across the cut and keeps the rest', () => {
    const t = setLinkUp(loadShipped('linear-8.yaml'), 's4:3~s5:2', false);
    const { graph, tables } = setup(t);
    const [h1, h2, , , , , , h8] = t.hosts;
    expect(walkFabric(graph, tables, 's1', ipv4Key(h1, h2.mac, h2.ip)).delivered.map((d) => d.host.name)).toEqual(['h2']);
    const cut = walkFabric(graph, tables, 's1', ipv4Key(h1, h8.mac, h8.ip));
    expect(cut.delivered).toEqual([]);
    // No switch on h1's side of the cut has a route to h8: dropped where it enters, not carried to the cut.
    expect(cut.dropped.map((d) => [d.switch, d.table, d.flow?.cookie])).toEqual([['s1', TABLE.FORWARD, FABRIC_COOKIE]]);
  });
});

describe('the compiled tables themselves', () => {
  it.each(SHIPPED)('%s: every flow is valid and no two flows share an identity', (file) => {
    const t = loadShipped(file);
    const tables = compileFabric(t);
    expect([...tables.keys()].sort((x, y) => x - y)).toEqual(t.switches.map((s) => s.dpid).sort((x, y) => x - y));
    for (const flows of tables.values()) {
      for (const f of flows) expect(checkFlow(f, TABLE_COUNT)).toEqual([]);
      expect(new Set(flows.map(flowKey)).size).toBe(flows.length);
    }
  });

  it('is deterministic and independent of declaration order', () => {
    const t = loadShipped('fat-tree-k4.yaml');
    const shuffled: Topology = { ...t, switches: [...t.switches].reverse(), links: [...t.links].reverse(), hosts: [...t.hosts].reverse() };
    expect(compileFabric(shuffled)).toEqual(compileFabric(t));
    expect(compileFabric(t)).toEqual(compileFabric(t));
  });

  it('every flow names its owner; the owners\' flows add up to the whole', () => {
    const t = loadShipped('demo.yaml');
    const whole = compileFabric(t);
    const ctx = createFabricContext(t);
    const byOwner = new Map<number, FlowEntry[]>();
    for (const owner of fabricOwners(t)) {
      for (const [dpid, flows] of compileOwnerFlows(ctx, owner)) byOwner.set(dpid, [...(byOwner.get(dpid) ?? []), ...flows]);
    }
    for (const [dpid, flows] of whole) {
      expect(flows.every((f) => cookieKind(f.cookie) !== undefined)).toBe(true);
      expect(new Set((byOwner.get(dpid) ?? []).map(flowKey))).toEqual(new Set(flows.map(flowKey)));
    }
  });

  it('removing a host changes exactly the flows carrying its cookie', () => {
    const t = loadShipped('leaf-spine.yaml');
    const gone = t.hosts[5];
    const before = compileFabric(t);
    const after = compileFabric(removeHost(t, gone.name));
    for (const [dpid, flows] of before) {
      expect(after.get(dpid)).toEqual(flows.filter((f) => f.cookie !== hostCookie(gone.name)));
    }
  });
});
