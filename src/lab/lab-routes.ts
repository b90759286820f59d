/**
 * `/v1/lab/*`: the lab's REST routes, a fastify plugin the CLI hands to the controller's API when the
 * controller runs a lab plan (the controller itself knows nothing of labs).
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { LabService } from './lab-service.js';

const PingBody = Type.Object(
  {
    from: Type.String({ minLength: 1, maxLength: 64, description: 'A lab host, or an attached endpoint (by id or address)' }),
    to: Type.String({ minLength: 1, maxLength: 64, description: 'A lab host, an endpoint (id) or an address' }),
    count: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
    timeoutMs: Type.Integer({ minimum: 10, maximum: 30000, default: 1000, description: 'Wait per echo request' }),
  },
  { additionalProperties: false },
);

const HostJson = Type.Object({
  name: Type.String(),
  mac: Type.String(),
  ip: Type.String(),
  control: Type.String({ description: "The host's control API" }),
  endpoint: Type.Optional(Type.String({ description: 'The endpoint an attached test host stands for' })),
});

const HostsJson = Type.Object({ hosts: Type.Array(HostJson) });

const AttachBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 1, maxLength: 64, description: 'The endpoint id' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$', description: 'The host name (default: the endpoint id)' })),
  },
  { additionalProperties: false },
);

const AttachJson = Type.Composite([HostJson, Type.Object({ switch: Type.String(), port: Type.Integer(), endpoint: Type.String() })]);

const PingJson = Type.Object({
  from: Type.String(),
  to: Type.String(),
  sent: Type.Integer(),
  received: Type.Integer(),
  replies: Type.Array(Type.Object({ seq: Type.Integer(), ttl: Type.Integer(), rttMs: Type.Number() })),
  path: Type.Array(Type.String(), { description: 'The request through the compiled tables: source, switch(in N, out M)..., destination (or where it drops)' }),
});

export function labRoutes(lab: LabService): FastifyPluginAsync {
  return async (app) => {
    const tags = ['lab'];
    app.get(
      '/v1/lab/hosts',
      { schema: { tags, operationId: 'listLabHosts', summary: 'Lab hosts', description: "The lab's test hosts with their addresses and control APIs.", response: { 200: HostsJson } } },
      async () => ({ hosts: lab.hosts() }),
    );
    app.post(
      '/v1/lab/ping',
      {
        schema: {
          tags,
          operationId: 'labPing',
          summary: 'ICMP echo from a lab host or an attached endpoint',
          description: 'The source (a lab host, or the test host of an endpoint by id or address) sends echo requests to a host, an endpoint or an address; the answer counts replies and gives the path the compiled tables take.',
          body: PingBody,
          response: { 200: PingJson },
        },
      },
      async (request) => {
        const b = request.body as Static<typeof PingBody>;
        return lab.ping(b.from, b.to, b.count, b.timeoutMs);
      },
    );
    app.post(
      '/v1/lab/attach',
      {
        schema: {
          tags,
          operationId: 'labAttach',
          summary: "A test host on a VPC endpoint's switch port",
          description: "Starts a test host with the endpoint's MAC and IP on its switch port (softswitch labs), so lab pings work from and to the endpoint.",
          body: AttachBody,
          response: { 201: AttachJson },
        },
      },
      async (request, reply) => {
        const b = request.body as Static<typeof AttachBody>;
        return reply.status(201).send(await lab.attach(b.endpoint, b.name));
      },
    );
  };
}
