/**
 * Mount addresses, frames through the shared executor with select groups: an endpoint of another VPC
 * with an overlapping CIDR reaches the volume's targets through its mount address (the target sees
 * the attachment's source address, the client only the mount address), on the volume's ports only;
 * replicas share a mount address through a select group; Gluster bricks get one each; the trace
 * names the attachment at the translation.
 */
import { describe, expect, it } from 'vitest';
import { createIncrementalCompiler, SECOND_METER_OFFSET, traceIntent, type IncrementalCompiler } from '../../src/compiler/index.js';
import { mountGroupId } from '../../src/compiler/compile-mount.js';
import { PRIORITY } from '../../src/compiler/priorities.js';
import { TABLE } from '../../src/flow/index.js';
import { GATEWAY_MAC, type Attachment, type Endpoint, type Volume } from '../../src/model/index.js';
import { buildArpRequest, buildUdpFrame, formatIpv4, parseFrame } from '../../src/net/index.js';
import { createServiceSim, fnEndpoint, gatewayTopology, serviceIntent } from './service-fixture.js';
import { endpoint, ip, subnet, vpc } from './vpc-fixture.js';

const topology = gatewayTopology();
const storage = (id: string, dpid: number, port: number, n: number): Endpoint => ({ ...fnEndpoint(id, dpid, port, n), kind: 'storage' });
const t1 = storage('t1', 103, 7, 11);
const t2 = storage('t2', 104, 7, 12);
const local = fnEndpoint('local', 101, 8, 1); // in the storage VPC, attached to nothing
// The client VPC "blue" has the storage VPC's CIDR: the client holds local's address.
const client = endpoint('client', 'blue', 'blue-a', 101, 7, 0x020000d00001, local.ip);
const stranger = endpoint('stranger', 'blue', 'blue-a', 102, 7, 0x020000d00002, ip(10, 0, 0, 40));
const all = [t1, t2, local, client, stranger];
const MOUNT = ip(10, 0, 0, 50);
const SOURCE = ip(10, 0, 0, 60);
const nfs: Volume = { id: 'vol-1', name: 'home', protocol: 'nfs', targets: ['t1', 't2'], ports: [2049] };
const gluster: Volume = { id: 'vol-2', name: 'bricks', protocol: 'gluster', targets: ['t1', 't2'], ports: [24007] };
const att: Attachment = { id: 'att-1', volumeId: 'vol-1', endpointId: 'client', mode: 'rw', mounts: [{ ip: MOUNT }], source: { subnetId: 'red-a', ip: SOURCE } };
const glusterAtt: Attachment = {
  id: 'att-2',
  volumeId: 'vol-2',
  endpointId: 'client',
  mode: 'rw',
  mounts: [
    { ip: ip(10, 0, 0, 51), target: 't1' },
    { ip: ip(10, 0, 0, 52), target: 't2' },
  ],
  source: { subnetId: 'red-a', ip: ip(10, 0, 0, 61) },
};

function compile(attachments: Attachment[], volumes: Volume[] = [nfs, gluster]): IncrementalCompiler {
  const base = serviceIntent(all);
  return createIncrementalCompiler(topology, {
    ...base,
    vpcs: new Map([...base.vpcs, ['blue', vpc('blue', 2)]]),
    subnets: new Map([...base.subnets, ['blue-a', subnet('blue-a', 'blue', 0)]]),
    volumes: new Map(volumes.map((v) => [v.id, v])),
    attachments: new Map(attachments.map((a) => [a.id, a])),
  });
}

const udp = (from: Endpoint, dstIp: number, srcPort: number, dstPort: number) =>
  buildUdpFrame({ srcMac: from.mac, dstMac: GATEWAY_MAC, srcIp: from.ip, dstIp, srcPort, dstPort, ttl: 64, payload: Buffer.from('x') });

/** Where a frame sent by `from` arrives, with the addresses it carries there. */
function deliver(c: IncrementalCompiler, from: Endpoint, frame: Uint8Array): string[] {
  return createServiceSim(topology, c.tables(), c.groups(), all)
    .send(from.dpid, from.port, frame)
    .map((d) => {
      const f = parseFrame(d.frame);
      const l3 = 'ip' in f && f.ip ? `${formatIpv4(f.ip.src)}>${formatIpv4(f.ip.dst)}` : '';
      return `${d.to} ${l3}`;
    });
}

/** Each switch's groups by id, switches in dpid order. */
const sortedGroups = (c: IncrementalCompiler) => [...c.groups()].sort(([a], [b]) => a - b).map(([d, gs]) => [d, [...gs].sort((x, y) => x.groupId - y.groupId)]);

describe('volume mount addresses', () => {
  it('an endpoint of an overlapping VPC reaches a target through its mount address and gets the reply from it', () => {
    const c = compile([att]);
    const [there] = deliver(c, client, udp(client, MOUNT, 900, 2049));
    expect(there).toMatch(/^endpoint:t[12] 10\.0\.0\.60>10\.0\.0\.2[12]$/);
    const target = there.startsWith('endpoint:t1') ? t1 : t2;
    // The target answers the source address (asking ARP for it first: its switch answers).
    expect(deliver(c, target, udp(target, SOURCE, 2049, 900))).toEqual(['endpoint:client 10.0.0.50>10.0.0.11']);
    const arp = buildArpRequest({ srcMac: target.mac, srcIp: target.ip, targetIp: SOURCE });
    expect(deliver(c, target, arp)).toEqual([`endpoint:${target.id} `]);
    const ask = buildArpRequest({ srcMac: client.mac, srcIp: client.ip, targetIp: MOUNT });
    expect(deliver(c, client, ask)).toEqual(['endpoint:client ']);
  });

  it('opens nothing else: other ports, other endpoints of the client VPC, other ports back', () => {
    const c = compile([att]);
    expect(deliver(c, client, udp(client, MOUNT, 900, 22))).toEqual([]);
    expect(deliver(c, stranger, udp(stranger, MOUNT, 900, 2049))).toEqual([]);
    expect(deliver(c, t1, udp(t1, SOURCE, 22, 900))).toEqual([]);
    // The client's own VPC neighbour with the same address as the storage endpoint is untouched.
    expect(deliver(c, client, udp(client, stranger.ip, 900, 2049))).toEqual(['endpoint:stranger 10.0.0.11>10.0.0.40']);
  });

  it('spreads replicas with a select group; a target that leaves leaves the group; detaching removes all', () => {
    const c = compile([att]);
    const groups = c.groups().get(client.dpid) ?? [];
    expect(groups.find((g) => g.groupId === mountGroupId('att-1'))?.buckets).toHaveLength(2);
    const seen = new Set<string>();
    for (let port = 1000; port < 1040; port++) seen.add(deliver(c, client, udp(client, MOUNT, port, 2049))[0].split(' ')[0]);
    expect([...seen].sort()).toEqual(['endpoint:t1', 'endpoint:t2']);
    c.apply({ kind: 'volume', op: 'update', volume: { ...nfs, targets: ['t2'] } });
    for (let port = 1000; port < 1010; port++) expect(deliver(c, client, udp(client, MOUNT, port, 2049))).toEqual(['endpoint:t2 10.0.0.60>10.0.0.22']);
    c.apply({ kind: 'attachment', op: 'delete', id: 'att-1' });
    expect(deliver(c, client, udp(client, MOUNT, 900, 2049))).toEqual([]);
    expect(c.tables()).toEqual(compile([], [{ ...nfs, targets: ['t2'] }, gluster]).tables());
  });

  it('an unhealthy replica leaves the group: its connections move to the other, and come back', () => {
    const c = compile([att]);
    c.apply({ kind: 'volume', op: 'update', volume: { ...nfs, unhealthy: ['t1'] } });
    for (let port = 1000; port < 1010; port++) expect(deliver(c, client, udp(client, MOUNT, port, 2049))).toEqual(['endpoint:t2 10.0.0.60>10.0.0.22']);
    c.apply({ kind: 'volume', op: 'update', volume: nfs });
    expect(c.tables()).toEqual(compile([att]).tables());
  });

  it('gives each Gluster brick its own mount address', () => {
    const c = compile([glusterAtt]);
    expect(deliver(c, client, udp(client, ip(10, 0, 0, 51), 900, 24007))).toEqual(['endpoint:t1 10.0.0.61>10.0.0.21']);
    expect(deliver(c, client, udp(client, ip(10, 0, 0, 52), 900, 24007))).toEqual(['endpoint:t2 10.0.0.61>10.0.0.22']);
    expect(deliver(c, t2, udp(t2, ip(10, 0, 0, 61), 24007, 900))).toEqual(['endpoint:client 10.0.0.52>10.0.0.11']);
  });

  it('attaching incrementally equals a full compile; the trace names the attachment at the translation', () => {
    const c = compile([]);
    c.apply({ kind: 'attachment', op: 'add', attachment: att });
    expect(c.tables()).toEqual(compile([att]).tables());
    expect(sortedGroups(c)).toEqual(sortedGroups(compile([att])));
    const trace = traceIntent(c.tables(), topology, { dpid: client.dpid, inPort: client.port, packet: udp(client, MOUNT, 900, 2049) }, {
      describeCookie: (k) => c.describeCookie(k),
      groups: c.groups(),
    });
    const nat = trace.hops[0].tables.find((s) => s.table === 'NAT_LB');
    expect(nat?.flow?.owner).toEqual({ kind: 'attachment', name: 'att-1' });
  });

  it("meters the mount translation with the attachment's qos meter, one meter on the client's switch", () => {
    const c = compile([att], [{ ...nfs, qos: { pps: 100 } }, gluster]);
    expect(c.meters().get(client.dpid)?.map((m) => m.meterId)).toEqual([1]);
    const dnat = (c.tables().get(client.dpid) ?? []).filter((f) => f.table === TABLE.NAT_LB && f.priority === PRIORITY.MOUNT_DNAT);
    expect(dnat.length).toBeGreaterThan(0);
    expect(new Set(dnat.map((f) => f.meterId))).toEqual(new Set([1]));
    const unmetered = compile([att]);
    expect(unmetered.meters().size).toBe(0);
  });

  it('sends the replies back through the same meter: in EGRESS on the client\'s switch, or in the return translation there', () => {
    const metered = (volume: Volume, from: Endpoint, frame: Uint8Array) => {
      const c = compile([att], [volume, gluster]);
      const seen: string[] = [];
      const to = createServiceSim(topology, c.tables(), c.groups(), all, (dpid, meterId) => {
        seen.push(`${dpid}:${meterId}`);
        return true;
      })
        .send(from.dpid, from.port, frame)
        .map((d) => d.to);
      return { to, meters: seen };
    };
    const qos = { ...nfs, qos: { pps: 100 } };
    expect(metered(qos, client, udp(client, MOUNT, 900, 2049))).toEqual({ to: [expect.stringMatching(/^endpoint:t[12]$/)], meters: ['101:1'] });
    // A remote replica's reply: through the meter once, on the client's switch (EGRESS).
    expect(metered(qos, t1, udp(t1, SOURCE, 2049, 900))).toEqual({ to: ['endpoint:client'], meters: ['101:1'] });
    // Another source port is no reply of the volume's: no meter.
    expect(metered(qos, t1, udp(t1, SOURCE, 22, 900))).toEqual({ to: [], meters: [] });
    // A replica on the client's own switch: its reply is translated and sent out there, through the meter.
    const near = { ...qos, targets: ['local'] };
    expect(metered(near, local, udp(local, SOURCE, 2049, 900))).toEqual({ to: ['endpoint:client'], meters: ['101:1'] });
    expect(metered({ ...near, qos: undefined }, local, udp(local, SOURCE, 2049, 900))).toEqual({ to: ['endpoint:client'], meters: [] });
    // mbps and pps: two meters, each passed once per packet, both ways, remote or near.
    const both = { ...nfs, qos: { mbps: 10, pps: 100 } };
    const second = `101:${1 + SECOND_METER_OFFSET}`;
    expect(metered(both, client, udp(client, MOUNT, 900, 2049)).meters).toEqual([second, '101:1']);
    expect(metered(both, t1, udp(t1, SOURCE, 2049, 900))).toEqual({ to: ['endpoint:client'], meters: [second, '101:1'] });
    expect(metered({ ...both, targets: ['local'] }, local, udp(local, SOURCE, 2049, 900))).toEqual({ to: ['endpoint:client'], meters: [second, '101:1'] });
  });
});

