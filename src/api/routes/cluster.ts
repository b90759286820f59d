/** GET /v1/cluster: the controllers sharing the intent store, and which one masters each switch. */
import type { FastifyInstance } from 'fastify';
import type { ApiServices } from '../services.js';
import { ClusterJson } from '../schemas/cluster.js';

export function registerClusterRoutes(app: FastifyInstance, cluster: NonNullable<ApiServices['cluster']>): void {
  app.get(
    '/v1/cluster',
    {
      schema: {
        tags: ['cluster'],
        operationId: 'getCluster',
        summary: 'The controllers of the cluster and the master of each switch',
        description: 'A single controller on its embedded store is a cluster of one that masters every switch. docs/cluster.md.',
        response: { 200: ClusterJson },
      },
    },
    async () => cluster(),
  );
}
