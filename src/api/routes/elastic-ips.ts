/**
 * Elastic IP routes: `/v1/elastic-ips[/:id]`. Allocate from the gateways' pools, associate / move /
 * disassociate (PATCH endpoint), release. A PATCH answers only once the switches have installed the
 * change (`settled`), so "acknowledged" means "no packet reaches the old endpoint any more".
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { IntentService } from '../../controller/intent/index.js';
import { ErrorReply, IdParams, PageQuery, pageOf, refuseUnknownFields } from '../schemas/common.js';
import { AllocateElasticIpBody, ElasticIpJson, UpdateElasticIpBody, elasticIpJson } from '../schemas/elastic-ip.js';

const errors = { '4xx': ErrorReply };
const PageOnly = Type.Object(PageQuery);

export interface ServiceRouteOptions {
  /** Resolves once every committed change is installed on the switches (barrier replies). */
  settled?: () => Promise<void>;
}

export function registerElasticIpRoutes(app: FastifyInstance, intent: IntentService, options: ServiceRouteOptions = {}): void {
  const tags = ['elastic-ips'];
  const settled = options.settled ?? (() => intent.settled());

  app.post(
    '/v1/elastic-ips',
    { schema: { tags, summary: "Allocate a public address from the gateways' pools (optionally associated at once)", body: AllocateElasticIpBody, response: { 201: ElasticIpJson, ...errors } } },
    async (request, reply) => {
      refuseUnknownFields(request.body, AllocateElasticIpBody, 'body');
      const x = intent.elasticIps.allocate(request.body as Static<typeof AllocateElasticIpBody>);
      await settled();
      return reply.status(201).send(elasticIpJson(x));
    },
  );

  app.get('/v1/elastic-ips', { schema: { tags, summary: 'List elastic IPs', querystring: PageOnly, response: { 200: pageOf(ElasticIpJson), ...errors } } }, async (request) => {
    const page = intent.elasticIps.list(request.query as Static<typeof PageOnly>);
    return { items: page.items.map(elasticIpJson), next: page.next };
  });

  app.get('/v1/elastic-ips/:id', { schema: { tags, summary: 'One elastic IP', params: IdParams, response: { 200: ElasticIpJson, ...errors } } }, async (request) => {
    const { id } = request.params as Static<typeof IdParams>;
    return elasticIpJson(intent.elasticIps.get(id));
  });

  app.patch(
    '/v1/elastic-ips/:id',
    {
      schema: {
        tags,
        summary: 'Associate, move (atomically, make-before-break) or disassociate (endpoint: null); answers once installed',
        params: IdParams,
        body: UpdateElasticIpBody,
        response: { 200: ElasticIpJson, ...errors },
      },
    },
    async (request) => {
      refuseUnknownFields(request.body, UpdateElasticIpBody, 'body');
      const { id } = request.params as Static<typeof IdParams>;
      const x = intent.elasticIps.update(id, request.body as Static<typeof UpdateElasticIpBody>);
      await settled();
      return elasticIpJson(x);
    },
  );

  app.delete('/v1/elastic-ips/:id', { schema: { tags, summary: 'Release the address (refused while associated)', params: IdParams, response: errors } }, async (request, reply) => {
    const { id } = request.params as Static<typeof IdParams>;
    intent.elasticIps.release(id);
    await settled();
    return reply.status(204).send();
  });
}
