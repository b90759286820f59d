/**
 * Load balancer routes: `/v1/load-balancers[/:id]`, and a backend's health
 * (`PUT /v1/load-balancers/:id/backends/:endpointId/health`). Backends are the endpoints labelled with
 * the LB's function; they join and leave as endpoints come and go. Changes answer once installed.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { IntentService } from '../../controller/intent/index.js';
import { ErrorReply, IdParams, PageQuery, pageOf, refuseUnknownFields } from '../schemas/common.js';
import { BackendHealthBody, BackendParams, CreateLoadBalancerBody, LoadBalancerJson, UpdateLoadBalancerBody, loadBalancerJson } from '../schemas/elastic-ip.js';
import type { ServiceRouteOptions } from './elastic-ips.js';

const errors = { '4xx': ErrorReply };
const PageOnly = Type.Object(PageQuery);

export function registerLoadBalancerRoutes(app: FastifyInstance, intent: IntentService, options: ServiceRouteOptions = {}): void {
  const tags = ['load-balancers'];
  const settled = options.settled ?? (() => intent.settled());

  app.post(
    '/v1/load-balancers',
    { schema: { tags, summary: "Create a load balancer: VIP/protocol/port in a VPC over a function's endpoints", body: CreateLoadBalancerBody, response: { 201: LoadBalancerJson, ...errors } } },
    async (request, reply) => {
      refuseUnknownFields(request.body, CreateLoadBalancerBody, 'body');
      const lb = intent.loadBalancers.create(request.body as Static<typeof CreateLoadBalancerBody>);
      await settled();
      return reply.status(201).send(loadBalancerJson(lb));
    },
  );

  app.get('/v1/load-balancers', { schema: { tags, summary: 'List load balancers', querystring: PageOnly, response: { 200: pageOf(LoadBalancerJson), ...errors } } }, async (request) => {
    const page = intent.loadBalancers.list(request.query as Static<typeof PageOnly>);
    return { items: page.items.map(loadBalancerJson), next: page.next };
  });

  app.get('/v1/load-balancers/:id', { schema: { tags, summary: 'One load balancer', params: IdParams, response: { 200: LoadBalancerJson, ...errors } } }, async (request) => {
    const { id } = request.params as Static<typeof IdParams>;
    return loadBalancerJson(intent.loadBalancers.get(id));
  });

  app.patch(
    '/v1/load-balancers/:id',
    { schema: { tags, summary: 'Change revision weights (a canary split), the unhealthy backends and/or the elastic IP', params: IdParams, body: UpdateLoadBalancerBody, response: { 200: LoadBalancerJson, ...errors } } },
    async (request) => {
      refuseUnknownFields(request.body, UpdateLoadBalancerBody, 'body');
      const { id } = request.params as Static<typeof IdParams>;
      const lb = intent.loadBalancers.update(id, request.body as Static<typeof UpdateLoadBalancerBody>);
      await settled();
      return loadBalancerJson(lb);
    },
  );

  app.put(
    '/v1/load-balancers/:id/backends/:endpointId/health',
    { schema: { tags, summary: 'Mark a backend healthy (back in the pool) or unhealthy (out of it)', params: BackendParams, body: BackendHealthBody, response: { 200: LoadBalancerJson, ...errors } } },
    async (request) => {
      refuseUnknownFields(request.body, BackendHealthBody, 'body');
      const { id, endpointId } = request.params as Static<typeof BackendParams>;
      const lb = intent.loadBalancers.setBackendHealth(id, endpointId, (request.body as Static<typeof BackendHealthBody>).healthy);
      await settled();
      return loadBalancerJson(lb);
    },
  );

  app.delete('/v1/load-balancers/:id', { schema: { tags, summary: 'Delete a load balancer', params: IdParams, response: errors } }, async (request, reply) => {
    const { id } = request.params as Static<typeof IdParams>;
    intent.loadBalancers.delete(id);
    await settled();
    return reply.status(204).send();
  });
}
