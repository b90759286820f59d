import swagger from '@fastify/swagger';
import fastify from 'fastify';
import { expect, it } from 'vitest';
import { installErrorHandler } from '../../src/api/error-handler.js';
import { registerIntentRoutes } from '../../src/api/routes/vpcs.js';
import { createIntentService } from '../../src/controller/intent/index.js';
import { openIntentStore } from '../../src/controller/store/index.js';

it('documents every intent route, its filters and the error shape in the OpenAPI document', async () => {
  const app = fastify();
  installErrorHandler(app);
  await app.register(swagger, { openapi: { info: { title: 'test', version: '0' } } });
  const store = openIntentStore(':memory:');
  registerIntentRoutes(app, createIntentService({}, { store }));
  await app.ready();
  const doc = app.swagger() as unknown as { paths: Record<string, Record<string, { parameters?: { name: string }[]; responses: Record<string, unknown> }>> };
  expect(Object.keys(doc.paths).sort()).toEqual([
    '/v1/elastic-ips',
    '/v1/elastic-ips/{id}',
    '/v1/endpoints',
    '/v1/endpoints/{id}',
    '/v1/load-balancers',
    '/v1/load-balancers/{id}',
    '/v1/load-balancers/{id}/backends/{endpointId}/health',
    '/v1/topology/links',
    '/v1/topology/links/{id}',
    '/v1/topology/switches',
    '/v1/topology/switches/{name}',
    '/v1/vpcs',
    '/v1/vpcs/{id}',
    '/v1/vpcs/{id}/subnets',
    '/v1/vpcs/{id}/subnets/{subnetId}',
  ]);
  expect(doc.paths['/v1/endpoints'].get.parameters?.map((p) => p.name)).toEqual(['vpc', 'subnet', 'kind', 'dpid', 'label', 'limit', 'cursor']);
  expect(Object.keys(doc.paths['/v1/vpcs'].post.responses)).toEqual(['201', '4XX']);
  await app.close();
  store.close();
});
