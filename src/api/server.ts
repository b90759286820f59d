/**
 * The REST API: fastify, schema-first, OpenAPI served at /docs. Thin: validate, call the controller,
 * map errors to the one JSON error shape. Routes from outside the controller (the lab's) come in as
 * fastify plugins, registered after the controller's own routes.
 */
import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import type { ApiServices } from './services.js';
import { installErrorHandler } from './error-handler.js';
import { registerSwitchRoutes } from './routes/switches.js';
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
  const app: FastifyInstance = fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // SSE clients keep connections open; closing the server must not wait for them.
    forceCloseConnections: true,
    ajv: { customOptions: { allErrors: false } },
  });
  installErrorHandler(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Overcast', description: 'Network virtualization for functions, containers and volumes', version: '0.1.0' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  registerTopologyRoutes(app, services);
  registerSwitchRoutes(app, services);
  registerEventRoutes(app, services.controller.events);
  if (services.webhooks) registerWebhookRoutes(app, services.webhooks);
  if (services.intent) registerIntentRoutes(app, services.intent);
  if (services.trace) registerTraceRoutes(app, services.trace);
  if (services.traceBetween) registerTraceBetweenRoutes(app, services.traceBetween);
  if (services.metrics) registerMetricsRoutes(app, services.metrics);
  if (services.page) registerPageRoutes(app, services.page);
  for (const plugin of plugins) await app.register(plugin);
  await app.ready();
  return app;
}
