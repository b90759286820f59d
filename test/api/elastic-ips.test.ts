/**
 * /v1/elastic-ips and /v1/load-balancers: the lifecycle and every refusal code, over a fresh in-memory
 * store whose topology has a gateway with a /30 public pool (two addresses).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../src/api/app.js';
import { registerIntentRoutes } from '../../src/api/routes/vpcs.js';
import { createIntentService, type IntentService } from '../../src/controller/intent/index.js';
import { openIntentStore, type IntentStore } from '../../src/controller/store/index.js';
import { parseTopology } from '../../src/model/index.js';

const TOPOLOGY = parseTopology(`
name: g
switches:
  - { name: s1, dpid: 1, ports: [1, 2, 3, 4, 9] }
gateways:
  - { name: gw1, attach: s1:9, mac: "0a:00:00:00:00:fe", ip: 198.51.100.1/24, routerMac: "02:00:00:00:01:10", publicPool: 203.0.113.0/30 }
`);

let app: FastifyInstance;
let intent: IntentService;
let store: IntentStore;
let settledCalls = 0;

beforeAll(async () => {
  store = openIntentStore(':memory:');
  intent = await createIntentService({ seedTopology: TOPOLOGY }, { store });
  app = await createApiApp();
  registerIntentRoutes(app, intent, { settled: async () => void settledCalls++ });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  store.close();
});

async function call(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown) {
  const r = await app.inject({ method, url, payload: payload as object });
  return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {} };
}

describe('elastic IPs and load balancers over REST', () => {
  let vpc: string;
  let ep1: string;
  let ep2: string;

  it('sets up a VPC with two function endpoints', async () => {
    vpc = (await call('POST', '/v1/vpcs', { name: 'v', cidr: '10.0.0.0/16' })).body.id as string;
    const subnet = (await call('POST', `/v1/vpcs/${vpc}/subnets`, { cidr: '10.0.0.0/24' })).body.id as string;
    ep1 = (await call('POST', '/v1/endpoints', { kind: 'function', vpc, subnet, dpid: 1, port: 1, labels: { function: 'f', revision: 'v1' } })).body.id as string;
    ep2 = (await call('POST', '/v1/endpoints', { kind: 'function', vpc, subnet, dpid: 1, port: 2, labels: { function: 'f', revision: 'v2' } })).body.id as string;
    expect((await call('POST', '/v1/endpoints', { kind: 'function', vpc, subnet, dpid: 1, port: 9 })).body.code).toBe('OVC_ERR_ENDPOINT_PORT_IN_USE');
  });

  it('allocates, associates, moves, disassociates and releases; each change waits for installation', async () => {
    const a = await call('POST', '/v1/elastic-ips', { endpoint: ep1 });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ publicIp: '203.0.113.1', endpoint: ep1 });
    const id = a.body.id as string;
    const before = settledCalls;
    expect((await call('PATCH', `/v1/elastic-ips/${id}`, { endpoint: ep2 })).body.endpoint).toBe(ep2);
    expect(settledCalls).toBe(before + 1);
    expect((await call('DELETE', `/v1/elastic-ips/${id}`)).body.code).toBe('OVC_ERR_EIP_IN_USE');
    expect((await call('PATCH', `/v1/elastic-ips/${id}`, { endpoint: null })).body.endpoint).toBeNull();
    expect((await call('DELETE', `/v1/elastic-ips/${id}`)).status).toBe(204);
    expect((await call('GET', `/v1/elastic-ips/${id}`)).body.code).toBe('OVC_ERR_EIP_NOT_FOUND');
  });

  it('refuses what cannot be: a taken or foreign address, an exhausted pool, a second address for one endpoint, an unknown endpoint', async () => {
    const x = await call('POST', '/v1/elastic-ips', { address: '203.0.113.2', endpoint: ep1 });
    expect(x.status).toBe(201);
    expect((await call('POST', '/v1/elastic-ips', { address: '203.0.113.2' })).body.code).toBe('OVC_ERR_EIP_ADDRESS_TAKEN');
    expect((await call('POST', '/v1/elastic-ips', { address: '192.0.2.1' })).body.code).toBe('OVC_ERR_EIP_NO_GATEWAY');
    expect((await call('POST', '/v1/elastic-ips', { endpoint: ep1 })).body.code).toBe('OVC_ERR_EIP_IN_USE');
    expect((await call('POST', '/v1/elastic-ips', { endpoint: 'ep-999' })).body.code).toBe('OVC_ERR_ENDPOINT_NOT_FOUND');
    expect((await call('POST', '/v1/elastic-ips', {})).status).toBe(201);
    expect((await call('POST', '/v1/elastic-ips', {})).body.code).toBe('OVC_ERR_EIP_POOL_EXHAUSTED');
    expect((await call('POST', '/v1/elastic-ips', { adress: '203.0.113.1' })).body.code).toBe('OVC_ERR_API_VALIDATION');
    // Deleting the endpoint frees its address (disassociated in the same transaction).
    await call('DELETE', `/v1/endpoints/${ep1}`);
    expect((await call('GET', `/v1/elastic-ips/${x.body.id as string}`)).body.endpoint).toBeNull();
  });

  it('creates a load balancer, changes weights and health, and refuses conflicts and bad values', async () => {
    const lb = await call('POST', '/v1/load-balancers', { vpc, vip: '10.0.0.200', protocol: 'udp', port: 80, function: 'f', weights: { v1: 90, v2: 10 } });
    expect(lb.status).toBe(201);
    const id = lb.body.id as string;
    expect((await call('PATCH', `/v1/load-balancers/${id}`, { weights: { v1: 50, v2: 50 } })).body.weights).toEqual({ v1: 50, v2: 50 });
    expect((await call('PUT', `/v1/load-balancers/${id}/backends/${ep2}/health`, { healthy: false })).body.unhealthy).toEqual([ep2]);
    expect((await call('PUT', `/v1/load-balancers/${id}/backends/${ep2}/health`, { healthy: true })).body.unhealthy).toEqual([]);
    // Who marked whom: the prober's marks are listed apart; a REST list keeps them for the backends it keeps.
    await intent.loadBalancers.setBackendHealth(id, ep1, false, 'probe');
    expect((await call('GET', `/v1/load-balancers/${id}`)).body).toMatchObject({ unhealthy: [ep1], unhealthyByProbe: [ep1] });
    expect((await call('PATCH', `/v1/load-balancers/${id}`, { unhealthy: [ep1, ep2] })).body).toMatchObject({ unhealthy: [ep1, ep2].sort(), unhealthyByProbe: [ep1] });
    expect((await call('PUT', `/v1/load-balancers/${id}/backends/${ep1}/health`, { healthy: false })).body).toMatchObject({ unhealthyByProbe: [] });
    expect((await call('PATCH', `/v1/load-balancers/${id}`, { unhealthy: [] })).body).toMatchObject({ unhealthy: [], unhealthyByProbe: [] });
    expect((await call('POST', '/v1/load-balancers', { vpc, vip: '10.0.0.200', protocol: 'udp', port: 80, function: 'g' })).body.code).toBe('OVC_ERR_LB_CONFLICT');
    expect((await call('POST', '/v1/load-balancers', { vpc, vip: '10.9.0.1', protocol: 'udp', port: 80, function: 'g' })).body.code).toBe('OVC_ERR_LB_BAD_VIP');
    expect((await call('POST', '/v1/load-balancers', { vpc, vip: '10.0.0.1', protocol: 'udp', port: 81, function: 'g' })).body.code).toBe('OVC_ERR_LB_BAD_VIP');
    expect((await call('PATCH', `/v1/load-balancers/${id}`, { weights: { v1: -1 } })).body.code).toBe('OVC_ERR_API_VALIDATION');
    expect((await call('PATCH', `/v1/load-balancers/${id}`, { weights: { v1: 1.5 } })).body.code).toBe('OVC_ERR_API_VALIDATION');
    expect((await call('DELETE', `/v1/vpcs/${vpc}`)).body.code).toBe('OVC_ERR_VPC_HAS_ENDPOINTS');
    expect((await call('DELETE', `/v1/load-balancers/${id}`)).status).toBe(204);
    expect((await call('GET', `/v1/load-balancers/${id}`)).body.code).toBe('OVC_ERR_LB_NOT_FOUND');
  });

  it('the store keeps elastic IPs and load balancers across a reload', async () => {
    const again = await createIntentService({}, { store });
    expect([...(again.intent().elasticIps?.values() ?? [])].map((x) => x.publicIp).sort()).toEqual([...(intent.intent().elasticIps?.values() ?? [])].map((x) => x.publicIp).sort());
    expect(again.topology.get().gateways?.[0].name).toBe('gw1');
  });
});
