/** Endpoint routes: `/v1/endpoints[/:id]`, with list filters and cursor pagination. */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { OvercastError, type ProblemDetail } from '../../errors/index.js';
import type { IntentService } from '../../controller/intent/index.js';
import { ErrorReply, IdParams, pageOf, refuseUnknownFields } from '../schemas/common.js';
import { CreateEndpointBody, EndpointJson, EndpointQuery, UpdateEndpointBody, endpointJson } from '../schemas/endpoint.js';

const errors = { '4xx': ErrorReply };

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
        summary: 'Attach an endpoint to a switch port (IP and MAC allocated when absent)',
        body: CreateEndpointBody,
        response: { 201: EndpointJson, ...errors },
      },
    },
    async (request, reply) => {
      refuseUnknownFields(request.body, CreateEndpointBody, 'body');
      return reply.status(201).send(endpointJson(intent.endpoints.create(request.body as Static<typeof CreateEndpointBody>)));
    },
  );

  app.get(
    '/v1/endpoints',
    { schema: { tags, summary: 'List endpoints, filtered by vpc, subnet, kind, dpid and labels', querystring: EndpointQuery, response: { 200: pageOf(EndpointJson), ...errors } } },
    async (request) => {
      const q = request.query as Static<typeof EndpointQuery>;
      const page = intent.endpoints.list(
        { vpc: q.vpc, subnet: q.subnet, kind: q.kind, dpid: q.dpid, labels: parseLabelFilter(q.label) },
        { limit: q.limit, cursor: q.cursor },
      );
      return { items: page.items.map(endpointJson), next: page.next };
    },
  );

  app.get('/v1/endpoints/:id', { schema: { tags, summary: 'One endpoint', params: IdParams, response: { 200: EndpointJson, ...errors } } }, async (request) => {
    const { id } = request.params as Static<typeof IdParams>;
    return endpointJson(intent.endpoints.get(id));
  });

  app.patch(
    '/v1/endpoints/:id',
    { schema: { tags, summary: 'Move an endpoint to another port and/or replace its labels', params: IdParams, body: UpdateEndpointBody, response: { 200: EndpointJson, ...errors } } },
    async (request) => {
      refuseUnknownFields(request.body, UpdateEndpointBody, 'body');
      const { id } = request.params as Static<typeof IdParams>;
      return endpointJson(intent.endpoints.update(id, request.body as Static<typeof UpdateEndpointBody>));
    },
  );

  app.delete('/v1/endpoints/:id', { schema: { tags, summary: 'Detach and delete an endpoint', params: IdParams, response: errors } }, async (request, reply) => {
    const { id } = request.params as Static<typeof IdParams>;
    intent.endpoints.delete(id);
    return reply.status(204).send();
  });
}
