import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApi, ok, refused, vpcWithSubnet, type Endpoint, type Subnet, type TestApi, type Vpc } from './helpers.js';

let t: TestApi;
let vpc: Vpc;
let subnet: Subnet;
beforeEach(async () => {
  t = await buildTestApi();
  ({ vpc, subnet } = await vpcWithSubnet(t.app, '10.0.0.0/16', '10.0.1.0/24'));
});
afterEach(async () => {
  await t.close();
});

const create = (extra: Record<string, unknown>, status = 201) =>
  ok<Endpoint>(t.app, 'POST', '/v1/endpoints', { kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, ...extra }, status);
const refuse = (extra: Record<string, unknown>, status: number, code: string, field: string) =>
  refused(t.app, 'POST', '/v1/endpoints', { kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, ...extra }, status, code, field);

describe('endpoints', () => {
  it('allocates the lowest free address (skipping the gateway) and a locally administered MAC', async () => {
    const a = await create({ port: 2, labels: { function: 'resize', revision: 'v1' } });
    expect(a).toEqual({
      id: 'ep-1',
      kind: 'function',
      vpc: vpc.id,
      subnet: subnet.id,
      dpid: 1,
      port: 2,
      mac: '06:00:00:00:00:01',
      ip: '10.0.1.2',
      labels: { function: 'resize', revision: 'v1' },
      securityGroups: ['sg-1'],
    });
    const b = await create({ port: 3 });
    const c = await create({ port: 4 });
    expect([b.ip, c.ip]).toEqual(['10.0.1.3', '10.0.1.4']);
    await ok(t.app, 'DELETE', `/v1/endpoints/${b.id}`);
    const explicit = await create({ port: 5, ip: '10.0.1.10', mac: '02:aa:00:00:00:01' });
    expect(explicit).toMatchObject({ ip: '10.0.1.10', mac: '02:aa:00:00:00:01' });
    // The freed .3 comes back first, then allocation continues above the taken ones.
    expect((await create({ port: 6 })).ip).toBe('10.0.1.3');
    expect((await create({ port: 7 })).ip).toBe('10.0.1.5');
    expect(await ok(t.app, 'GET', `/v1/endpoints/${a.id}`)).toEqual(a);
  });

  it("skips a load balancer's VIP when it allocates an address", async () => {
    await ok(t.app, 'POST', '/v1/load-balancers', { vpc: vpc.id, vip: '10.0.1.3', protocol: 'udp', port: 80, function: 'f' });
    // A second load balancer on the VIP, then gone: the VIP is still the first one's.
    const other = await ok<{ id: string }>(t.app, 'POST', '/v1/load-balancers', { vpc: vpc.id, vip: '10.0.1.3', protocol: 'udp', port: 81, function: 'f' });
    await ok(t.app, 'DELETE', `/v1/load-balancers/${other.id}`, undefined, 204);
    const ips = [(await create({ port: 2 })).ip, (await create({ port: 3 })).ip];
    expect(ips).toEqual(['10.0.1.2', '10.0.1.4']);
  });

  it('skips a gateway that is not the first address, and a hand-picked MAC in the allocated range', async () => {
    const s = await ok<Subnet>(t.app, 'POST', `/v1/vpcs/${vpc.id}/subnets`, { cidr: '10.0.9.0/29', gateway: '10.0.9.2' });
    await create({ subnet: s.id, port: 2, mac: '06:00:00:00:00:02' });
    const e = await create({ subnet: s.id, port: 3 });
    expect(e.ip).toBe('10.0.9.3');
    expect(e.mac).toBe('06:00:00:00:00:03');
  });

  it('exhausts a /30 after one endpoint (network, gateway, broadcast take the rest)', async () => {
    const s = await ok<Subnet>(t.app, 'POST', `/v1/vpcs/${vpc.id}/subnets`, { cidr: '10.0.2.0/30' });
    expect((await create({ subnet: s.id, port: 2 })).ip).toBe('10.0.2.2');
    await refuse({ subnet: s.id, port: 3 }, 409, 'OVC_ERR_SUBNET_EXHAUSTED', 'body.subnet');
    await refuse({ subnet: s.id, port: 3, ip: '10.0.2.3' }, 400, 'OVC_ERR_ENDPOINT_IP_RESERVED', 'body.ip');
  });

  it('refuses addresses outside the subnet, reserved or taken', async () => {
    const a = await create({ port: 2 });
    await refuse({ port: 3, ip: '10.0.2.5' }, 400, 'OVC_ERR_ENDPOINT_IP_OUTSIDE_SUBNET', 'body.ip');
    await refuse({ port: 3, ip: '10.0.1.0' }, 400, 'OVC_ERR_ENDPOINT_IP_RESERVED', 'body.ip');
    await refuse({ port: 3, ip: '10.0.1.255' }, 400, 'OVC_ERR_ENDPOINT_IP_RESERVED', 'body.ip');
    await refuse({ port: 3, ip: '10.0.1.1' }, 409, 'OVC_ERR_ENDPOINT_IP_TAKEN', 'body.ip');
    await refuse({ port: 3, ip: a.ip }, 409, 'OVC_ERR_ENDPOINT_IP_TAKEN', 'body.ip');
    await refuse({ port: 3, ip: '10.0.1.300' }, 400, 'OVC_ERR_NET_BAD_IPV4', 'body.ip');
  });

  it('allows the same address in another VPC with the same CIDR', async () => {
    const a = await create({ port: 2 });
    const other = await vpcWithSubnet(t.app, '10.0.0.0/16', '10.0.1.0/24');
    const b = await create({ vpc: other.vpc.id, subnet: other.subnet.id, port: 3, ip: a.ip });
    expect(b.ip).toBe(a.ip);
  });

  it('refuses a MAC that is taken (endpoint, topology host, gateway) or not unicast', async () => {
    const a = await create({ port: 2 });
    await refuse({ port: 3, mac: a.mac }, 409, 'OVC_ERR_ENDPOINT_MAC_TAKEN', 'body.mac');
    await refuse({ port: 3, mac: '02:00:00:00:00:01' }, 409, 'OVC_ERR_ENDPOINT_MAC_TAKEN', 'body.mac');
    await refuse({ port: 3, mac: '0a:00:00:00:00:01' }, 409, 'OVC_ERR_ENDPOINT_MAC_TAKEN', 'body.mac');
    await refuse({ port: 3, mac: '01:00:5e:00:00:01' }, 400, 'OVC_ERR_NET_BAD_MAC', 'body.mac');
    await refuse({ port: 3, mac: '00:00:00:00:00:00' }, 400, 'OVC_ERR_NET_BAD_MAC', 'body.mac');
    await refuse({ port: 3, mac: 'zz' }, 400, 'OVC_ERR_NET_BAD_MAC', 'body.mac');
  });

  it('refuses an unknown switch or port and a port a host, link or endpoint holds', async () => {
    await create({ port: 2 });
    await refuse({ dpid: 99, port: 2 }, 404, 'OVC_ERR_ENDPOINT_UNKNOWN_SWITCH', 'body.dpid');
    await refuse({ port: 20 }, 404, 'OVC_ERR_ENDPOINT_UNKNOWN_PORT', 'body.port');
    await refuse({ port: 1 }, 409, 'OVC_ERR_ENDPOINT_PORT_IN_USE', 'body.port'); // host h1
    await refuse({ port: 8 }, 409, 'OVC_ERR_ENDPOINT_PORT_IN_USE', 'body.port'); // link s1:8~s2:8
    await refuse({ port: 2 }, 409, 'OVC_ERR_ENDPOINT_PORT_IN_USE', 'body.port'); // ep-1
    await refuse({ port: 0 }, 400, 'OVC_ERR_API_VALIDATION', 'body.port');
  });

  it('refuses an unknown VPC, a subnet of another VPC, a bad kind, an unknown field', async () => {
    const other = await vpcWithSubnet(t.app);
    await refuse({ port: 2, vpc: 'vpc-9' }, 404, 'OVC_ERR_VPC_NOT_FOUND', 'body.vpc');
    await refuse({ port: 2, subnet: other.subnet.id }, 404, 'OVC_ERR_SUBNET_NOT_FOUND', 'body.subnet');
    await refuse({ port: 2, kind: 'vm' }, 400, 'OVC_ERR_API_VALIDATION', 'body.kind');
    await refuse({ port: 2, lables: {} }, 400, 'OVC_ERR_API_VALIDATION', 'body.lables');
  });

  it('reports every problem of an endpoint at once', async () => {
    const a = await create({ port: 2 });
    const body = await refuse({ port: 2, ip: a.ip, mac: a.mac }, 409, 'OVC_ERR_ENDPOINT_PORT_IN_USE', 'body.port');
    expect(body.problems?.map((p) => [p.code, p.field])).toEqual([
      ['OVC_ERR_ENDPOINT_PORT_IN_USE', 'body.port'],
      ['OVC_ERR_ENDPOINT_IP_TAKEN', 'body.ip'],
      ['OVC_ERR_ENDPOINT_MAC_TAKEN', 'body.mac'],
    ]);
    expect(t.intent.intent().endpoints.size).toBe(1);
  });

  it('moves an endpoint to a free port and relabels it; refuses a taken or unknown port', async () => {
    const a = await create({ port: 2 });
    const b = await create({ port: 3 });
    const moved = await ok<Endpoint>(t.app, 'PATCH', `/v1/endpoints/${a.id}`, { dpid: 2, port: 2 });
    expect(moved).toEqual({ ...a, dpid: 2, port: 2 });
    // Its old port is free again.
    await ok(t.app, 'PATCH', `/v1/endpoints/${b.id}`, { port: 2 });
    await refused(t.app, 'PATCH', `/v1/endpoints/${b.id}`, { dpid: 2 }, 409, 'OVC_ERR_ENDPOINT_PORT_IN_USE', 'body.port');
    await refused(t.app, 'PATCH', `/v1/endpoints/${b.id}`, { port: 8 }, 409, 'OVC_ERR_ENDPOINT_PORT_IN_USE', 'body.port');
    await refused(t.app, 'PATCH', `/v1/endpoints/${b.id}`, { dpid: 5 }, 404, 'OVC_ERR_ENDPOINT_UNKNOWN_SWITCH', 'body.dpid');
    await refused(t.app, 'PATCH', `/v1/endpoints/${b.id}`, { ip: '10.0.1.9' }, 400, 'OVC_ERR_API_VALIDATION', 'body.ip');
    const relabelled = await ok<Endpoint>(t.app, 'PATCH', `/v1/endpoints/${b.id}`, { labels: { function: 'thumb' } });
    expect(relabelled.labels).toEqual({ function: 'thumb' });
    // Staying on its own port is not a conflict.
    await ok(t.app, 'PATCH', `/v1/endpoints/${b.id}`, { dpid: 1, port: 2 });
    await refused(t.app, 'PATCH', '/v1/endpoints/ep-99', { port: 4 }, 404, 'OVC_ERR_ENDPOINT_NOT_FOUND', 'params.id');
    await refused(t.app, 'DELETE', '/v1/endpoints/ep-99', undefined, 404, 'OVC_ERR_ENDPOINT_NOT_FOUND', 'params.id');
  });
});

describe('endpoint lists', () => {
  async function population() {
    const other = await vpcWithSubnet(t.app, '10.0.0.0/16', '10.0.1.0/24');
    const s2 = await ok<Subnet>(t.app, 'POST', `/v1/vpcs/${vpc.id}/subnets`, { cidr: '10.0.2.0/24' });
    const all: Endpoint[] = [];
    const spec: [Vpc, Subnet, number, number, string, Record<string, string>][] = [
      [vpc, subnet, 1, 2, 'function', { function: 'resize', revision: 'v1' }],
      [vpc, subnet, 1, 3, 'function', { function: 'resize', revision: 'v2' }],
      [vpc, s2, 1, 4, 'container', { app: 'web' }],
      [other.vpc, other.subnet, 2, 2, 'function', { function: 'resize', revision: 'v1' }],
      [other.vpc, other.subnet, 2, 3, 'storage', {}],
      [vpc, s2, 2, 4, 'function', { function: 'thumb' }],
      [vpc, subnet, 2, 5, 'host', {}],
    ];
    for (const [v, s, dpid, port, kind, labels] of spec) {
      all.push(await ok<Endpoint>(t.app, 'POST', '/v1/endpoints', { kind, vpc: v.id, subnet: s.id, dpid, port, labels }));
    }
    return { all, other, s2 };
  }
  const ids = (xs: Endpoint[]) => xs.map((e) => e.id);
  const list = async (query: string) => (await ok<{ items: Endpoint[]; next: string | null }>(t.app, 'GET', `/v1/endpoints?${query}`)).items;

  it('filters by vpc, subnet, kind, dpid and labels (all must match)', async () => {
    const { all, other, s2 } = await population();
    expect(await list('')).toEqual(all);
    expect(ids(await list(`vpc=${other.vpc.id}`))).toEqual(ids(all.filter((e) => e.vpc === other.vpc.id)));
    expect(ids(await list(`subnet=${s2.id}`))).toEqual([all[2].id, all[5].id]);
    expect(ids(await list('kind=function'))).toEqual(ids(all.filter((e) => e.kind === 'function')));
    expect(ids(await list('dpid=2'))).toEqual(ids(all.slice(3)));
    expect(ids(await list('label=function=resize'))).toEqual([all[0].id, all[1].id, all[3].id]);
    expect(ids(await list('label=function=resize&label=revision=v1'))).toEqual([all[0].id, all[3].id]);
    expect(ids(await list(`label=function=resize&vpc=${vpc.id}&dpid=1`))).toEqual([all[0].id, all[1].id]);
    expect(await list('label=function=nope')).toEqual([]);
    await refused(t.app, 'GET', '/v1/endpoints?label=function', undefined, 400, 'OVC_ERR_API_VALIDATION', 'querystring.label[0]');
    await refused(t.app, 'GET', '/v1/endpoints?kind=vm', undefined, 400, 'OVC_ERR_API_VALIDATION', 'querystring.kind');
  });

  it('pages through a filtered list with limit and cursor, ending with next = null', async () => {
    const { all } = await population();
    const want = ids(all.filter((e) => e.kind === 'function'));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: Endpoint[]; next: string | null } = await ok(t.app, 'GET', `/v1/endpoints?kind=function&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page.items));
      cursor = page.next;
      pages++;
    } while (cursor !== null);
    expect(seen).toEqual(want);
    expect(pages).toBe(Math.ceil(want.length / 2));
    await refused(t.app, 'GET', '/v1/endpoints?cursor=vpc-1', undefined, 400, 'OVC_ERR_API_BAD_CURSOR', 'querystring.cursor');
  });
});
