/**
 * The REST API: fastify, schema-first, OpenAPI served at /docs. Thin: validate, call the controller,
 * map errors to the one JSON error shape. Every route but the health check and the docs needs a bearer
 * token (./auth.ts). Routes from outside the controller (the lab's) come in as fastify plugins,
 * registered after the controller's own routes.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
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

export type { ApiServices };

/** Routes registered beside the controller's (e.g. the lab's `/v1/lab/*`). */
export type ApiPlugin = FastifyPluginAsync;

export async function buildApi(services: ApiServices, logger: Logger, plugins: readonly ApiPlugin[] = []): Promise<FastifyInstance> {
  const app = await createApiApp({ logger, tokens: services.tokens, idempotency: services.idempotency, nowMs: services.nowMs });
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
  if (services.page) registerPageRoutes(app, services.page);
  for (const plugin of plugins) await app.register(plugin);
  await app.ready();
  return app;
}
