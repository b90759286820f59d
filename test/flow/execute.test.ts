import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createExecResult,
  createPipelineExecutor,
  flowHash,
  selectBucket,
  trimResult,
  tracePipeline,
  type PipelineEnv,
  type TableMissPolicy,
} from '../../src/flow/execute.js';
import {
  FIELDS,
  FIELD_NAMES,
  K,
  PORT,
  compileMatch,
  createPacketKey,
  extractKey,
  fullMask,
  copyField,
  decTtl,
  group,
  keyMatches,
  output,
  MAX_MPLS_LABELS,
  popMpls,
  popVlan,
  pushMpls,
  pushVlan,
  setField,
  toController,
  type FieldName,
  type FlowEntry,
  type GroupEntry,
} from '../../src/flow/index.js';
import {
  buildArpRequest,
  buildIcmpEchoFrame,
  buildTcpFrame,
  buildUdpFrame,
  verifyIpv4Checksum,
  verifyL4Checksum,
} from '../../src/net/index.js';

const MAC_A = 0x020000000001;
const MAC_B = 0x020000000002;
const IP_A = 0x0a000001;
const IP_B = 0x0a000002;

function env(flows: FlowEntry[], opts: { groups?: GroupEntry[]; miss?: TableMissPolicy; ports?: number[]; live?: (p: number) => boolean } = {}): PipelineEnv {
  const compiled = flows
    .map((flow, id) => ({ flow, id, cm: compileMatch(flow.match) }))
    .sort((a, b) => b.flow.priority - a.flow.priority || a.id - b.id);
  const groups = new Map((opts.groups ?? []).map((g) => [g.groupId, g]));
  return {
    lookup: (table, key) => compiled.find((c) => c.flow.table === table && keyMatches(key, c.cm)),
    group: (id) => groups.get(id),
    ports: opts.ports ?? [1, 2, 3, 4],
    isPortLive: opts.live,
    tableMiss: opts.miss ?? 'drop',
    tableCount: 8,
  };
}
const flow = (table: number, priority: number, match: FlowEntry['match'], actions: FlowEntry['actions'], extra: Partial<FlowEntry> = {}): FlowEntry => ({
  table,
  priority,
  match,
  actions,
  cookie: 0,
  ...extra,
});
const udp = (o: Partial<Parameters<typeof buildUdpFrame>[0]> = {}) =>
  buildUdpFrame({ srcMac: MAC_A, dstMac: MAC_B, srcIp: IP_A, dstIp: IP_B, srcPort: 1000, dstPort: 53, payload: Buffer.from('hello'), ...o });
const tcp = () => buildTcpFrame({ srcMac: MAC_A, dstMac: MAC_B, srcIp: IP_A, dstIp: IP_B, srcPort: 40000, dstPort: 80, payload: Buffer.from('GET /') });

/** An untagged frame with label stack entries (label, ttl) in front of its payload, top first. */
function withLabels(inner: Uint8Array, labels: number[], ttl = 64): Buffer {
  const b = Buffer.alloc(inner.length + 4 * labels.length);
  Buffer.from(inner).copy(b, 0, 0, 12);
  b.writeUInt16BE(0x8847, 12);
  labels.forEach((label, i) => b.writeUInt32BE(((label << 12) | (i === labels.length - 1 ? 0x100 : 0) | ttl) >>> 0, 14 + 4 * i));
  Buffer.from(inner).copy(b, 14 + 4 * labels.length, 14);
  return b;
}

function run(e: PipelineEnv, frame: Uint8Array, inPort = 1) {
  return trimResult(createPipelineExecutor(e).run(frame, inPort, createExecResult()));
}
function checksumsValid(frame: Uint8Array): boolean {
  const ipOffset = (frame[12] === 0x81 ? 18 : 14);
  return verifyIpv4Checksum(frame, ipOffset) && verifyL4Checksum(frame, ipOffset);
}

describe('executePipeline', () => {
  it('follows a goto chain, writing metadata on the way, and outputs', () => {
    const e = env([
      flow(0, 10, { inPort: 1 }, [], { writeMetadata: { value: 7, mask: 0xff }, gotoTable: 2 }),
      flow(2, 10, { metadata: 7 }, [], { gotoTable: 5 }),
      flow(2, 20, { metadata: 8 }, [output(9)]),
      flow(5, 10, { ethDst: MAC_B }, [output(2)]),
    ]);
    const r = run(e, udp());
    expect(r.outPorts).toEqual([2]);
    expect(r.matched.map((h) => h.flow.table)).toEqual([0, 2, 5]);
    expect(r.drop).toBeUndefined();
  });

  it('drops or sends to the controller on a table miss, per the caller', () => {
    expect(run(env([]), udp()).drop).toBe('tableMiss');
    const r = run(env([flow(0, 1, {}, [], { gotoTable: 3, cookie: 5 })], { miss: 'controller' }), udp());
    expect(r.packetIns).toHaveLength(1);
    expect(r.packetIns[0]).toMatchObject({ table: 3, reason: 'noMatch' });
    const next = run(env([flow(1, 1, {}, [output(4)])], { miss: (t) => (t === 0 ? 'next' : 'drop') }), udp());
    expect(next.outPorts).toEqual([4]);
  });

  it('reports a flow without outputs as noOutput and a truncated frame as malformed', () => {
    expect(run(env([flow(0, 1, {}, [])]), udp()).drop).toBe('noOutput');
    expect(run(env([flow(0, 1, {}, [output(2)])]), udp().subarray(0, 30)).drop).toBe('malformed');
  });

  it('outputs IN_PORT, floods to every port but the ingress, and skips a plain output to the ingress', () => {
    const r = run(env([flow(0, 1, {}, [output(PORT.IN_PORT), output(PORT.FLOOD), output(3)])]), udp(), 3);
    expect(r.outPorts).toEqual([3, 1, 2, 4]);
    const all = run(env([flow(0, 1, {}, [output(PORT.ALL)])]), udp(), 2);
    expect(all.outPorts).toEqual([1, 3, 4]);
  });

  it('sends to the controller with the cookie of the flow', () => {
    const r = run(env([flow(0, 1, {}, [toController()], { cookie: 42 })]), udp());
    expect(r.packetIns).toMatchObject([{ reason: 'action', cookie: 42, table: 0 }]);
  });

  it('rewrites addresses and ports with valid checksums (UDP, TCP, ICMP), and later tables see the rewrite', () => {
    const rewrite = [
      setField('ethSrc', 0x02aabbccddee),
      setField('ethDst', 0x02ffeeddccbb),
      setField('ipv4Src', 0xc0a80001),
      setField('ipv4Dst', 0xc0a80002),
      setField('ipDscp', 46),
    ];
    const e = env([
      flow(0, 1, { ethType: 0x0800, ipProto: 17 }, [...rewrite, setField('udpSrc', 5000), setField('udpDst', 5353)], { gotoTable: 1 }),
      flow(0, 1, { ethType: 0x0800, ipProto: 6 }, [...rewrite, setField('tcpSrc', 1234), setField('tcpDst', 8080)], { gotoTable: 1 }),
      flow(0, 1, { ethType: 0x0800, ipProto: 1 }, [...rewrite, setField('icmpType', 0)], { gotoTable: 1 }),
      flow(1, 1, { ethType: 0x0800, ipv4Dst: 0xc0a80002 }, [output(2)]),
    ]);
    for (const frame of [udp(), tcp(), buildIcmpEchoFrame({ srcMac: MAC_A, dstMac: MAC_B, srcIp: IP_A, dstIp: IP_B, type: 'request', id: 1, seq: 2 })]) {
      const original = Buffer.from(frame);
      const r = run(e, frame);
      expect(r.outPorts).toEqual([2]);
      const out = r.outFrames[0];
      expect(checksumsValid(out)).toBe(true);
      expect(Buffer.from(out).readUIntBE(0, 6)).toBe(0x02ffeeddccbb);
      expect(Buffer.from(out).readUInt32BE(26)).toBe(0xc0a80001);
      expect(Buffer.from(frame).equals(original)).toBe(true); // not mutable: input untouched
    }
    const u = run(e, udp()).outFrames[0];
    const corrupt = Buffer.from(u);
    corrupt[30] ^= 1;
    expect(checksumsValid(corrupt)).toBe(false);
    expect(Buffer.from(u).readUInt16BE(34)).toBe(5000);
    expect(Buffer.from(u).readUInt16BE(36)).toBe(5353);
    expect(u[15] >>> 2).toBe(46);
  });

  it('keeps checksums valid under random rewrites (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffff }), fc.nat({ max: 0xffff }), fc.nat({ max: 63 }), fc.boolean(), (ip, sp, dp, dscp, noCsum) => {
        const e = env([flow(0, 1, {}, [setField('ipv4Dst', ip), setField('udpSrc', sp), setField('udpDst', dp), setField('ipDscp', dscp), decTtl(), output(2)])]);
        const frame = udp({ noChecksum: noCsum });
        const out = run(e, frame).outFrames[0];
        expect(checksumsValid(out)).toBe(true);
        if (noCsum) expect(Buffer.from(out).readUInt16BE(40)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('writes every settable field so that the frame and the packet key agree (property)', () => {
    const settable = FIELD_NAMES.filter((f) => FIELDS[f].settable);
    const frameFor = (f: FieldName): Uint8Array => {
      if (f.startsWith('arp')) return buildArpRequest({ srcMac: MAC_A, srcIp: IP_A, targetIp: IP_B });
      if (f.startsWith('tcp')) return tcp();
      if (f.startsWith('icmp')) return buildIcmpEchoFrame({ srcMac: MAC_A, dstMac: MAC_B, srcIp: IP_A, dstIp: IP_B, type: 'request', id: 1, seq: 2 });
      if (f.startsWith('mpls')) return withLabels(udp(), [4111, 116]);
      return udp(f.startsWith('vlan') ? { vlan: { vid: 9, pcp: 1 } } : {});
    };
    fc.assert(
      fc.property(fc.constantFrom(...settable), fc.double({ min: 0, max: 1, noNaN: true }), (field, r) => {
        const value = field === 'vlanVid' ? 0x1000 | Math.floor(r * 0xfff) : Math.floor(r * fullMask(field));
        const ex = createPipelineExecutor(env([flow(0, 1, {}, [setField(field, value), output(2)])]));
        const frame = frameFor(field);
        const out = trimResult(ex.run(frame, 1, createExecResult())).outFrames[0];
        const key = ex.lastKey;
        const slots = FIELDS[field].slots;
        expect(slots.length === 2 ? key[slots[0]] * 2 ** 32 + key[slots[1]] : key[slots[0]]).toBe(value);
        const again = createPacketKey();
        extractKey(out, 1, key[K.TUNNEL_ID], again);
        again[K.METADATA] = key[K.METADATA];
        expect(Array.from(again)).toEqual(Array.from(key));
        if (!field.startsWith('arp') && !field.startsWith('mpls')) expect(checksumsValid(out)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('leaves a packet without the field\'s header alone, and the trace says why', () => {
    const cases: [FieldName, string][] = [
      ['tcpDst', 'no such L4 header'],
      ['icmpType', 'not ICMP'],
      ['vlanVid', 'no VLAN tag'],
      ['arpSpa', 'not ARP'],
    ];
    for (const [field, why] of cases) {
      const frame = udp();
      const { result, steps } = tracePipeline(env([flow(0, 1, {}, [setField(field, 0x1001), output(2)])]), frame, 1);
      expect(Buffer.from(result.outFrames[0]).equals(Buffer.from(frame))).toBe(true);
      expect(steps[1]).toMatchObject({ kind: 'action', skipped: why });
    }
    const arp = buildArpRequest({ srcMac: MAC_A, srcIp: IP_A, targetIp: IP_B });
    const { steps } = tracePipeline(env([flow(0, 1, {}, [setField('ipv4Dst', 5), output(2)])]), arp, 1);
    expect(steps[1]).toMatchObject({ kind: 'action', skipped: 'not IPv4' });
  });

  it('traces a VLAN id write as an action and its rewrite, like every other set-field', () => {
    const { steps } = tracePipeline(env([flow(0, 1, {}, [setField('vlanVid', 0x1000 | 42), output(2)])]), udp({ vlan: { vid: 9 } }), 1);
    expect(steps.map((s) => s.kind)).toEqual(['table', 'action', 'rewrite', 'action', 'output']);
    expect(steps[2]).toMatchObject({ kind: 'rewrite', field: 'vlanVid', from: 0x1000 | 9, to: 0x1000 | 42 });
  });

  it('decrements the TTL with a valid checksum and drops at TTL 0', () => {
    const e = env([flow(0, 1, {}, [decTtl(), output(2)])]);
    const out = run(e, udp({ ttl: 5 })).outFrames[0];
    expect(out[22]).toBe(4);
    expect(checksumsValid(out)).toBe(true);
    const dead = run(e, udp({ ttl: 1 }));
    expect(dead.outPorts).toEqual([]);
    expect(dead.drop).toBe('ttlExpired');
  });

  it('pushes and pops VLAN tags, matching the new layout afterwards', () => {
    const e = env([
      flow(0, 1, { inPort: 1 }, [pushVlan(), setField('vlanVid', 0x1000 | 42), setField('vlanPcp', 5)], { gotoTable: 1 }),
      flow(1, 1, { vlanVid: 0x1000 | 42, ethType: 0x0800 }, [output(2), popVlan(), setField('ipv4Dst', 0x0a0000ff), output(3)]),
    ]);
    const frame = udp();
    const r = run(e, frame);
    expect(r.outPorts).toEqual([2, 3]);
    const tagged = Buffer.from(r.outFrames[0]);
    expect(tagged.length).toBe(frame.length + 4);
    expect(tagged.readUInt16BE(12)).toBe(0x8100);
    expect(tagged.readUInt16BE(14)).toBe((5 << 13) | 42);
    expect(tagged.readUInt16BE(16)).toBe(0x0800);
    expect(checksumsValid(tagged)).toBe(true);
    expect(Buffer.from(tagged).readUInt32BE(34)).toBe(IP_B); // first output kept its bytes after later rewrites
    const untagged = Buffer.from(r.outFrames[1]);
    expect(untagged.length).toBe(frame.length);
    expect(untagged.readUInt16BE(12)).toBe(0x0800);
    expect(untagged.readUInt32BE(30)).toBe(0x0a0000ff);
    expect(checksumsValid(untagged)).toBe(true);
  });

  it('pops in place without copying when the caller owns the frame', () => {
    const e = env([flow(0, 1, {}, [popVlan(), output(2)])]);
    const frame = udp({ vlan: { vid: 9 } });
    const r = trimResult(createPipelineExecutor(e).run(frame, 1, createExecResult(), { mutable: true }));
    expect(r.outFrames[0].buffer).toBe(frame.buffer);
    expect(Buffer.from(r.outFrames[0]).readUInt16BE(12)).toBe(0x0800);
  });

  describe('MPLS label stacks (the fabric\'s tenant id, docs/vpc.md)', () => {
    const sender = flow(0, 1, { inPort: 1 }, [pushMpls(), setField('mplsLabel', 116), pushMpls(), setField('mplsLabel', 4111), output(2)]);
    const receiver = [
      flow(0, 1, { inPort: 2, ethType: 0x8847, mplsLabel: 4111, mplsBos: 0 }, [popMpls(0x8847)], { writeMetadata: { value: 0x2000001, mask: 0xffffffff }, gotoTable: 1 }),
      flow(1, 1, { metadata: 0x2000001, ethType: 0x8847, mplsLabel: 116, mplsBos: 1 }, [popMpls(0x0800)], { writeMetadata: { value: 0x10f, mask: 0xffffffff }, gotoTable: 2 }),
      flow(2, 1, { metadata: 0x10f, ethType: 0x0800, ipv4Dst: IP_B }, [output(3)]),
    ];

    it('pushes two labels as Open vSwitch does (label 0 first, TC = DSCP & 7, TTL from IP) and pops them back to the same bytes', () => {
      const frame = udp({ ttl: 33, dscp: 46 });
      const sent = run(env([sender]), frame);
      expect(sent.outPorts).toEqual([2]);
      const wire = Buffer.from(sent.outFrames[0]);
      expect(wire.length).toBe(frame.length + 8);
      expect(wire.readUInt16BE(12)).toBe(0x8847);
      expect(wire.readUInt32BE(14)).toBe(((4111 << 12) | (6 << 9) | (0 << 8) | 33) >>> 0);
      expect(wire.readUInt32BE(18)).toBe(((116 << 12) | (6 << 9) | (1 << 8) | 33) >>> 0);
      expect(wire.subarray(22)).toEqual(Buffer.from(frame).subarray(14));
      const got = run(env(receiver), wire, 2);
      expect(got.outPorts).toEqual([3]);
      expect(Buffer.from(got.outFrames[0])).toEqual(Buffer.from(frame));
    });

    it('keys an MPLS frame on its top entry, with L3 past the whole stack', () => {
      const key = createPacketKey();
      expect(extractKey(withLabels(udp(), [4111, 116], 9), 2, 0, key)).toBe(0);
      expect([key[K.ETH_TYPE], key[K.MPLS_LABEL], key[K.MPLS_BOS], key[K.MPLS_TTL], key[K.L3_OFFSET]]).toEqual([0x8847, 4111, 0, 9, 22]);
      expect(extractKey(withLabels(udp(), [7]), 2, 0, key)).toBe(0);
      expect([key[K.MPLS_LABEL], key[K.MPLS_BOS], key[K.L3_OFFSET]]).toEqual([7, 1, 18]);
    });

    it('pops in place without copying when the caller owns the frame', () => {
      const frame = withLabels(udp(), [4111, 116]);
      const r = trimResult(createPipelineExecutor(env(receiver)).run(frame, 2, createExecResult(), { mutable: true }));
      expect(r.outFrames[0].buffer).toBe(frame.buffer);
      expect(Buffer.from(r.outFrames[0])).toEqual(Buffer.from(udp()));
    });

    it(`counts and drops a stack deeper than ${MAX_MPLS_LABELS} entries; one that deep still works`, () => {
      const e = env([flow(0, 1, {}, [output(2)])]);
      const deep = Array.from({ length: MAX_MPLS_LABELS + 1 }, (_, i) => 16 + i);
      expect(run(e, withLabels(udp(), deep)).drop).toBe('mplsTooDeep');
      expect(run(e, withLabels(udp(), deep.slice(1))).outPorts).toEqual([2]);
      expect(run(e, withLabels(udp(), [16]).subarray(0, 16)).drop).toBe('malformed');
    });

    it('sets the label and traffic class of the top entry only; on a non-MPLS frame the set is skipped', () => {
      const e = env([flow(0, 1, {}, [setField('mplsLabel', 0xfffff), setField('mplsTc', 3), output(2)])]);
      const r = run(e, withLabels(udp(), [4111, 116]));
      const b = Buffer.from(r.outFrames[0]);
      expect(b.readUInt32BE(14)).toBe(((0xfffff << 12) | (3 << 9) | 64) >>> 0);
      expect(b.readUInt32BE(18)).toBe(((116 << 12) | 0x100 | 64) >>> 0);
      const plain = udp();
      const { result, steps } = tracePipeline(e, plain, 1);
      expect(Buffer.from(trimResult(result).outFrames[0])).toEqual(Buffer.from(plain));
      expect(steps.filter((s) => s.kind === 'action' && s.skipped === 'not MPLS')).toHaveLength(2);
    });

    it('push then pop of any labels gives back the frame, byte for byte', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 0xfffff }), { minLength: 1, maxLength: MAX_MPLS_LABELS }), fc.boolean(), (labels, tagged) => {
          const frame = udp(tagged ? { vlan: { vid: 7 } } : {});
          const push = labels.flatMap((l) => [pushMpls(), setField('mplsLabel', l)]);
          const pop = labels.map((_, i) => popMpls(i === labels.length - 1 ? 0x0800 : 0x8847));
          const r = run(env([flow(0, 1, {}, [...push, ...pop, output(2)])]), frame);
          expect(Buffer.from(r.outFrames[0])).toEqual(Buffer.from(frame));
        }),
      );
    });
  });

  it('copies ARP fields into a reply (copyField), as the ARP responder does', () => {
    const req = buildArpRequest({ srcMac: MAC_A, srcIp: IP_A, targetIp: IP_B });
    const e = env([
      flow(0, 1, { ethType: 0x0806, arpOp: 1 }, [
        copyField('ethSrc', 'ethDst'),
        setField('ethSrc', MAC_B),
        setField('arpOp', 2),
        copyField('arpSha', 'arpTha'),
        copyField('arpSpa', 'arpTpa'),
        setField('arpSha', MAC_B),
        setField('arpSpa', IP_B),
        output(PORT.IN_PORT),
      ]),
    ]);
    const r = run(e, req, 3);
    expect(r.outPorts).toEqual([3]);
    const b = Buffer.from(r.outFrames[0]);
    expect(b.readUIntBE(0, 6)).toBe(MAC_A);
    expect(b.readUInt16BE(20)).toBe(2);
    expect(b.readUIntBE(22, 6)).toBe(MAC_B);
    expect(b.readUInt32BE(28)).toBe(IP_B);
    expect(b.readUIntBE(32, 6)).toBe(MAC_A);
    expect(b.readUInt32BE(38)).toBe(IP_A);
  });

  it('runs all-group buckets on clones, indirect and fast-failover by liveness', () => {
    const groups: GroupEntry[] = [
      { groupId: 1, type: 'all', buckets: [{ actions: [setField('ipv4Dst', 1), output(2)] }, { actions: [output(3)] }] },
      { groupId: 2, type: 'indirect', buckets: [{ actions: [output(4)] }] },
      { groupId: 3, type: 'fastFailover', buckets: [{ watchPort: 2, actions: [output(2)] }, { watchPort: 3, actions: [output(3)] }] },
    ];
    const r = run(env([flow(0, 1, {}, [group(1), output(4)])], { groups }), udp());
    expect(r.outPorts).toEqual([2, 3, 4]);
    expect(Buffer.from(r.outFrames[0]).readUInt32BE(30)).toBe(1);
    expect(Buffer.from(r.outFrames[1]).readUInt32BE(30)).toBe(IP_B);
    expect(Buffer.from(r.outFrames[2]).readUInt32BE(30)).toBe(IP_B);
    expect(run(env([flow(0, 1, {}, [group(2)])], { groups }), udp()).outPorts).toEqual([4]);
    expect(run(env([flow(0, 1, {}, [group(3)])], { groups, live: (p) => p !== 2 }), udp()).outPorts).toEqual([3]);
    expect(run(env([flow(0, 1, {}, [group(3)])], { groups, live: () => true }), udp()).outPorts).toEqual([2]);
    expect(run(env([flow(0, 1, {}, [group(99)])], { groups }), udp()).drop).toBe('groupMissing');
  });

  it('bounds chained groups', () => {
    const groups: GroupEntry[] = [{ groupId: 1, type: 'indirect', buckets: [{ actions: [group(1)] }] }];
    expect(run(env([flow(0, 1, {}, [group(1)])], { groups }), udp()).drop).toBe('groupLoop');
  });

  it('select groups pick the same bucket for one 5-tuple, spread by weight, and move little when a bucket leaves', () => {
    const buckets = [1, 2, 3, 4].map((p) => ({ weight: p === 4 ? 3 : 1, actions: [output(p)] }));
    const groups: GroupEntry[] = [{ groupId: 7, type: 'select', buckets }];
    const e = env([flow(0, 1, {}, [group(7)])], { groups });
    const ex = createPipelineExecutor(e);
    const res = createExecResult();
    const counts = new Map<number, number>();
    const choice = new Map<number, number>();
    for (let sp = 1; sp <= 3000; sp++) {
      const frame = udp({ srcPort: sp });
      const a = ex.run(frame, 9, res).outPorts[0];
      expect(ex.run(frame, 9, res).outPorts[0]).toBe(a);
      expect(res.outCount).toBe(1);
      counts.set(a, (counts.get(a) ?? 0) + 1);
      choice.set(sp, a);
    }
    expect(counts.get(4)!).toBeGreaterThan(1500 * 0.8 * (3 / 3));
    for (const p of [1, 2, 3]) expect(counts.get(p)!).toBeGreaterThan(300);
    // Remove bucket 2: its flows move, and (Maglev) a small fraction of the others.
    const fewer = [buckets[0], buckets[2], buckets[3]];
    let moved = 0;
    for (let sp = 1; sp <= 3000; sp++) {
      const frame = udp({ srcPort: sp });
      const key = ex.lastKey;
      ex.run(frame, 9, res);
      void key;
      const hashOwner = fewer[selectBucket(fewer, flowHashOf(ex))].actions[0];
      const before = choice.get(sp)!;
      if (before !== 2 && (hashOwner as { port: number }).port !== before) moved++;
    }
    expect(moved / 3000).toBeLessThan(0.02);
  });

  it('records every step in trace mode', () => {
    const e = env([flow(0, 1, {}, [setField('ipv4Dst', 5)], { gotoTable: 1, cookie: 3 }), flow(1, 1, {}, [output(2)])]);
    const { result, steps } = tracePipeline(e, udp(), 1);
    expect(result.outPorts).toEqual([2]);
    expect(steps.map((s) => s.kind)).toEqual(['table', 'action', 'rewrite', 'table', 'action', 'output']);
    expect(steps[2]).toMatchObject({ kind: 'rewrite', field: 'ipv4Dst', from: IP_B, to: 5 });
  });

  it('applies packet-out actions, with TABLE submitting to the pipeline', () => {
    const e = env([flow(0, 1, { inPort: 1 }, [output(3)])]);
    const ex = createPipelineExecutor(e);
    const r = trimResult(ex.runActions([output(2), output(PORT.TABLE)], udp(), 1, createExecResult()));
    expect(r.outPorts).toEqual([2, 3]);
    expect(r.matched).toHaveLength(1);
  });

  it('never throws on random frames', () => {
    const e = env([
      flow(0, 1, {}, [setField('ethDst', 1), decTtl(), pushVlan(), popVlan(), setField('ipv4Src', 3), output(PORT.FLOOD), toController()]),
    ]);
    const ex = createPipelineExecutor(e);
    const res = createExecResult();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        ex.run(bytes, 1, res, { mutable: true });
      }),
      { numRuns: 1000 },
    );
  });
});

function flowHashOf(ex: { lastKey: Uint32Array }): number {
  return flowHash(ex.lastKey);
}
