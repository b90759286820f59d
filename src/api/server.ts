/**
 * The REST API: fastify, schema-first, OpenAPI served at /docs. Thin: validate, call the controller,
 * map errors to the one JSON error shape. Every route but the health check and the docs needs a bearer
 * token (./auth.ts). Routes from outside the controller (the lab's) come in as fastify plugins,
 * registered after the controller's own routes.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { OvercastError } from '../errors/index.js';
import type { ApiServices } from './services.js';
import { createApiApp } from './app.js';
import { registerSwitchRoutes } from './routes/switches.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerTopologyRoutes } from './routes/topology.js';
import { registerEventRoutes, registerWebhookRoutes } from './routes/events.js';
import { registerIntentRoutes } from './routes/vpcs.js';
import { registerTraceRoutes } from './routes/trace.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerTraceBetweenRoutes } from './routes/trace-between.js';
import { registerPageRoutes } from './routes/page.js';
import { registerClusterRoutes } from './routes/cluster.js';

export type { ApiServices };

/** The intent store revision this controller had applied when it answered. */
export const REVISION_HEADER = 'x-overcast-revision';
/** Milliseconds since the controller last knew nothing newer was committed (0: the embedded store). */
export const STALENESS_HEADER = 'x-overcast-staleness-ms';
/** A request's lowest acceptable revision: the controller answers once it has applied it. */
export const MIN_REVISION_HEADER = 'x-overcast-min-revision';
export const MIN_REVISION_WAIT_MS = 5000;

/** Routes registered beside the controller's (e.g. the lab's `/v1/lab/*`). */
export type ApiPlugin = FastifyPluginAsync;

export async function buildApi(services: ApiServices, logger: Logger, plugins: readonly ApiPlugin[] = []): Promise<FastifyInstance> {
  const app = await createApiApp({ logger, tokens: services.tokens, idempotency: services.idempotency, nowMs: services.nowMs });
  const fresh = services.intent;
  if (fresh) {
    // A client that wrote through another controller names the revision it got: the read waits for it.
    app.addHook('onRequest', async (req) => {
      const min = Number(req.headers[MIN_REVISION_HEADER]);
      if (!Number.isSafeInteger(min) || min <= fresh.freshness().revision) return;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new OvercastError('OVC_ERR_STORE_UNAVAILABLE', `revision ${min} did not reach this controller within ${MIN_REVISION_WAIT_MS} ms`)), MIN_REVISION_WAIT_MS);
      });
      try {
        await Promise.race([fresh.applied(min), late]);
      } finally {
        clearTimeout(timer);
      }
    });
    // Every answer says which store revision the state it read was at, and how stale that may be.
    app.addHook('onSend', async (_req, reply) => {
      const f = fresh.freshness();
      void reply.header(REVISION_HEADER, String(f.revision)).header(STALENESS_HEADER, String(f.stalenessMs));
    });
  }
  registerTopologyRoutes(app, services);
  registerSwitchRoutes(app, services);
  registerEventRoutes(app, services.controller.events);
  registerTokenRoutes(app, services.tokens);
  if (services.webhooks) registerWebhookRoutes(app, services.webhooks);
  if (services.intent) registerIntentRoutes(app, services.intent);
  const intent = services.intent;
  if (services.trace) registerTraceRoutes(app, services.trace, intent ? async () => intent.topology.get() : undefined);
  if (services.traceBetween) registerTraceBetweenRoutes(app, services.traceBetween);
  if (services.metrics) registerMetricsRoutes(app, services.metrics);
  if (services.cluster) registerClusterRoutes(app, services.cluster);
  if (services.page) registerPageRoutes(app, services.page);
  for (const plugin of plugins) await app.register(plugin);
  await app.ready();
  return app;
}
