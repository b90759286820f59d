import type { FastifyInstance } from 'fastify';
import type { ApiServices } from '../services.js';

export function registerTopologyRoutes(app: FastifyInstance, services: ApiServices): void {
  app.get('/v1/topology', { schema: { tags: ['topology'], summary: 'The topology: switches, links and hosts' } }, async () =>
    services.topology(),
  );
}
