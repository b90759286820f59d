/**
 * `/v1/lab/*`: the lab's REST routes, a fastify plugin the CLI hands to the controller's API when the
 * controller runs a lab plan (the controller itself knows nothing of labs).
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { LabService } from './lab-service.js';

const PingBody = Type.Object({
  from: Type.String({ minLength: 1, description: 'a lab host, or an attached endpoint (by id or address)' }),
  to: Type.String({ minLength: 1, description: 'a lab host, an endpoint (id) or an address' }),
  count: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
  timeoutMs: Type.Integer({ minimum: 10, maximum: 30000, default: 1000 }),
});

const AttachBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 1, description: 'the endpoint id' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$', description: 'the host name (default: the endpoint id)' })),
  },
  { additionalProperties: false },
);

export function labRoutes(lab: LabService): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/lab/hosts', { schema: { tags: ['lab'], summary: 'Lab hosts and their control addresses' } }, async () => ({ hosts: lab.hosts() }));
    app.post('/v1/lab/ping', { schema: { tags: ['lab'], summary: 'ICMP echo from one lab host to another, with the path from the compiled tables', body: PingBody } }, async (request) => {
      const b = request.body as Static<typeof PingBody>;
      return lab.ping(b.from, b.to, b.count, b.timeoutMs);
    });
    app.post(
      '/v1/lab/attach',
      { schema: { tags: ['lab'], summary: "Start a test host on a VPC endpoint's switch port, with the endpoint's addresses", body: AttachBody } },
      async (request, reply) => {
        const b = request.body as Static<typeof AttachBody>;
        return reply.status(201).send(await lab.attach(b.endpoint, b.name));
      },
    );
  };
}
