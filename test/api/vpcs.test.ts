import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntentIndex } from '../../src/controller/store/intent-index.js';
import { MAX_VNI } from '../../src/model/index.js';
import { buildTestApi, call, ok, refused, vpcWithSubnet, type Subnet, type TestApi, type Vpc } from './helpers.js';

let t: TestApi;
beforeEach(async () => {
  t = await buildTestApi();
});
afterEach(async () => {
  await t.close();
});

describe('VPCs', () => {
  it('creates, reads, lists, renames and deletes a VPC', async () => {
    const vpc = await ok<Vpc>(t.app, 'POST', '/v1/vpcs', { name: 'blue', cidr: '10.0.0.0/16' });
    expect(vpc).toEqual({ id: 'vpc-1', name: 'blue', cidr: '10.0.0.0/16', vni: 1 });
    expect(await ok(t.app, 'GET', '/v1/vpcs/vpc-1')).toEqual(vpc);
    const renamed = await ok<Vpc>(t.app, 'PATCH', '/v1/vpcs/vpc-1', { name: 'azure' });
    expect(renamed).toEqual({ ...vpc, name: 'azure' });
    expect(await ok(t.app, 'GET', '/v1/vpcs')).toEqual({ items: [renamed], next: null });
    await ok(t.app, 'DELETE', '/v1/vpcs/vpc-1');
    await refused(t.app, 'GET', '/v1/vpcs/vpc-1', undefined, 404, 'OVC_ERR_VPC_NOT_FOUND', 'params.id');
  });

  it('gives the lowest free VNI and never reuses an id', async () => {
    const a = await ok<Vpc>(t.app, 'POST', '/v1/vpcs', { name: 'a', cidr: '10.0.0.0/16' });
    const b = await ok<Vpc>(t.app, 'POST', '/v1/vpcs', { name: 'b', cidr: '10.0.0.0/16' });
    expect([a.vni, b.vni]).toEqual([1, 2]);
    await ok(t.app, 'DELETE', `/v1/vpcs/${a.id}`);
    const c = await ok<Vpc>(t.app, 'POST', '/v1/vpcs', { name: 'c', cidr: '10.0.0.0/16' });
    expect(c).toMatchObject({ id: 'vpc-3', vni: 1 });
  });

  it('refuses a bad CIDR, a missing name and an unknown field, each with its field', async () => {
    await refused(t.app, 'POST', '/v1/vpcs', { name: 'x', cidr: '10.0.0.1/16' }, 400, 'OVC_ERR_NET_BAD_CIDR', 'body.cidr');
    await refused(t.app, 'POST', '/v1/vpcs', { name: 'x', cidr: 'ten/8' }, 400, 'OVC_ERR_NET_BAD_CIDR', 'body.cidr');
    await refused(t.app, 'POST', '/v1/vpcs', { cidr: '10.0.0.0/8' }, 400, 'OVC_ERR_API_VALIDATION', 'body.name');
    await refused(t.app, 'POST', '/v1/vpcs', { name: 'x', cidr: '10.0.0.0/8', tag: 7 }, 400, 'OVC_ERR_API_VALIDATION', 'body.tag');
    await refused(t.app, 'PATCH', '/v1/vpcs/vpc-1', { name: 'x' }, 404, 'OVC_ERR_VPC_NOT_FOUND', 'params.id');
    await refused(t.app, 'DELETE', '/v1/vpcs/vpc-9', undefined, 404, 'OVC_ERR_VPC_NOT_FOUND', 'params.id');
  });

  it('refuses a new CIDR that leaves a subnet out, accepts one that covers them all', async () => {
    const { vpc } = await vpcWithSubnet(t.app, '10.0.0.0/16', '10.0.1.0/24');
    await refused(t.app, 'PATCH', `/v1/vpcs/${vpc.id}`, { cidr: '10.0.2.0/24' }, 400, 'OVC_ERR_SUBNET_OUTSIDE_VPC', 'body.cidr');
    expect(await ok<Vpc>(t.app, 'PATCH', `/v1/vpcs/${vpc.id}`, { cidr: '10.0.0.0/8' })).toMatchObject({ cidr: '10.0.0.0/8' });
  });

  it('refuses to delete a VPC with endpoints; deletes an empty one with its subnets', async () => {
    const { vpc, subnet } = await vpcWithSubnet(t.app);
    const ep = await ok<{ id: string }>(t.app, 'POST', '/v1/endpoints', { kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2 });
    await refused(t.app, 'DELETE', `/v1/vpcs/${vpc.id}`, undefined, 409, 'OVC_ERR_VPC_HAS_ENDPOINTS', 'params.id');
    await ok(t.app, 'DELETE', `/v1/endpoints/${ep.id}`);
    await ok(t.app, 'DELETE', `/v1/vpcs/${vpc.id}`);
    expect(t.intent.intent().subnets.size).toBe(0);
  });

  it('places a VPC at the VNI asked for (past 4,094, up to 2^24 - 1); refuses one taken or out of range', async () => {
    expect(await ok<Vpc>(t.app, 'POST', '/v1/vpcs', { name: 'far', cidr: '10.0.0.0/16', vni: 70_000 })).toMatchObject({ vni: 70_000 });
    expect(await ok<Vpc>(t.app, 'POST', '/v1/vpcs', { name: 'top', cidr: '10.0.0.0/16', vni: MAX_VNI })).toMatchObject({ vni: 16_777_215 });
    // Allocation stays the lowest free VNI.
    expect(await ok<Vpc>(t.app, 'POST', '/v1/vpcs', { name: 'next', cidr: '10.0.0.0/16' })).toMatchObject({ vni: 1 });
    await refused(t.app, 'POST', '/v1/vpcs', { name: 'clash', cidr: '10.0.0.0/16', vni: 70_000 }, 409, 'OVC_ERR_VPC_VNI_TAKEN', 'body.vni');
    await refused(t.app, 'POST', '/v1/vpcs', { name: 'clash', cidr: '10.0.0.0/16', vni: 1 }, 409, 'OVC_ERR_VPC_VNI_TAKEN', 'body.vni');
    await refused(t.app, 'POST', '/v1/vpcs', { name: 'big', cidr: '10.0.0.0/16', vni: MAX_VNI + 1 }, 400, 'OVC_ERR_API_VALIDATION', 'body.vni');
    await refused(t.app, 'POST', '/v1/vpcs', { name: 'zero', cidr: '10.0.0.0/16', vni: 0 }, 400, 'OVC_ERR_API_VALIDATION', 'body.vni');
    // Callers other than REST meet the same rule.
    await expect(t.intent.vpcs.create({ name: 'x', cidr: '10.0.0.0/8', vni: 2 ** 24 })).rejects.toMatchObject({ code: 'OVC_ERR_VPC_BAD_VNI', field: 'body.vni' });
  });

  it('finds no VNI when every one is taken (OVC_ERR_VPC_EXHAUSTED), and the freed one again', () => {
    const index = new IntentIndex({ vpcs: new Map(), subnets: new Map(), endpoints: new Map() });
    for (let vni = 1; vni <= 3; vni++) index.putVpc({ id: `vpc-${vni}`, name: 'v', vni, cidr: { network: 0, prefixLength: 8 } });
    expect(index.lowestFreeVni(3)).toBeUndefined();
    index.removeVpc('vpc-2');
    expect(index.lowestFreeVni(3)).toBe(2);
  });

  it('paginates with limit and cursor, and refuses a foreign cursor or a bad limit', async () => {
    for (let i = 1; i <= 5; i++) await ok(t.app, 'POST', '/v1/vpcs', { name: `v${i}`, cidr: '10.0.0.0/16' });
    await ok(t.app, 'DELETE', '/v1/vpcs/vpc-3');
    const p1 = await ok<{ items: Vpc[]; next: string | null }>(t.app, 'GET', '/v1/vpcs?limit=2');
    expect(p1.items.map((v) => v.id)).toEqual(['vpc-1', 'vpc-2']);
    expect(p1.next).toBe('vpc-2');
    const p2 = await ok<{ items: Vpc[]; next: string | null }>(t.app, 'GET', `/v1/vpcs?limit=2&cursor=${p1.next}`);
    expect(p2.items.map((v) => v.id)).toEqual(['vpc-4', 'vpc-5']);
    expect(p2.next).toBeNull();
    // A cursor whose item was deleted still marks the position.
    const p3 = await ok<{ items: Vpc[] }>(t.app, 'GET', '/v1/vpcs?limit=10&cursor=vpc-3');
    expect(p3.items.map((v) => v.id)).toEqual(['vpc-4', 'vpc-5']);
    await refused(t.app, 'GET', '/v1/vpcs?cursor=ep-1', undefined, 400, 'OVC_ERR_API_BAD_CURSOR', 'querystring.cursor');
    await refused(t.app, 'GET', '/v1/vpcs?limit=0', undefined, 400, 'OVC_ERR_API_VALIDATION', 'querystring.limit');
  });
});

describe('subnets', () => {
  it('creates a subnet with the first host as default gateway, lists, reads and deletes it', async () => {
    const { vpc, subnet } = await vpcWithSubnet(t.app);
    expect(subnet).toEqual({ id: 'subnet-1', vpc: vpc.id, name: '10.0.1.0/24', cidr: '10.0.1.0/24', gateway: '10.0.1.1' });
    const named = await ok<Subnet>(t.app, 'POST', `/v1/vpcs/${vpc.id}/subnets`, { name: 'db', cidr: '10.0.2.0/24', gateway: '10.0.2.254' });
    expect(named).toMatchObject({ name: 'db', gateway: '10.0.2.254' });
    expect(await ok(t.app, 'GET', `/v1/vpcs/${vpc.id}/subnets`)).toEqual({ items: [subnet, named], next: null });
    expect(await ok(t.app, 'GET', `/v1/vpcs/${vpc.id}/subnets/${named.id}`)).toEqual(named);
    await ok(t.app, 'DELETE', `/v1/vpcs/${vpc.id}/subnets/${named.id}`);
    await refused(t.app, 'GET', `/v1/vpcs/${vpc.id}/subnets/${named.id}`, undefined, 404, 'OVC_ERR_SUBNET_NOT_FOUND', 'params.subnetId');
  });

  it('allows overlapping CIDRs in different VPCs and refuses them inside one', async () => {
    const a = await vpcWithSubnet(t.app, '10.0.0.0/16', '10.0.1.0/24');
    const b = await vpcWithSubnet(t.app, '10.0.0.0/16', '10.0.1.0/24');
    expect(b.subnet.cidr).toBe(a.subnet.cidr);
    const url = `/v1/vpcs/${a.vpc.id}/subnets`;
    await refused(t.app, 'POST', url, { cidr: '10.0.1.0/24' }, 409, 'OVC_ERR_SUBNET_OVERLAP', 'body.cidr');
    await refused(t.app, 'POST', url, { cidr: '10.0.1.128/25' }, 409, 'OVC_ERR_SUBNET_OVERLAP', 'body.cidr');
    await refused(t.app, 'POST', url, { cidr: '10.0.0.0/20' }, 409, 'OVC_ERR_SUBNET_OVERLAP', 'body.cidr');
    await ok(t.app, 'POST', url, { cidr: '10.0.2.0/24' });
  });

  it('refuses a subnet outside its VPC, too small, with a bad gateway, or in no VPC', async () => {
    const { vpc } = await vpcWithSubnet(t.app);
    const url = `/v1/vpcs/${vpc.id}/subnets`;
    await refused(t.app, 'POST', url, { cidr: '10.1.0.0/24' }, 400, 'OVC_ERR_SUBNET_OUTSIDE_VPC', 'body.cidr');
    await refused(t.app, 'POST', url, { cidr: '10.0.0.0/8' }, 400, 'OVC_ERR_SUBNET_OUTSIDE_VPC', 'body.cidr');
    await refused(t.app, 'POST', url, { cidr: '10.0.3.0/31' }, 400, 'OVC_ERR_SUBNET_TOO_SMALL', 'body.cidr');
    await refused(t.app, 'POST', url, { cidr: '10.0.3.0/24', gateway: '10.0.4.1' }, 400, 'OVC_ERR_SUBNET_BAD_GATEWAY', 'body.gateway');
    await refused(t.app, 'POST', url, { cidr: '10.0.3.0/24', gateway: '10.0.3.255' }, 400, 'OVC_ERR_SUBNET_BAD_GATEWAY', 'body.gateway');
    await refused(t.app, 'POST', url, { cidr: '10.0.3.0/24', gateway: '10.0.3' }, 400, 'OVC_ERR_NET_BAD_IPV4', 'body.gateway');
    await refused(t.app, 'POST', url, { cidr: '10.0.3.1/24' }, 400, 'OVC_ERR_NET_BAD_CIDR', 'body.cidr');
    await refused(t.app, 'POST', '/v1/vpcs/vpc-9/subnets', { cidr: '10.0.3.0/24' }, 404, 'OVC_ERR_VPC_NOT_FOUND', 'params.id');
    await refused(t.app, 'GET', '/v1/vpcs/vpc-9/subnets', undefined, 404, 'OVC_ERR_VPC_NOT_FOUND', 'params.id');
  });

  it('reports every problem of a subnet at once', async () => {
    const { vpc } = await vpcWithSubnet(t.app);
    const body = await refused(t.app, 'POST', `/v1/vpcs/${vpc.id}/subnets`, { cidr: '10.1.0.0/31', gateway: 'x' }, 400, 'OVC_ERR_SUBNET_TOO_SMALL', 'body.cidr');
    expect(body.problems?.map((p) => [p.code, p.field])).toEqual([
      ['OVC_ERR_SUBNET_TOO_SMALL', 'body.cidr'],
      ['OVC_ERR_SUBNET_OUTSIDE_VPC', 'body.cidr'],
      ['OVC_ERR_NET_BAD_IPV4', 'body.gateway'],
    ]);
  });

  it('refuses to delete a subnet with endpoints or a subnet of another VPC', async () => {
    const a = await vpcWithSubnet(t.app);
    const b = await vpcWithSubnet(t.app);
    await ok(t.app, 'POST', '/v1/endpoints', { kind: 'container', vpc: a.vpc.id, subnet: a.subnet.id, dpid: 1, port: 2 });
    await refused(t.app, 'DELETE', `/v1/vpcs/${a.vpc.id}/subnets/${a.subnet.id}`, undefined, 409, 'OVC_ERR_SUBNET_HAS_ENDPOINTS', 'params.subnetId');
    await refused(t.app, 'DELETE', `/v1/vpcs/${a.vpc.id}/subnets/${b.subnet.id}`, undefined, 404, 'OVC_ERR_SUBNET_NOT_FOUND', 'params.subnetId');
    const r = await call(t.app, 'DELETE', `/v1/vpcs/${b.vpc.id}/subnets/${b.subnet.id}`);
    expect(r.statusCode).toBe(204);
  });
});
