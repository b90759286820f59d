/**
 * The REST API's fastify instance with everything but its routes: strict validation, the one error
 * shape (405 included), authentication, idempotent creates, the OpenAPI document and the health
 * check. `buildApi` (./server.ts) adds the routes; tests add the routes they test to one of these.
 */
import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { IdempotencyStore } from '../controller/auth/idempotency-store.js';
import type { TokenService } from '../controller/auth/tokens.js';
import { installAuth } from './auth.js';
import { frameworkErrors, installErrorHandler } from './error-handler.js';
import { installIdempotency } from './idempotency.js';
import { registerOpenApi } from './openapi.js';
import { createStrictValidatorCompiler } from './validation.js';

/** Bodies larger than this are refused (413) before they are parsed. */
export const BODY_LIMIT_BYTES = 1 << 20;
/** Longest path segment (a link id of two 64-character switch names, percent-encoded, fits). */
export const MAX_PARAM_LENGTH = 256;

export interface ApiAppOptions {
  logger?: Logger;
  /** Checks every request's bearer token; without it the API takes anyone (route tests only). */
  tokens?: TokenService;
  /** Keeps Idempotency-Key answers; without it the header is ignored. */
  idempotency?: IdempotencyStore;
  /** Wall-clock milliseconds (idempotency windows). */
  nowMs?: () => number;
}

const NoQuery = Type.Object({}, { additionalProperties: false });

export async function createApiApp(o: ApiAppOptions = {}): Promise<FastifyInstance> {
  const app: FastifyInstance = fastify({
    ...(o.logger ? { loggerInstance: o.logger as FastifyBaseLogger } : {}),
    logController: new LogController({ disableRequestLogging: true }),
    // SSE clients keep connections open; closing the server must not wait for them.
    forceCloseConnections: true,
    // A request that slips in while the server closes is served (or fails in the one error shape),
    // never answered with fastify's own 503 body.
    return503OnClosing: false,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
  });
  app.setValidatorCompiler(createStrictValidatorCompiler());
  // JSON only: a text/plain body is refused as a media type, not read as a string.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('apiToken', undefined);
  installErrorHandler(app);

  // An API route without query parameters refuses any, like a body refuses unknown fields.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1/') && !route.schema?.querystring) route.schema = { ...route.schema, querystring: NoQuery };
  });

  if (o.tokens) installAuth(app, o.tokens);
  if (o.idempotency) installIdempotency(app, o.idempotency, o.nowMs ?? Date.now);
  await registerOpenApi(app);
  app.get('/healthz', { schema: { hide: true }, config: { access: 'public' } }, async () => ({ ok: true }));
  return app;
}
