/**
 * `/v1/lab/*`: the lab's REST routes, a fastify plugin the CLI hands to the controller's API when the
 * controller runs a lab plan (the controller itself knows nothing of labs).
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { LabService } from './lab-service.js';

const PingBody = Type.Object(
  {
    from: Type.String({ minLength: 1, maxLength: 64, description: 'Lab host name' }),
    to: Type.String({ minLength: 1, maxLength: 64, description: 'Lab host name' }),
    count: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
    timeoutMs: Type.Integer({ minimum: 10, maximum: 30000, default: 1000, description: 'Wait per echo request' }),
  },
  { additionalProperties: false },
);

const HostsJson = Type.Object({
  hosts: Type.Array(Type.Object({ name: Type.String(), mac: Type.String(), ip: Type.String(), control: Type.String({ description: "The host's control API" }) })),
});

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
          summary: 'ICMP echo between two lab hosts',
          description: 'The source host sends echo requests to the destination; the answer counts replies and gives the path the compiled tables take.',
          body: PingBody,
          response: { 200: PingJson },
        },
      },
      async (request) => {
        const b = request.body as Static<typeof PingBody>;
        return lab.ping(b.from, b.to, b.count, b.timeoutMs);
      },
    );
  };
}
