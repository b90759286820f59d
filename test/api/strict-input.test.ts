/**
 * Input that used to pass although it was wrong, one regression test per case (named after the bug),
 * each checking the refusal's code and field and that nothing changed. Bodies are JSON: no type
 * coercion, unknown fields refused at every depth. Query strings still parse numbers, from plain
 * decimal text only.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fullApiPerFile, type FullApi } from './full-api.js';

const apiOfFile = fullApiPerFile();
let api: FullApi;
beforeAll(() => {
  api = apiOfFile();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
async function call(method: Method, url: string, payload?: unknown) {
  const r = await api.app.inject({
    method,
    url,
    headers: { ...api.bearer(api.admin), ...(typeof payload === 'string' ? { 'content-type': 'application/json' } : {}) },
    ...(payload === undefined ? {} : { payload: payload as string }),
  });
  return { status: r.statusCode, body: (r.body ? r.json() : {}) as Record<string, unknown> };
}
async function refused(method: Method, url: string, payload: unknown, code: string, field: string, status = 400) {
  const r = await call(method, url, payload);
  expect(r.body, JSON.stringify(payload)).toMatchObject({ statusCode: status, code, field });
  expect(r.status).toBe(status);
}

const LINK = `/v1/topology/links/${encodeURIComponent('s1:8~s2:8')}`;
const linkUp = async () => ((await call('GET', '/v1/topology')).body.links as { id: string; up: boolean }[]).find((l) => l.id === 's1:8~s2:8')?.up;

describe('input that passed although it was wrong (issue 19)', () => {
  it('link up: null, "false" or 0 no longer takes a link down', async () => {
    for (const up of [null, 'false', 0, 'true', 1, [false]]) await refused('PATCH', LINK, { up }, 'OVC_ERR_API_VALIDATION', 'body.up');
    expect(await linkUp()).toBe(true);
    expect((await call('PATCH', LINK, { up: false })).status).toBe(200);
    expect(await linkUp()).toBe(false);
    expect((await call('PATCH', LINK, { up: true })).status).toBe(200);
  });

  it('a VPC name ["a"] is refused, not read as "a"', async () => {
    await refused('POST', '/v1/vpcs', { name: ['a'], cidr: '10.0.0.0/16' }, 'OVC_ERR_API_VALIDATION', 'body.name');
    await refused('POST', '/v1/vpcs', { name: 7, cidr: '10.0.0.0/16' }, 'OVC_ERR_API_VALIDATION', 'body.name');
    await refused('POST', '/v1/vpcs', { name: 'a', cidr: ['10.0.0.0/16'] }, 'OVC_ERR_API_VALIDATION', 'body.cidr');
    expect((await call('GET', '/v1/vpcs')).body.items).toEqual([]);
  });

  it('unknown fields in nested objects are refused with their path, not dropped', async () => {
    await refused('POST', '/v1/topology/links', { a: { switch: 's1', port: 2, speed: 10 }, b: { switch: 's2', port: 2 } }, 'OVC_ERR_API_VALIDATION', 'body.a.speed');
    await refused('POST', '/v1/topology/switches', { name: 's9', dpid: 9, ports: [1, { number: 2, nmae: 'up' }] }, 'OVC_ERR_API_VALIDATION', 'body.ports[1]');
    await refused(
      'POST',
      '/v1/trace',
      { dpid: 1, inPort: 2, packet: { kind: 'udp', ethSrc: '02:00:00:00:00:01', ethDst: '02:00:00:00:00:02', ipv4Src: '10.0.0.1', ipv4Dst: '10.0.0.2', l4dst: 80 } },
      'OVC_ERR_API_VALIDATION',
      'body.packet.l4dst',
    );
    await refused('POST', '/v1/vpcs', { name: 'a', cidr: '10.0.0.0/16', vnid: 7 }, 'OVC_ERR_API_VALIDATION', 'body.vnid');
    const topology = (await call('GET', '/v1/topology')).body as { links: unknown[]; switches: unknown[] };
    expect([topology.links.length, topology.switches.length]).toEqual([1, 2]);
  });

  it('a webhook with typo_types is refused, not subscribed to every event', async () => {
    await refused('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', typo_types: ['switch.connected'] }, 'OVC_ERR_API_VALIDATION', 'body.typo_types');
    await refused('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', types: 'switch.connected' }, 'OVC_ERR_API_VALIDATION', 'body.types');
    expect((await call('GET', '/v1/webhooks')).body.webhooks).toEqual([]);
  });

  it('healthy: null no longer marks a backend unhealthy, and a health mark for an endpoint that is not a backend is a typed 404', async () => {
    const vpc = (await call('POST', '/v1/vpcs', { name: 'fn', cidr: '10.1.0.0/16' })).body.id as string;
    const subnet = (await call('POST', `/v1/vpcs/${vpc}/subnets`, { cidr: '10.1.0.0/24' })).body.id as string;
    const backend = (await call('POST', '/v1/endpoints', { kind: 'function', vpc, subnet, dpid: 1, port: 2, labels: { function: 'resize' } })).body.id as string;
    const other = (await call('POST', '/v1/endpoints', { kind: 'function', vpc, subnet, dpid: 1, port: 3, labels: { function: 'thumb' } })).body.id as string;
    const lb = (await call('POST', '/v1/load-balancers', { vpc, vip: '10.1.0.200', protocol: 'udp', port: 80, function: 'resize' })).body.id as string;
    const health = (ep: string) => `/v1/load-balancers/${lb}/backends/${ep}/health`;
    for (const healthy of [null, 'false', 0]) await refused('PUT', health(backend), { healthy }, 'OVC_ERR_API_VALIDATION', 'body.healthy');
    await refused('PUT', health(other), { healthy: false }, 'OVC_ERR_LB_NOT_A_BACKEND', 'params.endpointId', 404);
    await refused('PUT', health('ep-99'), { healthy: false }, 'OVC_ERR_ENDPOINT_NOT_FOUND', 'params.endpointId', 404);
    expect((await call('GET', `/v1/load-balancers/${lb}`)).body.unhealthy).toEqual([]);
    expect((await call('PUT', health(backend), { healthy: false })).body.unhealthy).toEqual([backend]);
    // A marked endpoint relabelled away from the function can still be cleared.
    await call('PATCH', `/v1/endpoints/${backend}`, { labels: { function: 'thumb' } });
    expect((await call('PUT', health(backend), { healthy: true })).body.unhealthy).toEqual([]);
  });

  it('POST /v1/trace with dpid 1e308 is refused; a dpid or port the topology lacks is a typed 404', async () => {
    const packet = '"packet":{"kind":"udp","ethSrc":"02:00:00:00:00:01","ethDst":"02:00:00:00:00:02","ipv4Src":"10.0.0.1","ipv4Dst":"10.0.0.2"}';
    await refused('POST', '/v1/trace', `{"dpid":1e308,"inPort":2,${packet}}`, 'OVC_ERR_API_VALIDATION', 'body.dpid');
    await refused('POST', '/v1/trace', `{"dpid":1.5,"inPort":2,${packet}}`, 'OVC_ERR_API_VALIDATION', 'body.dpid');
    await refused('POST', '/v1/trace', `{"dpid":"1","inPort":2,${packet}}`, 'OVC_ERR_API_VALIDATION', 'body.dpid');
    await refused('POST', '/v1/trace', `{"dpid":77,"inPort":2,${packet}}`, 'OVC_ERR_TOPO_UNKNOWN_SWITCH', 'body.dpid', 404);
    await refused('POST', '/v1/trace', `{"dpid":1,"inPort":99,${packet}}`, 'OVC_ERR_TOPO_UNKNOWN_PORT', 'body.inPort', 404);
    expect((await call('POST', '/v1/trace', `{"dpid":1,"inPort":2,${packet}}`)).status).toBe(200);
  });

  it('query strings parse plain decimal numbers and refuse junk', async () => {
    expect((await call('GET', '/v1/vpcs?limit=2')).status).toBe(200);
    expect((await call('GET', '/v1/endpoints?dpid=1&label=function=resize&label=revision=v1')).status).toBe(200);
    for (const junk of ['0x10', '1e3', '%2012', '12abc', '', '-', '1.5', '99999999999999999999']) {
      await refused('GET', `/v1/vpcs?limit=${junk}`, undefined, 'OVC_ERR_API_VALIDATION', 'querystring.limit');
    }
    await refused('GET', '/v1/endpoints?dpid=1&dpid=0x2', undefined, 'OVC_ERR_API_VALIDATION', 'querystring.dpid');
    await refused('GET', '/v1/vpcs?lmit=2', undefined, 'OVC_ERR_API_VALIDATION', 'querystring.lmit');
    await refused('GET', '/v1/switches/1e3/flows', undefined, 'OVC_ERR_API_VALIDATION', 'params.dpid');
  });

  it('every object a request body carries refuses unknown fields (records of labels and weights aside)', async () => {
    const doc = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>> };
    const open: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n.type === 'object' && n.properties && n.additionalProperties !== false) open.push(at);
      for (const [k, v] of Object.entries(n)) walk(v, `${at}/${k}`);
    };
    for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) walk(op.requestBody, `${method} ${path}`);
    expect(open).toEqual([]);
  });
});
