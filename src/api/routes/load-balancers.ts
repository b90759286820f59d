/**
 * Load balancer routes: `/v1/load-balancers[/:id]`, and a backend's health
 * (`PUT /v1/load-balancers/:id/backends/:endpointId/health`). Backends are the endpoints labelled with
 * the LB's function; they join and leave as endpoints come and go. Changes answer once installed.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { OvercastError } from '../../errors/index.js';
import type { IntentService } from '../../controller/intent/index.js';
import type { Endpoint, LoadBalancer } from '../../model/index.js';
import { IdParams, NoContent, PageOnly, pageOf } from '../schemas/common.js';
import { BackendHealthBody, BackendParams, CreateLoadBalancerBody, LoadBalancerJson, UpdateLoadBalancerBody, loadBalancerJson } from '../schemas/elastic-ip.js';
import type { ServiceRouteOptions } from './elastic-ips.js';

/**
 * An operator marks backends only: an endpoint labelled with the LB's function in its VPC, or one that
 * holds a mark already (a backend relabelled since may still be cleared). The health prober, which
 * marks through the intent service directly, only ever probes backends.
 */
function checkBackend(lb: LoadBalancer, e: Endpoint | undefined, endpointId: string): void {
  if (lb.unhealthy.includes(endpointId)) return;
  if (!e) throw new OvercastError('OVC_ERR_ENDPOINT_NOT_FOUND', `no endpoint ${endpointId}`, 'params.endpointId');
  if (e.vpcId !== lb.vpcId || e.labels.function !== lb.function) {
    throw new OvercastError('OVC_ERR_LB_NOT_A_BACKEND', `endpoint ${endpointId} is not a backend of ${lb.id} (function ${lb.function} in ${lb.vpcId})`, 'params.endpointId');
  }
}

export function registerLoadBalancerRoutes(app: FastifyInstance, intent: IntentService, options: ServiceRouteOptions = {}): void {
  const tags = ['load-balancers'];
  const settled = options.settled ?? (() => intent.settled());

  app.post(
    '/v1/load-balancers',
    {
      schema: {
        tags,
        operationId: 'createLoadBalancer',
        summary: 'Create a load balancer',
        description: "A VIP, protocol and port in a VPC over a function's endpoints (those labelled function=<function>), spread by Maglev with revision weights. Answers once installed.",
        body: CreateLoadBalancerBody,
        response: { 201: LoadBalancerJson },
      },
    },
    async (request, reply) => {
      const lb = await intent.loadBalancers.create(request.body as Static<typeof CreateLoadBalancerBody>);
      await settled();
      return reply.status(201).send(loadBalancerJson(lb));
    },
  );

  app.get(
    '/v1/load-balancers',
    { schema: { tags, operationId: 'listLoadBalancers', summary: 'List load balancers', description: 'Load balancers in creation order, a page at a time.', querystring: PageOnly, response: { 200: pageOf(LoadBalancerJson) } } },
    async (request) => {
      const page = await intent.loadBalancers.list(request.query as Static<typeof PageOnly>);
      return { items: page.items.map(loadBalancerJson), next: page.next };
    },
  );

  app.get(
    '/v1/load-balancers/:id',
    { schema: { tags, operationId: 'getLoadBalancer', summary: 'One load balancer', description: 'The load balancer with this id, with its unhealthy backends.', params: IdParams, response: { 200: LoadBalancerJson } } },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      return loadBalancerJson(await intent.loadBalancers.get(id));
    },
  );

  app.patch(
    '/v1/load-balancers/:id',
    {
      schema: {
        tags,
        operationId: 'updateLoadBalancer',
        summary: 'Change weights, unhealthy backends or the elastic IP',
        description: 'Revision weights (a canary split), the set of backends out of the pool, and/or the elastic IP in front (null detaches). Answers once installed.',
        params: IdParams,
        body: UpdateLoadBalancerBody,
        response: { 200: LoadBalancerJson },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const lb = await intent.loadBalancers.update(id, request.body as Static<typeof UpdateLoadBalancerBody>);
      await settled();
      return loadBalancerJson(lb);
    },
  );

  app.put(
    '/v1/load-balancers/:id/backends/:endpointId/health',
    {
      schema: {
        tags,
        operationId: 'setBackendHealth',
        summary: 'Mark a backend healthy or unhealthy',
        description: 'An operator\'s mark: unhealthy takes the backend out of the pool until it is marked healthy again (the health prober does not lift it). The endpoint must be a backend of the load balancer.',
        params: BackendParams,
        body: BackendHealthBody,
        response: { 200: LoadBalancerJson },
      },
    },
    async (request) => {
      const { id, endpointId } = request.params as Static<typeof BackendParams>;
      checkBackend(await intent.loadBalancers.get(id), (await intent.intent()).endpoints.get(endpointId), endpointId);
      const lb = await intent.loadBalancers.setBackendHealth(id, endpointId, (request.body as Static<typeof BackendHealthBody>).healthy);
      await settled();
      return loadBalancerJson(lb);
    },
  );

  app.delete(
    '/v1/load-balancers/:id',
    { schema: { tags, operationId: 'deleteLoadBalancer', summary: 'Delete a load balancer', description: 'Its VIP stops answering once the change is installed.', params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      await intent.loadBalancers.delete(id);
      await settled();
      return reply.status(204).send();
    },
  );
}
