/**
 * POST /v1/trace/between: the path between two things named the way people name them (endpoint ids,
 * host names, addresses), through the compiled tables. The ends are resolved into the packet the
 * source would send (to its neighbour's MAC or to the VPC's gateway), which is traced as POST
 * /v1/trace does. `overcast trace` and the topology page ask this.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ApiServices } from '../services.js';
import { TraceJson } from './trace.js';

const Open = { additionalProperties: true } as const;

const TraceBetweenJson = Type.Object({
  from: Type.Object({}, { ...Open, description: 'The source as resolved: its kind, name, addresses and switch port' }),
  to: Type.Object({}, { ...Open, description: 'The destination as resolved' }),
  dpid: Type.Integer({ description: 'The switch the packet enters' }),
  inPort: Type.Integer(),
  packet: Type.Object({}, { ...Open, description: 'The packet the source sends, addresses as text' }),
  trace: TraceJson,
});

const TraceBetweenBody = Type.Object(
  {
    from: Type.String({ minLength: 1, maxLength: 256, description: 'an endpoint id, a topology host name, or the address of one' }),
    to: Type.String({ minLength: 1, maxLength: 256, description: "an endpoint id, a host name, or any address (looked up in the source's VPC first)" }),
    protocol: Type.Optional(Type.Union([Type.Literal('icmp'), Type.Literal('tcp'), Type.Literal('udp')], { default: 'icmp' })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'destination port (tcp, udp; default 7)' })),
  },
  { additionalProperties: false },
);

export function registerTraceBetweenRoutes(app: FastifyInstance, traceBetween: NonNullable<ApiServices['traceBetween']>): void {
  app.post(
    '/v1/trace/between',
    {
      schema: {
        operationId: 'traceBetween',
        tags: ['trace'],
        summary: 'The path between two endpoints, hosts or addresses through the compiled tables',
        description: 'Resolves both ends, builds the packet the source would send (ICMP echo, or TCP/UDP to `port`) and traces it switch by switch.',
        body: TraceBetweenBody,
        response: { 200: TraceBetweenJson },
      },
    },
    async (request) => traceBetween(request.body as Static<typeof TraceBetweenBody>),
  );
}
