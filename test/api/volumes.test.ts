/**
 * /v1/volumes and their attachments: the contract's shapes, defaults, pagination and filters, every
 * refusal code (nothing half-written), an endpoint's attachments, and the volume events.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { volumeEvents } from '../../src/controller/events.js';
import type { CommittedChange } from '../../src/controller/intent/index.js';
import { buildTestApi, call, ok, type TestApi } from './helpers.js';

let api: TestApi;
let vpc: string;
let other: string;
let subnet: string;
const seen: CommittedChange[] = [];

async function endpoint(kind: string, port: number, inVpc = vpc, inSubnet = subnet, dpid = 1): Promise<string> {
  return (await ok<{ id: string }>(api.app, 'POST', '/v1/endpoints', { kind, vpc: inVpc, subnet: inSubnet, dpid, port })).id;
}

beforeEach(async () => {
  api = await buildTestApi();
  seen.length = 0;
  api.intent.onChange((changes) => seen.push(...changes));
  vpc = (await ok<{ id: string }>(api.app, 'POST', '/v1/vpcs', { name: 'storage', cidr: '10.0.0.0/16' })).id;
  subnet = (await ok<{ id: string }>(api.app, 'POST', `/v1/vpcs/${vpc}/subnets`, { cidr: '10.0.0.0/24' })).id;
  other = (await ok<{ id: string }>(api.app, 'POST', '/v1/vpcs', { name: 'other', cidr: '10.0.0.0/16' })).id;
});
afterEach(async () => api.close());

describe('volumes over REST', () => {
  it('creates with the protocol defaults, reads, lists with filters and pages, patches, deletes', async () => {
    const t1 = await endpoint('storage', 2);
    const t2 = await endpoint('storage', 3);
    const nfs = await ok<Record<string, unknown>>(api.app, 'POST', '/v1/volumes', { name: 'home', protocol: 'nfs', targets: [t1] });
    expect(nfs).toEqual({ id: 'vol-1', name: 'home', protocol: 'nfs', targets: [t1], ports: [2049, 111], qos: null, vpc, attachments: 0, unhealthyTargets: [] });
    const gl = await ok<Record<string, unknown>>(api.app, 'POST', '/v1/volumes', { name: 'data', protocol: 'gluster', targets: [t1, t2], qos: { mbps: 100 } });
    expect(gl).toMatchObject({ id: 'vol-2', ports: [24007, 24008, 49152], qos: { mbps: 100 } });
    const nv = await ok<Record<string, unknown>>(api.app, 'POST', '/v1/volumes', { name: 'blk', protocol: 'nvme-tcp', targets: [t2], ports: [4420, 4421] });
    expect(nv).toMatchObject({ id: 'vol-3', ports: [4420, 4421] });
    expect(await ok(api.app, 'POST', '/v1/volumes', { name: 'lun', protocol: 'iscsi', targets: [t2] })).toMatchObject({ ports: [3260] });

    expect(await ok(api.app, 'GET', '/v1/volumes/vol-2')).toEqual(gl);
    const page1 = await ok<{ items: { id: string }[]; next: string | null }>(api.app, 'GET', '/v1/volumes?limit=2');
    expect(page1.items.map((v) => v.id)).toEqual(['vol-1', 'vol-2']);
    const page2 = await ok<{ items: { id: string }[]; next: string | null }>(api.app, 'GET', `/v1/volumes?limit=2&cursor=${page1.next}`);
    expect(page2).toMatchObject({ items: [{ id: 'vol-3' }, { id: 'vol-4' }], next: null });
    const byTarget = await ok<{ items: { id: string }[] }>(api.app, 'GET', `/v1/volumes?target=${t1}`);
    expect(byTarget.items.map((v) => v.id)).toEqual(['vol-1', 'vol-2']);
    const byProtocol = await ok<{ items: { id: string }[] }>(api.app, 'GET', '/v1/volumes?protocol=gluster');
    expect(byProtocol.items.map((v) => v.id)).toEqual(['vol-2']);

    expect(await ok(api.app, 'PATCH', '/v1/volumes/vol-2', { targets: [t2], qos: null })).toMatchObject({ targets: [t2], qos: null });
    expect(await ok(api.app, 'PATCH', '/v1/volumes/vol-1', { qos: { pps: 5000 } })).toMatchObject({ qos: { pps: 5000 } });
    await ok(api.app, 'DELETE', '/v1/volumes/vol-3');
    expect((await call(api.app, 'GET', '/v1/volumes/vol-3')).json()).toMatchObject({ code: 'OVC_ERR_VOLUME_NOT_FOUND', field: 'params.id' });
  });

  it('refuses bad targets, ports and qos with typed errors, all at once, and writes nothing', async () => {
    const fn = await endpoint('function', 2);
    const t1 = await endpoint('storage', 3);
    const otherSubnet = (await ok<{ id: string }>(api.app, 'POST', `/v1/vpcs/${other}/subnets`, { cidr: '10.0.0.0/24' })).id;
    const far = await endpoint('storage', 4, other, otherSubnet);
    const r = await call(api.app, 'POST', '/v1/volumes', { name: 'x', protocol: 'nfs', targets: ['ep-99', fn, t1, far], ports: [2049, 2049] });
    expect(r.statusCode).toBe(400);
    const body = r.json<{ problems: { code: string; field: string }[] }>();
    expect(body.problems.map((p) => [p.code, p.field])).toEqual([
      ['OVC_ERR_VOLUME_BAD_PORTS', 'body.ports'],
      ['OVC_ERR_VOLUME_TARGET_NOT_FOUND', 'body.targets[0]'],
      ['OVC_ERR_VOLUME_NOT_STORAGE', 'body.targets[1]'],
      ['OVC_ERR_VOLUME_TARGETS_SPLIT', 'body.targets'],
    ]);
    expect((await call(api.app, 'POST', '/v1/volumes', { name: 'x', protocol: 'smb', targets: [t1] })).json()).toMatchObject({ code: 'OVC_ERR_API_VALIDATION', field: 'body.protocol' });
    expect((await call(api.app, 'POST', '/v1/volumes', { name: 'x', protocol: 'nfs', targets: [] })).json()).toMatchObject({ code: 'OVC_ERR_API_VALIDATION', field: 'body.targets' });
    expect((await call(api.app, 'POST', '/v1/volumes', { name: 'x', protocol: 'nfs', targets: [t1], qos: { mbps: 0 } })).json()).toMatchObject({ code: 'OVC_ERR_API_VALIDATION', field: 'body.qos.mbps' });
    expect(await ok(api.app, 'GET', '/v1/volumes')).toEqual({ items: [], next: null });
    expect(seen.filter((c) => c.kind === 'volume')).toEqual([]);
  });

  it('attaches and detaches, shows attachments from the volume and the endpoint, and reports events', async () => {
    const t1 = await endpoint('storage', 2);
    const fn = await endpoint('function', 3);
    const fn2 = await endpoint('container', 4);
    await ok(api.app, 'POST', '/v1/volumes', { name: 'home', protocol: 'nfs', targets: [t1] });
    const a = await ok<Record<string, unknown>>(api.app, 'POST', '/v1/volumes/vol-1/attachments', { endpoint: fn });
    // Mount and source addresses: the lowest free ones of the endpoint's and the first target's subnets.
    expect(a).toEqual({
      id: 'att-1',
      volume: 'vol-1',
      endpoint: fn,
      mode: 'rw',
      mountAddress: '10.0.0.5',
      mountAddresses: [{ target: null, address: '10.0.0.5' }],
      sourceAddress: '10.0.0.6',
    });
    expect(await ok(api.app, 'POST', '/v1/volumes/vol-1/attachments', { endpoint: fn2, mode: 'ro' })).toMatchObject({ id: 'att-2', mode: 'ro' });
    expect(await ok(api.app, 'GET', '/v1/volumes/vol-1')).toMatchObject({ attachments: 2 });
    expect(await ok(api.app, 'GET', '/v1/volumes/vol-1/attachments?limit=1')).toEqual({ items: [a], next: 'att-1' });
    expect(await ok(api.app, 'GET', '/v1/volumes/vol-1/attachments/att-1')).toEqual(a);
    expect(await ok(api.app, 'GET', `/v1/endpoints/${fn}/attachments`)).toEqual({ items: [a], next: null });
    expect(await ok<{ items: unknown[] }>(api.app, 'GET', `/v1/volumes?endpoint=${fn2}`)).toMatchObject({ items: [{ id: 'vol-1' }] });

    expect((await call(api.app, 'POST', '/v1/volumes/vol-1/attachments', { endpoint: fn })).json()).toMatchObject({ code: 'OVC_ERR_VOLUME_ALREADY_ATTACHED', field: 'body.endpoint' });
    expect((await call(api.app, 'POST', '/v1/volumes/vol-1/attachments', { endpoint: 'ep-99' })).json()).toMatchObject({ code: 'OVC_ERR_ENDPOINT_NOT_FOUND', field: 'body.endpoint' });
    expect((await call(api.app, 'POST', '/v1/volumes/vol-9/attachments', { endpoint: fn })).json()).toMatchObject({ code: 'OVC_ERR_VOLUME_NOT_FOUND', field: 'params.id' });
    expect((await call(api.app, 'DELETE', '/v1/volumes/vol-1')).json()).toMatchObject({ code: 'OVC_ERR_VOLUME_IN_USE', field: 'params.id' });
    expect((await call(api.app, 'DELETE', `/v1/endpoints/${t1}`)).json()).toMatchObject({ code: 'OVC_ERR_VOLUME_TARGET_IN_USE', field: 'params.id' });

    await ok(api.app, 'DELETE', '/v1/volumes/vol-1/attachments/att-1');
    expect((await call(api.app, 'DELETE', '/v1/volumes/vol-1/attachments/att-1')).json()).toMatchObject({ code: 'OVC_ERR_VOLUME_NOT_ATTACHED', field: 'params.attachmentId' });
    // Deleting an attached endpoint detaches it in the same transaction.
    await ok(api.app, 'DELETE', `/v1/endpoints/${fn2}`);
    expect(await ok(api.app, 'GET', '/v1/volumes/vol-1/attachments')).toEqual({ items: [], next: null });
    await ok(api.app, 'DELETE', '/v1/volumes/vol-1');

    expect(volumeEvents(seen)).toEqual([
      { type: 'volume.attached', volumeId: 'vol-1', attachmentId: 'att-1', endpointId: fn, mode: 'rw' },
      { type: 'volume.attached', volumeId: 'vol-1', attachmentId: 'att-2', endpointId: fn2, mode: 'ro' },
      { type: 'volume.detached', volumeId: 'vol-1', attachmentId: 'att-1', endpointId: fn },
      { type: 'volume.detached', volumeId: 'vol-1', attachmentId: 'att-2', endpointId: fn2 },
    ]);
  });

  it('mounts from another VPC with an overlapping CIDR; an attached volume keeps its storage VPC', async () => {
    const t1 = await endpoint('storage', 2);
    const otherSubnet = (await ok<{ id: string }>(api.app, 'POST', `/v1/vpcs/${other}/subnets`, { cidr: '10.0.0.0/24' })).id;
    const far = await endpoint('function', 3, other, otherSubnet);
    const farTarget = await endpoint('storage', 4, other, otherSubnet);
    // A load balancer's VIP in the client's subnet is never handed out as a mount address.
    await ok(api.app, 'POST', '/v1/load-balancers', { vpc: other, vip: '10.0.0.4', port: 80, protocol: 'tcp', function: 'web' });
    await ok(api.app, 'POST', '/v1/volumes', { name: 'home', protocol: 'nfs', targets: [t1] });
    // far is 10.0.0.2 in its VPC, farTarget .3, the VIP .4: the mount address is .5; the source is .3 in the storage VPC.
    expect(await ok(api.app, 'POST', '/v1/volumes/vol-1/attachments', { endpoint: far })).toMatchObject({ mountAddress: '10.0.0.5', sourceAddress: '10.0.0.3' });
    // Endpoints allocated afterwards skip both; one asking for a mount address by hand is refused.
    expect(await ok(api.app, 'POST', '/v1/endpoints', { kind: 'function', vpc, subnet, dpid: 1, port: 6 })).toMatchObject({ ip: '10.0.0.4' });
    expect((await call(api.app, 'POST', '/v1/endpoints', { kind: 'function', vpc: other, subnet: otherSubnet, dpid: 1, port: 7, ip: '10.0.0.5' })).json()).toMatchObject({ code: 'OVC_ERR_ENDPOINT_IP_TAKEN', field: 'body.ip' });
    expect((await call(api.app, 'PATCH', '/v1/volumes/vol-1', { targets: [farTarget] })).json()).toMatchObject({ code: 'OVC_ERR_VOLUME_OTHER_VPC', field: 'body.targets' });
    expect(await ok(api.app, 'GET', '/v1/volumes/vol-1')).toMatchObject({ targets: [t1] });
    // Detached, its addresses are free again.
    await ok(api.app, 'DELETE', '/v1/volumes/vol-1/attachments/att-1');
    expect(await ok(api.app, 'POST', '/v1/endpoints', { kind: 'function', vpc, subnet, dpid: 1, port: 7 })).toMatchObject({ ip: '10.0.0.3' });
  });

  it('gives a Gluster attachment one mount address per brick, following the volume\'s targets', async () => {
    const t1 = await endpoint('storage', 2);
    const t2 = await endpoint('storage', 3);
    const t3 = await endpoint('storage', 4);
    const fn = await endpoint('function', 5);
    await ok(api.app, 'POST', '/v1/volumes', { name: 'data', protocol: 'gluster', targets: [t1, t2] });
    const a = await ok(api.app, 'POST', '/v1/volumes/vol-1/attachments', { endpoint: fn });
    expect(a).toMatchObject({ mountAddress: '10.0.0.6', mountAddresses: [{ target: t1, address: '10.0.0.6' }, { target: t2, address: '10.0.0.7' }], sourceAddress: '10.0.0.8' });
    await ok(api.app, 'PATCH', '/v1/volumes/vol-1', { targets: [t2, t3] });
    expect(await ok(api.app, 'GET', '/v1/volumes/vol-1/attachments/att-1')).toMatchObject({
      mountAddresses: [{ target: t2, address: '10.0.0.7' }, { target: t3, address: '10.0.0.9' }],
      sourceAddress: '10.0.0.8',
    });
    // Moving the mounts is no attach or detach.
    expect(volumeEvents(seen)).toEqual([{ type: 'volume.attached', volumeId: 'vol-1', attachmentId: 'att-1', endpointId: fn, mode: 'rw' }]);
  });

  it('survives a restart: volumes and attachments are stored', async () => {
    const t1 = await endpoint('storage', 2);
    const fn = await endpoint('function', 3);
    await ok(api.app, 'POST', '/v1/volumes', { name: 'home', protocol: 'nfs', targets: [t1], qos: { mbps: 10, pps: 100 } });
    await ok(api.app, 'POST', '/v1/volumes/vol-1/attachments', { endpoint: fn, mode: 'ro' });
    const loaded = await api.store.load();
    expect([...(loaded.intent.volumes?.values() ?? [])]).toEqual([{ id: 'vol-1', name: 'home', protocol: 'nfs', targets: [t1], ports: [2049, 111], qos: { mbps: 10, pps: 100 } }]);
    expect([...(loaded.intent.attachments?.values() ?? [])]).toEqual([
      { id: 'att-1', volumeId: 'vol-1', endpointId: fn, mode: 'ro', mounts: [{ ip: 0x0a000004 }], source: { subnetId: subnet, ip: 0x0a000005 } },
    ]);
    expect(loaded.lastSeq).toMatchObject({ volume: 1, attachment: 1 });
  });
});
