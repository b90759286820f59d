/**
 * GET /metrics: the controller's Prometheus metrics (text format). GET /v1/stats/links: each link's
 * current packet and byte rates, per direction, from the polled port counters (the topology page draws
 * them). Also the hook that times every REST request by its route pattern (never the raw URL, so
 * label values stay bounded).
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ApiServices } from '../services.js';

type Metrics = NonNullable<ApiServices['metrics']>;

/** The label for requests no route matched (404s): raw URLs would make one series per URL. */
const UNMATCHED_ROUTE = 'unmatched';

const PortRef = Type.Object({ switch: Type.String(), port: Type.Integer() });
const Rate = Type.Object({}, { additionalProperties: true, description: 'Packets and bytes per second in one direction' });
const LinkRatesJson = Type.Object({
  links: Type.Array(Type.Object({ id: Type.String(), a: PortRef, b: PortRef, up: Type.Boolean(), aToB: Type.Optional(Rate), bToA: Type.Optional(Rate) })),
});

export function registerMetricsRoutes(app: FastifyInstance, { registry, linkRates }: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    registry.httpSeconds.observe(
      { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  app.get('/metrics', {
      schema: {
        operationId: 'getMetrics',
        tags: ['metrics'],
        summary: 'Prometheus metrics of the controller (text exposition format)',
        description: 'Switches, traffic per endpoint, function, load balancer and elastic IP, durations, events, webhooks (docs/observability.md).',
        response: { 200: { description: 'The metrics in the Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    }, async (_request, reply) => {
    const text = await registry.text();
    return reply.type(registry.contentType).send(text);
  });

  app.get('/v1/stats/links', {
      schema: {
        operationId: 'getLinkStats',
        tags: ['metrics'],
        summary: "Every link's state and current packet and byte rates, per direction",
        description: 'Rates come from the port counters the controller polls (every --stats-interval-ms); absent until two polls.',
        response: { 200: LinkRatesJson },
      },
    }, async () => ({
    links: linkRates(),
  }));
}
