import { describe, expect, it } from 'vitest';
import { createIncrementalCompiler, traceIntent } from '../../src/compiler/index.js';
import { GATEWAY_MAC, type Endpoint } from '../../src/model/index.js';
import { twoVpcIntent, vpcTopology } from './vpc-fixture.js';

const t = vpcTopology();
const intent = twoVpcIntent();
const compiler = createIncrementalCompiler(t, intent);
const ep = (id: string) => intent.endpoints.get(id) as Endpoint;
const opts = { describeCookie: (c: number) => compiler.describeCookie(c), intent };

describe('traceIntent', () => {
  it('a routed packet: tables, owners, rewrites per switch, and where it leaves', () => {
    const [r1, r4] = [ep('r1'), ep('r4')]; // leaf1 -> leaf3, red-a -> red-b
    const trace = traceIntent(compiler.tables(), t, {
      dpid: r1.dpid,
      inPort: r1.port,
      packet: { kind: 'udp', ethSrc: r1.mac, ethDst: GATEWAY_MAC, ipv4Src: r1.ip, ipv4Dst: r4.ip, ttl: 64 },
    }, opts);
    expect(trace.hops.map((h) => h.switch)).toEqual(['leaf1', 'spine1', 'leaf3']);
    const first = trace.hops[0];
    expect(first.tables.map((s) => [s.table, s.flow?.owner?.kind ?? s.miss])).toEqual([
      ['INGRESS', 'endpoint'],
      ['ACL_EGRESS', 'fabric'],
      ['ACCESS', 'fabric'],
      ['SG_EGRESS', 'fabric'],
      ['SG_EGRESS_COMMIT', 'fabric'],
      ['NAT_LB', 'fabric'],
      ['ROUTE', 'endpoint'],
      ['FORWARD', 'endpoint'],
    ]);
    expect(first.tables[0].flow?.owner).toEqual({ kind: 'endpoint', name: 'r1' });
    expect(first.tables[6].flow?.owner).toEqual({ kind: 'endpoint', name: 'r4' });
    expect(first.rewrites.map((r) => r.field)).toEqual(['ethSrc', 'ethDst', 'ipTtl', 'mpls', 'mplsLabel', 'mpls', 'mplsLabel']);
    // red's VNI 1: block 0 on top (label 16), VNI 1 at the bottom (label 17).
    expect(first.outputs[0]).toMatchObject({ port: 5, to: { kind: 'switch', switch: 'spine1', port: 1 }, headers: { ethType: 0x8847, mplsLabel: 16, mplsBos: 0, mplsDepth: 2, vni: 1 } });
    // The spine: the block's flow pops the top label, r4's TENANT flow pushes it back towards leaf3,
    // where r4's own pops the last one and goes through the destination-side checks (misses: no ACL,
    // no security group) to EGRESS, which outputs.
    expect(trace.hops[1].tables.map((s) => s.flow?.owner)).toEqual([{ kind: 'tenantBlock', name: '0' }, { kind: 'endpoint', name: 'r4' }]);
    expect(trace.hops[1].outputs[0].headers).toMatchObject({ mplsLabel: 16, mplsDepth: 2, vni: 1 });
    expect(trace.hops[2].tables.map((s) => [s.table, s.flow?.owner?.name])).toEqual([
      ['INGRESS', '0'],
      ['TENANT', 'r4'],
      ['ACL_INGRESS', ''],
      ['SG_INGRESS', ''],
      ['SG_INGRESS_COMMIT', ''],
      ['EGRESS', 'r4'],
    ]);
    expect(trace.exits).toHaveLength(1);
    expect(trace.exits[0]).toMatchObject({
      switch: 'leaf3',
      port: r4.port,
      to: { kind: 'endpoint', endpoint: 'r4' },
      headers: { ethSrc: GATEWAY_MAC, ethDst: r4.mac, vlanVid: 0, ethType: 0x0800, ipTtl: 63, ipv4Dst: r4.ip },
    });
    expect(trace.drops).toEqual([]);
  });

  it('a VNI past a block: the top label names the block, the bottom one the VNI in it', () => {
    const big = twoVpcIntent({ red: 0xabcdef, blue: 2 });
    const c = createIncrementalCompiler(t, big);
    const [r1, r2] = [ep('r1'), ep('r2')];
    const trace = traceIntent(c.tables(), t, {
      dpid: r1.dpid,
      inPort: r1.port,
      packet: { kind: 'udp', ethSrc: r1.mac, ethDst: r2.mac, ipv4Src: r1.ip, ipv4Dst: r2.ip },
    }, { describeCookie: (x: number) => c.describeCookie(x), intent: big });
    expect(trace.hops[0].outputs[0].headers).toMatchObject({ mplsLabel: 16 + 0xab, mplsDepth: 2, vni: 0xabcdef });
    expect(trace.hops[1].tables[0].flow?.owner).toEqual({ kind: 'tenantBlock', name: String(0xab) });
    expect(trace.exits.map((x) => x.to)).toEqual([{ kind: 'endpoint', endpoint: 'r2' }]);
  });

  it('a spoofed packet is dropped at ingress by the endpoint\'s own flow', () => {
    const [r1, r2] = [ep('r1'), ep('r2')];
    const trace = traceIntent(compiler.tables(), t, {
      dpid: r1.dpid,
      inPort: r1.port,
      packet: { kind: 'tcp', ethSrc: r2.mac, ethDst: r2.mac, ipv4Src: r1.ip, ipv4Dst: r2.ip },
    }, opts);
    expect(trace.exits).toEqual([]);
    expect(trace.drops).toEqual([{ dpid: 101, switch: 'leaf1', reason: 'noOutput', table: 'INGRESS', owner: { kind: 'endpoint', name: 'r1' } }]);
  });

  it('an ARP request is answered in the first switch', () => {
    const [r1, r3] = [ep('r1'), ep('r3')];
    const trace = traceIntent(compiler.tables(), t, {
      dpid: r1.dpid,
      inPort: r1.port,
      packet: { kind: 'arp', op: 'request', ethSrc: r1.mac, arpSha: r1.mac, arpSpa: r1.ip, arpTpa: r3.ip },
    }, opts);
    expect(trace.hops).toHaveLength(1);
    expect(trace.exits[0]).toMatchObject({ port: r1.port, to: { kind: 'endpoint', endpoint: 'r1' }, headers: { arpOp: 2, arpSha: r3.mac, arpSpa: r3.ip, ethDst: r1.mac } });
    expect(trace.hops[0].tables[1].flow?.owner).toEqual({ kind: 'endpoint', name: 'r3' });
  });

  it('malformed bytes are reported as a drop, not thrown', () => {
    const trace = traceIntent(compiler.tables(), t, { dpid: 101, inPort: 7, packet: new Uint8Array(5) }, opts);
    expect(trace.drops.map((d) => d.reason)).toEqual(['malformed']);
  });
});

describe('traceIntent through ct and a conjunction', () => {
  it('follows ct recirculation with the assumed state and lists it per hop', async () => {
    const { CT_STATE, TABLE, conjunction, ct, nextTable } = await import('../../src/flow/index.js');
    const [r1, r4] = [ep('r1'), ep('r4')];
    const tables = new Map(compiler.tables());
    const IP = { ethType: 0x0800 };
    const sg = TABLE.SG_EGRESS;
    const extra = [
      { table: sg, priority: 500, cookie: 0, match: { ...IP, ipv4Src: r1.ip }, actions: [conjunction(5, 1, 2)] },
      { table: sg, priority: 500, cookie: 0, match: { ...IP, ipv4Dst: r4.ip }, actions: [conjunction(5, 2, 2)] },
      { table: sg, priority: 500, cookie: 0, match: { ...IP, conjId: 5 }, actions: [ct(3, { table: nextTable(sg) })] },
    ];
    tables.set(r1.dpid, [...(tables.get(r1.dpid) ?? []), ...extra]);
    const packet = { kind: 'udp' as const, ethSrc: r1.mac, ethDst: GATEWAY_MAC, ipv4Src: r1.ip, ipv4Dst: r4.ip, ttl: 64 };
    const fresh = traceIntent(tables, t, { dpid: r1.dpid, inPort: r1.port, packet }, opts);
    expect(fresh.hops[0].conntrack).toEqual([{ zone: 3, state: '+new+trk', mark: 0 }]);
    expect(fresh.exits.map((e) => e.to)).toEqual([{ kind: 'endpoint', endpoint: 'r4' }]);
    const est = traceIntent(tables, t, { dpid: r1.dpid, inPort: r1.port, packet }, { ...opts, ctState: CT_STATE.TRK | CT_STATE.EST });
    expect(est.hops[0].conntrack).toEqual([{ zone: 3, state: '+est+trk', mark: 0 }]);
    // Another destination: the conjunction is incomplete, no ct.
    const r2 = ep('r2');
    const other = traceIntent(tables, t, { dpid: r1.dpid, inPort: r1.port, packet: { ...packet, ipv4Dst: r2.ip } }, opts);
    expect(other.hops[0].conntrack).toEqual([]);
  });
});
