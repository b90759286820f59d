/**
 * `Idempotency-Key` on every create (a POST answering 201): a client that retries a create after a
 * timeout sends the same key and gets the first answer (status and body, with `Idempotent-Replayed:
 * true`) instead of a second object. The same key with another request (method, path or body) is
 * refused (422); while the first is still being processed, a second is refused too (409). Keys are
 * kept per token in an IdempotencyStore for its retention window (24 h). Only answers that created
 * something are kept: a refused create frees its key, so a corrected request may use it again.
 *
 * Create routes are found when they are added (POST with a 201 response) and get the header in their
 * schema, so the OpenAPI document shows it; a route opts out with `config.idempotent: false` (token
 * creation, whose answer holds a secret that must not be stored).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { OvercastError } from '../errors/index.js';
import type { IdempotencyStore } from '../controller/auth/idempotency-store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route honours Idempotency-Key (set for creates when routes are added; false opts out). */
    idempotent?: boolean;
  }
}

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';
/** Owner of the keys of requests made without a token (an API built without auth). */
const ANONYMOUS = '-';

export const IdempotencyHeaders = Type.Object({
  [IDEMPOTENCY_KEY_HEADER]: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'Any printable ASCII text (a UUID, say). A retry with the same key and body gets the first answer instead of a second object; kept 24 h per token.',
    }),
  ),
});

/** Object keys sorted at every depth: the same body written in another key order is the same request. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  ) ?? '';
}

function fingerprint(request: FastifyRequest): string {
  return createHash('sha256').update(`${request.method} ${request.url}\n${canonicalJson(request.body)}`).digest('hex');
}

const reservations = new WeakMap<FastifyRequest, { owner: string; key: string }>();

export function installIdempotency(app: FastifyInstance, store: IdempotencyStore, nowMs: () => number): void {
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    const creates = methods.includes('POST') && Object.keys((route.schema?.response ?? {}) as object).includes('201');
    if (!creates || route.config?.idempotent === false) return;
    route.config = { ...route.config, idempotent: true };
    if (route.schema && !route.schema.headers) route.schema = { ...route.schema, headers: IdempotencyHeaders };
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.config?.idempotent !== true) return;
    const key = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (typeof key !== 'string') return;
    const owner = request.apiToken?.id ?? ANONYMOUS;
    const r = await store.reserve(owner, key, fingerprint(request), nowMs());
    const field = `headers.${IDEMPOTENCY_KEY_HEADER}`;
    if (r.kind === 'mismatch') throw new OvercastError('OVC_ERR_API_IDEMPOTENCY_MISMATCH', 'this Idempotency-Key was used with another request', field);
    if (r.kind === 'in-flight') throw new OvercastError('OVC_ERR_API_IDEMPOTENCY_IN_FLIGHT', 'a request with this Idempotency-Key is still being processed', field);
    if (r.kind === 'replay') {
      return reply.status(r.answer.status).header(IDEMPOTENT_REPLAYED_HEADER, 'true').type('application/json; charset=utf-8').send(r.answer.body);
    }
    reservations.set(request, { owner, key });
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const held = reservations.get(request);
    if (!held) return payload;
    reservations.delete(request);
    if (reply.statusCode >= 200 && reply.statusCode < 300 && typeof payload === 'string') {
      await store.complete(held.owner, held.key, { status: reply.statusCode, body: payload });
    } else {
      await store.release(held.owner, held.key);
    }
    return payload;
  });
}
