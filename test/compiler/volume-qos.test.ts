/** A volume's qos as one meter per attachment on the endpoint's switch, carried by its grants. */
import { describe, expect, it } from 'vitest';
import { attachmentMeterId, compileQosMeters, createIncrementalCompiler, qosMeterIds, SECOND_METER_OFFSET, type IncrementalCompiler } from '../../src/compiler/index.js';
import { METER_ID_MAX, TABLE } from '../../src/flow/index.js';
import type { Attachment, Endpoint, Volume } from '../../src/model/index.js';
import { buildUdpFrame } from '../../src/net/index.js';
import { createServiceSim, fnEndpoint, gatewayTopology, serviceIntent } from './service-fixture.js';

const topology = gatewayTopology();
const storage = (id: string, dpid: number, port: number, n: number): Endpoint => ({ ...fnEndpoint(id, dpid, port, n), kind: 'storage' });
const c1 = fnEndpoint('c1', 101, 7, 1);
const c2 = fnEndpoint('c2', 102, 7, 2);
const t1 = storage('t1', 103, 7, 11);
const all = [c1, c2, t1];
const vol = (qos?: Volume['qos']): Volume => ({ id: 'vol-1', name: 'home', protocol: 'iscsi', targets: ['t1'], ports: [3260], ...(qos ? { qos } : {}) });
const att = (id: string, endpointId: string): Attachment => ({ id, volumeId: 'vol-1', endpointId, mode: 'rw' });

function compile(attachments: Attachment[], volume: Volume): IncrementalCompiler {
  return createIncrementalCompiler(topology, {
    ...serviceIntent(all),
    volumes: new Map([[volume.id, volume]]),
    attachments: new Map(attachments.map((a) => [a.id, a])),
  });
}

const grants = (c: IncrementalCompiler, dpid: number) => c.table(dpid).filter((f) => f.table === TABLE.ACCESS && f.match.ipv4Src !== undefined && f.gotoTable !== undefined && f.match.ipv4Dst === t1.ip);

describe('volume qos meters', () => {
  it('gives each attachment a meter on its endpoint switch, named by the attachment, and its grants carry it', () => {
    const c = compile([att('att-3', 'c1'), att('att-4', 'c2')], vol({ pps: 200 }));
    expect(c.meters().get(101)).toEqual([{ meterId: 3, unit: 'pktps', bands: [{ type: 'drop', rate: 200, burst: 20 }], cookie: expect.any(Number) }]);
    expect(c.meters().get(102)?.map((m) => m.meterId)).toEqual([4]);
    expect(c.meters().has(103)).toBe(false);
    expect(grants(c, 101).map((f) => f.meterId)).toEqual([3, 3]);
    expect(grants(c, 102).map((f) => f.meterId)).toEqual([4, 4]);
  });

  it("sends the target's replies from a volume port through the same meter on the endpoint's switch, nothing else", () => {
    const c = compile([att('att-3', 'c1')], vol({ pps: 200 }));
    const udp = (from: Endpoint, to: Endpoint, srcPort: number, dstPort: number) =>
      buildUdpFrame({ srcMac: from.mac, dstMac: to.mac, srcIp: from.ip, dstIp: to.ip, srcPort, dstPort, ttl: 64, payload: Buffer.from('blk') });
    let seen: string[] = [];
    let pass = true;
    const sim = createServiceSim(topology, c.tables(), c.groups(), all, (dpid, meterId) => {
      seen.push(`${dpid}:${meterId}`);
      return pass;
    });
    const run = (from: Endpoint, frame: Uint8Array) => {
      seen = [];
      return { to: sim.send(from.dpid, from.port, frame).map((d) => d.to), meters: seen };
    };
    // A write and its reply both count against meter 3 on c1's switch (101), each once.
    expect(run(c1, udp(c1, t1, 900, 3260))).toEqual({ to: ['endpoint:t1'], meters: ['101:3'] });
    expect(run(t1, udp(t1, c1, 3260, 900))).toEqual({ to: ['endpoint:c1'], meters: ['101:3'] });
    // The target's traffic from another port, and to another endpoint, passes no meter.
    expect(run(t1, udp(t1, c1, 22, 900))).toEqual({ to: ['endpoint:c1'], meters: [] });
    expect(run(t1, udp(t1, c2, 3260, 900))).toEqual({ to: ['endpoint:c2'], meters: [] });
    // A meter over its rate drops the reply.
    pass = false;
    expect(run(t1, udp(t1, c1, 3260, 900))).toEqual({ to: [], meters: ['101:3'] });
    // The reply flows are in EGRESS, under the attachment's cookie, and go when the qos goes.
    const replies = (x: IncrementalCompiler) => x.table(101).filter((f) => f.table === TABLE.EGRESS && f.meterId !== undefined);
    expect(replies(c).map((f) => [f.match.ipv4Src, f.match.udpSrc ?? f.match.tcpSrc, f.cookie])).toEqual([
      [t1.ip, 3260, grants(c, 101)[0].cookie],
      [t1.ip, 3260, grants(c, 101)[0].cookie],
    ]);
    c.apply({ kind: 'volume', op: 'update', volume: vol() });
    expect(replies(c)).toEqual([]);
  });

  it('a volume without qos has no meters and unmetered grants', () => {
    const c = compile([att('att-3', 'c1')], vol());
    expect(c.meters().size).toBe(0);
    expect(grants(c, 101).map((f) => f.meterId)).toEqual([undefined, undefined]);
  });

  it('a qos change is a meter modify and no flow churn; removing it modifies the flows, then deletes the meter', () => {
    const c = compile([att('att-3', 'c1')], vol({ pps: 200 }));
    const changed = c.apply({ kind: 'volume', op: 'update', volume: vol({ pps: 500 }) });
    expect([...changed.keys()]).toEqual([101]);
    const d = changed.get(101);
    expect(d?.add).toEqual([]);
    expect(d?.remove).toEqual([]);
    expect(d?.meterMods).toEqual([{ command: 'modify', meter: expect.objectContaining({ meterId: 3, bands: [{ type: 'drop', rate: 500, burst: 50 }] }) }]);

    const removed = c.apply({ kind: 'volume', op: 'update', volume: vol() }).get(101);
    expect(removed?.add.map((f) => f.meterId)).toEqual([undefined, undefined]);
    expect(removed?.meterMods).toEqual([{ command: 'delete', meter: expect.objectContaining({ meterId: 3 }) }]);

    const detached = compile([att('att-3', 'c1')], vol({ mbps: 10 })).apply({ kind: 'attachment', op: 'delete', id: 'att-3' }).get(101);
    expect(detached?.remove).toHaveLength(4);
    expect(detached?.meterMods).toEqual([{ command: 'delete', meter: expect.objectContaining({ meterId: 3, unit: 'kbps' }) }]);
  });

  it('meters mbps in kilobits and pps in packets, both as two meters, with a burst of 100 ms and at least one frame', () => {
    expect(compileQosMeters({ mbps: 10, pps: 100 }, [1, 2], 0)).toEqual([
      { meterId: 1, unit: 'kbps', bands: [{ type: 'drop', rate: 10_000, burst: 1000 }], cookie: 0 },
      { meterId: 2, unit: 'pktps', bands: [{ type: 'drop', rate: 100, burst: 10 }], cookie: 0 },
    ]);
    expect(compileQosMeters({ pps: 5 }, [1], 0)).toEqual([{ meterId: 1, unit: 'pktps', bands: [{ type: 'drop', rate: 5, burst: 1 }], cookie: 0 }]);
    expect(compileQosMeters({ mbps: 0.001 }, [1], 0)[0].bands).toEqual([{ type: 'drop', rate: 1, burst: 12 }]);
    expect(compileQosMeters({}, [], 0)).toEqual([]);
    expect(compileQosMeters(undefined, [], 0)).toEqual([]);
    expect(qosMeterIds({ mbps: 10, pps: 100 }, 'att-7')).toEqual([7, 7 + SECOND_METER_OFFSET]);
    expect(qosMeterIds({ pps: 100 }, 'att-7')).toEqual([7]);
    expect(qosMeterIds({ pps: 0 }, 'att-7')).toEqual([]);
    expect(qosMeterIds(undefined, 'att-7')).toEqual([]);
  });

  it('mbps and pps together: two meters, and every request and reply passes both, each once, on the endpoint switch', () => {
    const c = compile([att('att-3', 'c1')], vol({ mbps: 10, pps: 200 }));
    const second = 3 + SECOND_METER_OFFSET;
    expect(c.meters().get(101)?.map((m) => [m.meterId, m.unit])).toEqual([
      [3, 'kbps'],
      [second, 'pktps'],
    ]);
    const seen: string[] = [];
    const sim = createServiceSim(topology, c.tables(), c.groups(), all, (dpid, meterId) => {
      seen.push(`${dpid}:${meterId}`);
      return true;
    });
    const udp = (from: Endpoint, to: Endpoint, srcPort: number, dstPort: number) =>
      buildUdpFrame({ srcMac: from.mac, dstMac: to.mac, srcIp: from.ip, dstIp: to.ip, srcPort, dstPort, ttl: 64, payload: Buffer.from('blk') });
    // A request: the grant in ACCESS (first), then NAT_LB (second).
    expect(sim.send(c1.dpid, c1.port, udp(c1, t1, 900, 3260)).map((d) => d.to)).toEqual(['endpoint:t1']);
    expect(seen).toEqual(['101:3', `101:${second}`]);
    seen.length = 0;
    // A reply: SG_INGRESS_COMMIT (second), then EGRESS (first).
    expect(sim.send(t1.dpid, t1.port, udp(t1, c1, 3260, 900)).map((d) => d.to)).toEqual(['endpoint:c1']);
    expect(seen).toEqual([`101:${second}`, '101:3']);
    // Dropping pps back to one meter deletes the second and its flows; the first is modified in place.
    const d = c.apply({ kind: 'volume', op: 'update', volume: vol({ mbps: 10 }) }).get(101);
    expect(d?.meterMods).toEqual([{ command: 'delete', meter: expect.objectContaining({ meterId: second }) }]);
    expect(d?.add).toEqual([]);
    expect(d?.remove.map((f) => f.meterId)).toEqual([second, second, second, second]);
    expect(c.tables()).toEqual(compile([att('att-3', 'c1')], vol({ mbps: 10 })).tables());
  });

  it("derives the meter id from the attachment's number, and hashes any other id into range", () => {
    expect(attachmentMeterId('att-1')).toBe(1);
    expect(attachmentMeterId('att-65536')).toBe(65536);
    for (const id of ['a1', 'att-0', 'att-x', 'att-99999999999']) {
      const m = attachmentMeterId(id);
      expect(m).toBeGreaterThanOrEqual(1);
      expect(m).toBeLessThanOrEqual(METER_ID_MAX);
    }
  });
});
