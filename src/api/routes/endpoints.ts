/** Endpoint routes: `/v1/endpoints[/:id]`, with list filters and cursor pagination. */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { OvercastError, type ProblemDetail } from '../../errors/index.js';
import type { IntentService } from '../../controller/intent/index.js';
import { IdParams, NoContent, pageOf } from '../schemas/common.js';
import { CreateEndpointBody, EndpointJson, EndpointQuery, UpdateEndpointBody, endpointJson } from '../schemas/endpoint.js';

/** `?label=function=resize&label=revision=v2` -> { function: 'resize', revision: 'v2' }. */
export function parseLabelFilter(items: readonly string[] | undefined): Record<string, string> | undefined {
  if (!items || items.length === 0) return undefined;
  const labels: Record<string, string> = {};
  const problems: ProblemDetail[] = [];
  items.forEach((item, i) => {
    const eq = item.indexOf('=');
    if (eq < 1) problems.push({ code: 'OVC_ERR_API_VALIDATION', message: `label filter "${item}" is not key=value`, field: `querystring.label[${i}]` });
    else labels[item.slice(0, eq)] = item.slice(eq + 1);
  });
  if (problems.length > 0) throw OvercastError.fromProblems(problems);
  return labels;
}

export function registerEndpointRoutes(app: FastifyInstance, intent: IntentService): void {
  const tags = ['endpoints'];

  app.post(
    '/v1/endpoints',
    {
      schema: {
        tags,
        operationId: 'createEndpoint',
        summary: 'Attach an endpoint to a switch port',
        description:
          "A function instance, container, storage target or host on one switch port of a subnet. Without `ip`, the subnet's lowest free address; without `mac`, a free locally administered MAC.",
        body: CreateEndpointBody,
        response: { 201: EndpointJson },
      },
    },
    async (request, reply) => reply.status(201).send(endpointJson(await intent.endpoints.create(request.body as Static<typeof CreateEndpointBody>))),
  );

  app.get(
    '/v1/endpoints',
    {
      schema: {
        tags,
        operationId: 'listEndpoints',
        summary: 'List endpoints',
        description: 'Endpoints in creation order, filtered by VPC, subnet, kind, switch and labels (all filters must match), a page at a time.',
        querystring: EndpointQuery,
        response: { 200: pageOf(EndpointJson) },
      },
    },
    async (request) => {
      const q = request.query as Static<typeof EndpointQuery>;
      const page = await intent.endpoints.list(
        { vpc: q.vpc, subnet: q.subnet, kind: q.kind, dpid: q.dpid, labels: parseLabelFilter(q.label) },
        { limit: q.limit, cursor: q.cursor },
      );
      return { items: page.items.map(endpointJson), next: page.next };
    },
  );

  app.get('/v1/endpoints/:id', { schema: { tags, operationId: 'getEndpoint', summary: 'One endpoint', description: 'The endpoint with this id.', params: IdParams, response: { 200: EndpointJson } } }, async (request) => {
    const { id } = request.params as Static<typeof IdParams>;
    return endpointJson(await intent.endpoints.get(id));
  });

  app.patch(
    '/v1/endpoints/:id',
    {
      schema: {
        tags,
        operationId: 'updateEndpoint',
        summary: 'Move or relabel an endpoint',
        description: 'Moves the endpoint to another free port and/or replaces its labels whole.',
        params: IdParams,
        body: UpdateEndpointBody,
        response: { 200: EndpointJson },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      return endpointJson(await intent.endpoints.update(id, request.body as Static<typeof UpdateEndpointBody>));
    },
  );

  app.delete(
    '/v1/endpoints/:id',
    { schema: { tags, operationId: 'deleteEndpoint', summary: 'Detach and delete an endpoint', description: 'Frees its port, address and MAC.', params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      await intent.endpoints.delete(id);
      return reply.status(204).send();
    },
  );
}
