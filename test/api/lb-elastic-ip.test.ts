/**
 * A load balancer behind an elastic IP over REST: attach on create and by PATCH, detach with null, and
 * every refusal (unknown address, address serving an endpoint or another LB, associating or releasing
 * an address an LB uses) with its code and field; the link survives a reopen of the store file.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../src/api/app.js';
import { registerIntentRoutes } from '../../src/api/routes/vpcs.js';
import { createIntentService, type IntentService } from '../../src/controller/intent/index.js';
import { openIntentStore, type IntentStore } from '../../src/controller/store/index.js';
import { parseTopology } from '../../src/model/index.js';
import { tempDir } from '../controller/store/fixtures.js';

const TOPOLOGY = parseTopology(`
name: g
switches:
  - { name: s1, dpid: 1, ports: [1, 2, 3, 4, 9] }
gateways:
  - { name: gw1, attach: s1:9, mac: "0a:00:00:00:00:fe", ip: 198.51.100.1/24, routerMac: "02:00:00:00:01:10", publicPool: 203.0.113.0/29 }
`);

let app: FastifyInstance;
let intent: IntentService;
let store: IntentStore;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  tmp = tempDir();
  store = openIntentStore(tmp.file);
  intent = await createIntentService({ seedTopology: TOPOLOGY }, { store });
  app = await createApiApp();
  registerIntentRoutes(app, intent, { settled: async () => undefined });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  store.close();
  tmp.remove();
});

async function call(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown) {
  const r = await app.inject({ method, url, payload: payload as object });
  return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {} };
}

describe('a load balancer behind an elastic IP over REST', () => {
  it('attaches, refuses what would share an address, detaches, and persists', async () => {
    const vpc = (await call('POST', '/v1/vpcs', { name: 'v', cidr: '10.0.0.0/16' })).body.id as string;
    const subnet = (await call('POST', `/v1/vpcs/${vpc}/subnets`, { cidr: '10.0.0.0/24' })).body.id as string;
    const ep = (await call('POST', '/v1/endpoints', { kind: 'function', vpc, subnet, dpid: 1, port: 1, labels: { function: 'f' } })).body.id as string;
    const free = (await call('POST', '/v1/elastic-ips', {})).body.id as string;
    const bound = (await call('POST', '/v1/elastic-ips', { endpoint: ep })).body.id as string;

    const lbBody = { vpc, vip: '10.0.0.200', protocol: 'tcp', port: 80, function: 'f' };
    const unknown = await call('POST', '/v1/load-balancers', { ...lbBody, elasticIp: 'eip-99' });
    expect([unknown.status, unknown.body.code, unknown.body.field]).toEqual([404, 'OVC_ERR_EIP_NOT_FOUND', 'body.elasticIp']);
    const serving = await call('POST', '/v1/load-balancers', { ...lbBody, elasticIp: bound });
    expect([serving.status, serving.body.code, serving.body.field]).toEqual([409, 'OVC_ERR_EIP_IN_USE', 'body.elasticIp']);

    const created = await call('POST', '/v1/load-balancers', { ...lbBody, elasticIp: free });
    expect(created.status).toBe(201);
    expect(created.body.elasticIp).toBe(free);
    const lb = created.body.id as string;

    // The address now serves the LB: no second LB, no endpoint, no release.
    const second = await call('POST', '/v1/load-balancers', { ...lbBody, vip: '10.0.0.201', function: 'g', elasticIp: free });
    expect([second.status, second.body.code, second.body.field]).toEqual([409, 'OVC_ERR_EIP_IN_USE', 'body.elasticIp']);
    const assoc = await call('PATCH', `/v1/elastic-ips/${free}`, { endpoint: ep });
    expect([assoc.status, assoc.body.code, assoc.body.field]).toEqual([409, 'OVC_ERR_EIP_IN_USE', 'body.endpoint']);
    const release = await call('DELETE', `/v1/elastic-ips/${free}`);
    expect([release.status, release.body.code]).toEqual([409, 'OVC_ERR_EIP_IN_USE']);

    // PATCH: an address serving an endpoint is refused; the same address again is a no-op; weights keep the link.
    const patchBound = await call('PATCH', `/v1/load-balancers/${lb}`, { elasticIp: bound });
    expect([patchBound.status, patchBound.body.code, patchBound.body.field]).toEqual([409, 'OVC_ERR_EIP_IN_USE', 'body.elasticIp']);
    expect((await call('PATCH', `/v1/load-balancers/${lb}`, { elasticIp: free })).body.elasticIp).toBe(free);
    expect((await call('PATCH', `/v1/load-balancers/${lb}`, { weights: { v1: 1 } })).body.elasticIp).toBe(free);
    expect(intent.intent().loadBalancers?.get(lb)?.elasticIpId).toBe(free);

    // Reopen the file: the link is stored.
    const reopened = openIntentStore(tmp.file);
    expect((await reopened.load()).intent.loadBalancers?.get(lb)?.elasticIpId).toBe(free);
    reopened.close();

    // Detach: the address is free for an endpoint again.
    const detached = await call('PATCH', `/v1/load-balancers/${lb}`, { elasticIp: null });
    expect([detached.status, detached.body.elasticIp]).toEqual([200, null]);
    expect(intent.intent().loadBalancers?.get(lb)?.elasticIpId).toBeUndefined();
    expect((await call('PATCH', `/v1/elastic-ips/${bound}`, { endpoint: null })).status).toBe(200);
    expect((await call('PATCH', `/v1/elastic-ips/${free}`, { endpoint: ep })).status).toBe(200);
    // Re-attach by PATCH to the now unassociated address; delete the LB, then the address releases.
    expect((await call('PATCH', `/v1/load-balancers/${lb}`, { elasticIp: bound })).body.elasticIp).toBe(bound);
    expect((await call('DELETE', `/v1/load-balancers/${lb}`)).status).toBe(204);
    expect((await call('DELETE', `/v1/elastic-ips/${bound}`)).status).toBe(204);
  });
});
