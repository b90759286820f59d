/**
 * Elastic IP routes: `/v1/elastic-ips[/:id]`. Allocate from the gateways' pools, associate / move /
 * disassociate (PATCH endpoint), release. A PATCH answers only once the switches have installed the
 * change (`settled`), so "acknowledged" means "no packet reaches the old endpoint any more".
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { IntentService } from '../../controller/intent/index.js';
import { IdParams, NoContent, PageOnly, pageOf } from '../schemas/common.js';
import { AllocateElasticIpBody, ElasticIpJson, UpdateElasticIpBody, elasticIpJson } from '../schemas/elastic-ip.js';

export interface ServiceRouteOptions {
  /** Resolves once every committed change is installed on the switches (barrier replies). */
  settled?: () => Promise<void>;
}

export function registerElasticIpRoutes(app: FastifyInstance, intent: IntentService, options: ServiceRouteOptions = {}): void {
  const tags = ['elastic-ips'];
  const settled = options.settled ?? (() => intent.settled());

  app.post(
    '/v1/elastic-ips',
    {
      schema: {
        tags,
        operationId: 'allocateElasticIp',
        summary: "Allocate a public address from the gateways' pools",
        description: 'The lowest free address of the pools unless `address` names one; with `endpoint`, associated at once. Answers once installed.',
        body: AllocateElasticIpBody,
        response: { 201: ElasticIpJson },
      },
    },
    async (request, reply) => {
      const x = await intent.elasticIps.allocate(request.body as Static<typeof AllocateElasticIpBody>);
      await settled();
      return reply.status(201).send(elasticIpJson(x));
    },
  );

  app.get(
    '/v1/elastic-ips',
    { schema: { tags, operationId: 'listElasticIps', summary: 'List elastic IPs', description: 'Elastic IPs in allocation order, a page at a time.', querystring: PageOnly, response: { 200: pageOf(ElasticIpJson) } } },
    async (request) => {
      const page = await intent.elasticIps.list(request.query as Static<typeof PageOnly>);
      return { items: page.items.map(elasticIpJson), next: page.next };
    },
  );

  app.get('/v1/elastic-ips/:id', { schema: { tags, operationId: 'getElasticIp', summary: 'One elastic IP', description: 'The elastic IP with this id.', params: IdParams, response: { 200: ElasticIpJson } } }, async (request) => {
    const { id } = request.params as Static<typeof IdParams>;
    return elasticIpJson(await intent.elasticIps.get(id));
  });

  app.patch(
    '/v1/elastic-ips/:id',
    {
      schema: {
        tags,
        operationId: 'updateElasticIp',
        summary: 'Associate, move or disassociate an elastic IP',
        description: 'Moves atomically (make-before-break); `endpoint: null` disassociates. Answers once the switches have installed it.',
        params: IdParams,
        body: UpdateElasticIpBody,
        response: { 200: ElasticIpJson },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const x = await intent.elasticIps.update(id, request.body as Static<typeof UpdateElasticIpBody>);
      await settled();
      return elasticIpJson(x);
    },
  );

  app.delete(
    '/v1/elastic-ips/:id',
    { schema: { tags, operationId: 'releaseElasticIp', summary: 'Release an elastic IP', description: 'Returns the address to its pool; refused while it is associated.', params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      await intent.elasticIps.release(id);
      await settled();
      return reply.status(204).send();
    },
  );
}
