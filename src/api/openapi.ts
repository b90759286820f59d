/**
 * The OpenAPI document (`/docs/json`, UI at `/docs`): one a client can be generated from. Routes give
 * their operationId, tag, summary, description and success responses; this module adds what every
 * route shares, from the route's own config: its security (bearer, none on public routes, and the
 * `access_token` query parameter on the event stream), the error responses it can give (all in the one
 * error shape, `#/components/schemas/Error`), and the servers. `test/api/openapi-lint.test.ts` lints
 * the result with Redocly's recommended rules.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ACCESS_TOKEN_PARAMETER, accessOf, type RouteAccess } from './auth.js';

export const ERROR_SCHEMA_ID = 'Error';

/** The one error shape (src/api/error-handler.ts), a shared component of the document. */
export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer({ description: 'The HTTP status, repeated' }),
    code: Type.String({ description: 'A code of src/errors/codes.ts; branch on it, never on message', examples: ['OVC_ERR_SUBNET_OVERLAP'] }),
    error: Type.String({ description: 'The HTTP status text' }),
    message: Type.String(),
    field: Type.String({ description: 'What was wrong: body.<path>, params.<name>, querystring.<name>, headers.<name>, url, method or request', examples: ['body.cidr'] }),
    problems: Type.Optional(
      Type.Array(Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }), {
        description: 'Every problem found, when there are two or more (code and field above are the first)',
      }),
    ),
  },
  { $id: ERROR_SCHEMA_ID, description: 'Every refusal and failure: a typed code and the offending field' },
);

const TAGS = [
  { name: 'topology', description: 'Switches, links and hosts: read the graph, add and remove parts, set links down or up' },
  { name: 'switches', description: 'Connected switches: status, counters and installed flows' },
  { name: 'vpcs', description: 'Tenant networks and their subnets' },
  { name: 'endpoints', description: 'Functions, containers, storage targets and hosts attached to switch ports' },
  { name: 'elastic-ips', description: "Public addresses from the gateways' pools, 1:1 NAT to an endpoint or a load balancer" },
  { name: 'load-balancers', description: "Virtual IPs over a function's instances, weighted by revision, with backend health" },
  { name: 'volumes', description: 'Storage volumes served by storage endpoints, and their attachments to the endpoints that mount them' },
  { name: 'security-groups', description: 'Stateful allow rules attached to endpoints, able to name other groups (docs/security-groups.md)' },
  { name: 'network-acls', description: "A subnet's stateless numbered allow/deny rules" },
  { name: 'trace', description: "A packet's path through the compiled flow tables" },
  { name: 'events', description: 'Controller events as a server-sent-event stream, and webhook subscriptions' },
  { name: 'tokens', description: 'API tokens and their scopes (admin)' },
  { name: 'lab', description: 'Lab hosts and pings (present when the controller runs a lab)' },
  { name: 'metrics', description: 'Prometheus metrics and link rates' },
  { name: 'cluster', description: 'The controllers sharing the intent store, and the master of each switch' },
];

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request does not match its schema, is not JSON, or breaks a rule of the resource',
  401: 'No token, or one this controller did not issue, or a revoked one',
  403: "The token's scope is too low for this operation",
  404: 'No such object (in the path, or named by the body)',
  409: 'The change conflicts with the current state, or a request with the same Idempotency-Key is in flight',
  413: 'The body is larger than 1 MiB',
  415: 'The body is not application/json',
  422: 'The Idempotency-Key was used before with another request',
};

interface RouteLike {
  method: string | string[];
  url: string;
  config?: { access?: RouteAccess; tokenInQuery?: boolean; idempotent?: boolean };
}

interface RouteSchema {
  hide?: boolean;
  body?: unknown;
  params?: unknown;
  response?: Record<string, unknown>;
  security?: unknown;
}

/** The error statuses an operation can answer with, from its method, schema and access. */
function errorStatuses(method: string, schema: RouteSchema, route: RouteLike): number[] {
  const out = new Set<number>([400]);
  if (accessOf(method, route.config) !== 'public') {
    out.add(401);
    out.add(403);
  }
  if (schema.params !== undefined || method !== 'GET') out.add(404);
  if (method !== 'GET' && route.config?.access !== 'read') out.add(409);
  if (schema.body !== undefined) {
    out.add(413);
    out.add(415);
  }
  if (route.config?.idempotent) out.add(422);
  return [...out].sort((a, b) => a - b);
}

function securityOf(method: string, route: RouteLike): unknown {
  if (accessOf(method, route.config) === 'public') return [];
  return route.config?.tokenInQuery ? [{ bearer: [] }, { accessToken: [] }] : undefined;
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  app.addSchema(ErrorSchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Overcast',
        description: 'Network virtualization for functions, containers and volumes: intent in, flows out. Every route but the health check and this document needs a bearer token.',
        version: '0.1.0',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      servers: [
        {
          url: 'http://{host}:{port}',
          description: 'A controller (`overcast controller --api-host HOST --api-port PORT`)',
          variables: { host: { default: '127.0.0.1' }, port: { default: '8080' } },
        },
      ],
      tags: TAGS,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A token from `overcast token create` or `POST /v1/tokens`' },
          accessToken: { type: 'apiKey', in: 'query', name: ACCESS_TOKEN_PARAMETER, description: 'The same token as a query parameter, for EventSource (the event stream only)' },
        },
      },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const s = (schema ?? {}) as RouteSchema;
      if (s.hide) return { schema, url };
      const method = [route.method].flat()[0];
      const errors = Object.fromEntries(errorStatuses(method, s, route as RouteLike).map((status) => [status, { $ref: `${ERROR_SCHEMA_ID}#`, description: ERROR_DESCRIPTIONS[status] }]));
      const security = securityOf(method, route as RouteLike);
      return { schema: { ...s, response: { ...errors, ...s.response }, ...(security === undefined ? {} : { security }) } as typeof schema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
