import type { FastifyInstance } from 'fastify';
import type { ApiServices } from '../services.js';
import { TopologyJson } from '../schemas/topology.js';

export function registerTopologyRoutes(app: FastifyInstance, services: ApiServices): void {
  app.get(
    '/v1/topology',
    {
      schema: {
        tags: ['topology'],
        operationId: 'getTopology',
        summary: 'The topology',
        description: 'Switches with their ports, links (with their id and whether they are up) and the topology file\'s hosts.',
        response: { 200: TopologyJson },
      },
    },
    async () => services.topology(),
  );
}
