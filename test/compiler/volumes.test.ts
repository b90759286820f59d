/**
 * Volumes in the ACCESS table, frames through the shared executor: an attached endpoint reaches the
 * targets on the volume's ports (TCP and UDP) and nothing else of them; an unattached one gets nothing;
 * replicas reach each other; detaching cuts at once; the drop names its volume in a trace.
 */
import { describe, expect, it } from 'vitest';
import { createIncrementalCompiler, traceIntent, type IncrementalCompiler } from '../../src/compiler/index.js';
import type { Attachment, Endpoint, Volume } from '../../src/model/index.js';
import { buildTcpFrame, buildUdpFrame } from '../../src/net/index.js';
import { createServiceSim, fnEndpoint, gatewayTopology, serviceIntent } from './service-fixture.js';

const topology = gatewayTopology();
const storage = (id: string, dpid: number, port: number, n: number): Endpoint => ({ ...fnEndpoint(id, dpid, port, n), kind: 'storage' });
const c1 = fnEndpoint('c1', 101, 7, 1); // attached, another leaf
const c2 = fnEndpoint('c2', 102, 7, 2); // not attached
const c3 = fnEndpoint('c3', 103, 8, 3); // attached, on the target's own leaf
const t1 = storage('t1', 103, 7, 11);
const t2 = storage('t2', 104, 7, 12);
const all = [c1, c2, c3, t1, t2];
const nfs: Volume = { id: 'vol-1', name: 'home', protocol: 'nfs', targets: ['t1', 't2'], ports: [2049, 111] };
const att = (id: string, endpointId: string): Attachment => ({ id, volumeId: 'vol-1', endpointId, mode: 'rw' });

function compile(attachments: Attachment[], volumes: Volume[] = [nfs]): IncrementalCompiler {
  return createIncrementalCompiler(topology, {
    ...serviceIntent(all),
    volumes: new Map(volumes.map((v) => [v.id, v])),
    attachments: new Map(attachments.map((a) => [a.id, a])),
  });
}

const udp = (from: Endpoint, to: Endpoint, dstPort: number) =>
  buildUdpFrame({ srcMac: from.mac, dstMac: to.mac, srcIp: from.ip, dstIp: to.ip, srcPort: 900, dstPort, ttl: 64, payload: Buffer.from('x') });
const tcp = (from: Endpoint, to: Endpoint, dstPort: number) => buildTcpFrame({ srcMac: from.mac, dstMac: to.mac, srcIp: from.ip, dstIp: to.ip, srcPort: 900, dstPort, ttl: 64 });

function reaches(c: IncrementalCompiler, from: Endpoint, frame: Uint8Array): string[] {
  return createServiceSim(topology, c.tables(), c.groups(), all).send(from.dpid, from.port, frame).map((d) => d.to);
}

describe('volume access', () => {
  it('an attached endpoint reaches every target on the volume ports, TCP and UDP; nothing else of them', () => {
    const c = compile([att('att-1', 'c1'), att('att-2', 'c3')]);
    for (const from of [c1, c3]) {
      for (const t of [t1, t2]) {
        expect(reaches(c, from, udp(from, t, 2049))).toEqual([`endpoint:${t.id}`]);
        expect(reaches(c, from, tcp(from, t, 111))).toEqual([`endpoint:${t.id}`]);
        expect(reaches(c, from, udp(from, t, 22))).toEqual([]);
      }
    }
    // Replies and traffic not to a target pass as before.
    expect(reaches(c, t1, udp(t1, c1, 40000))).toEqual(['endpoint:c1']);
    expect(reaches(c, c1, udp(c1, c2, 7))).toEqual(['endpoint:c2']);
  });

  it('an unattached endpoint of the same VPC gets nothing; the drop is counted under the volume', () => {
    const c = compile([att('att-1', 'c1')]);
    expect(reaches(c, c2, udp(c2, t1, 2049))).toEqual([]);
    const trace = traceIntent(c.tables(), topology, { dpid: c2.dpid, inPort: c2.port, packet: udp(c2, t1, 2049) }, { describeCookie: (k) => c.describeCookie(k) });
    const access = trace.hops[0].tables.find((s) => s.table === 'ACCESS');
    expect(access?.flow?.owner).toEqual({ kind: 'volume', name: 'vol-1' });
    expect(trace.drops).toHaveLength(1);
    const allowed = traceIntent(c.tables(), topology, { dpid: c1.dpid, inPort: c1.port, packet: udp(c1, t1, 2049) }, { describeCookie: (k) => c.describeCookie(k) });
    expect(allowed.hops[0].tables.find((s) => s.table === 'ACCESS')?.flow?.owner).toEqual({ kind: 'attachment', name: 'att-1' });
  });

  it('replicas reach each other on any port', () => {
    const c = compile([]);
    expect(reaches(c, t1, tcp(t1, t2, 24007))).toEqual(['endpoint:t2']);
    expect(reaches(c, t2, udp(t2, t1, 5))).toEqual(['endpoint:t1']);
  });

  it('attach and detach take effect with the delta; a target without a volume is open as before', () => {
    const c = compile([]);
    expect(reaches(c, c1, udp(c1, t1, 2049))).toEqual([]);
    c.apply({ kind: 'attachment', op: 'add', attachment: att('att-1', 'c1') });
    expect(reaches(c, c1, udp(c1, t1, 2049))).toEqual(['endpoint:t1']);
    c.apply({ kind: 'attachment', op: 'delete', id: 'att-1' });
    expect(reaches(c, c1, udp(c1, t1, 2049))).toEqual([]);
    c.apply({ kind: 'volume', op: 'delete', id: 'vol-1' });
    expect(reaches(c, c2, udp(c2, t1, 22))).toEqual(['endpoint:t1']);
  });

  it('two volumes sharing a target and an attached endpoint: one flow per check, each volume its own ports', () => {
    const other: Volume = { id: 'vol-2', name: 'blk', protocol: 'iscsi', targets: ['t1'], ports: [3260, 2049] };
    const c = compile([att('att-1', 'c1'), { id: 'att-2', volumeId: 'vol-2', endpointId: 'c2', mode: 'rw' }, { id: 'att-3', volumeId: 'vol-2', endpointId: 'c1', mode: 'ro' }], [nfs, other]);
    expect(reaches(c, c2, tcp(c2, t1, 3260))).toEqual(['endpoint:t1']);
    expect(reaches(c, c2, tcp(c2, t2, 2049))).toEqual([]);
    expect(reaches(c, c1, tcp(c1, t1, 3260))).toEqual(['endpoint:t1']);
    expect(reaches(c, c1, tcp(c1, t2, 3260))).toEqual([]);
  });
});
