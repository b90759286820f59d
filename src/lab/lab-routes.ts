/**
 * `/v1/lab/*`: the lab's REST routes, a fastify plugin the CLI hands to the controller's API when the
 * controller runs a lab plan (the controller itself knows nothing of labs).
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { LabService } from './lab-service.js';

const PingBody = Type.Object({
  from: Type.String({ minLength: 1 }),
  to: Type.String({ minLength: 1 }),
  count: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
  timeoutMs: Type.Integer({ minimum: 10, maximum: 30000, default: 1000 }),
});

export function labRoutes(lab: LabService): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/lab/hosts', { schema: { tags: ['lab'], summary: 'Lab hosts and their control addresses' } }, async () => ({ hosts: lab.hosts() }));
    app.post('/v1/lab/ping', { schema: { tags: ['lab'], summary: 'ICMP echo from one lab host to another, with the path from the compiled tables', body: PingBody } }, async (request) => {
      const b = request.body as Static<typeof PingBody>;
      return lab.ping(b.from, b.to, b.count, b.timeoutMs);
    });
  };
}
