/**
 * Event delivery over HTTP: `GET /v1/events`, a server-sent-event stream of controller events (resume
 * with Last-Event-ID, filter with ?types=), and the webhook subscriptions `/v1/webhooks` (in memory).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { Type } from '@sinclair/typebox';
import { OvercastError } from '../../errors/index.js';
import { isControllerEventType, type ControllerEvent, type ControllerEvents } from '../../controller/events.js';
import type { WebhookDispatcher } from '../../controller/webhooks.js';
import { ACCESS_TOKEN_PARAMETER } from '../auth.js';
import { IdParams, NoContent, StrictObject } from '../schemas/common.js';

export const SSE_HEARTBEAT_MS = 15_000;
/** What EventSource waits before reconnecting (sent as `retry:`). */
export const SSE_RETRY_MS = 2000;
/** A client this far behind is cut off; it reconnects and resumes from its Last-Event-ID. */
export const SSE_MAX_BUFFERED_BYTES = 1 << 20;

export interface EventRouteOptions {
  heartbeatMs?: number;
  maxBufferedBytes?: number;
}

const EventsQuery = StrictObject({
  types: Type.Optional(Type.String({ maxLength: 2048, description: 'Comma-separated event types; a prefix ending in .* matches a family (function.*)' })),
  lastEventId: Type.Optional(Type.String({ maxLength: 32, description: 'Resume after this event id (for clients that cannot send the Last-Event-ID header)' })),
  [ACCESS_TOKEN_PARAMETER]: Type.Optional(Type.String({ maxLength: 256, description: 'The bearer token, for EventSource (which cannot set headers); the Authorization header wins when both are sent' })),
});

/** ?types=a,b.* → a predicate; unknown names are refused, every one at once. */
function typeFilter(types: string | undefined): (type: string) => boolean {
  const list = (types ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  if (list.length === 0) return () => true;
  const problems = list.flatMap((t, i) =>
    t.endsWith('.*') || isControllerEventType(t) ? [] : [{ code: 'OVC_ERR_EVENTS_UNKNOWN_TYPE' as const, message: `no event type ${t}`, field: `querystring.types[${i}]` }],
  );
  if (problems.length > 0) throw OvercastError.fromProblems(problems);
  const exact = new Set(list.filter((t) => !t.endsWith('.*')));
  const prefixes = list.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -1));
  return (type) => exact.has(type) || prefixes.some((p) => type.startsWith(p));
}

function parseLastId(raw: string | string[] | undefined): number | undefined {
  const s = Array.isArray(raw) ? raw[0] : raw;
  if (s === undefined || !/^\d{1,15}$/.test(s.trim())) return undefined;
  return Number(s.trim());
}

const frameOf = (e: ControllerEvent) => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

export function registerEventRoutes(app: FastifyInstance, events: ControllerEvents, options: EventRouteOptions = {}): void {
  const heartbeatMs = options.heartbeatMs ?? SSE_HEARTBEAT_MS;
  const maxBuffered = options.maxBufferedBytes ?? SSE_MAX_BUFFERED_BYTES;
  const open = new Set<() => void>();

  // An open stream would keep app.close() waiting for ever: end them all first.
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get(
    '/v1/events',
    {
      config: { tokenInQuery: true },
      schema: {
        tags: ['events'],
        operationId: 'streamEvents',
        summary: 'Controller events as a server-sent-event stream',
        description:
          'Switches connecting and leaving, endpoints, function activation, packets held: one `event:` per controller event, its JSON as `data:`. Resume with Last-Event-ID (or ?lastEventId=); a gap event says when events were missed. A heartbeat comment every 15 s.',
        querystring: EventsQuery,
        response: { 200: { description: 'The stream (text/event-stream), open until the client leaves', content: { 'text/event-stream': { schema: Type.String() } } } },
      },
    },
    (request, reply: FastifyReply) => {
      const query = request.query as { types?: string; lastEventId?: string };
      const wanted = typeFilter(query.types);
      const lastId = parseLastId(request.headers['last-event-id']) ?? parseLastId(query.lastEventId);

      reply.hijack();
      const res: ServerResponse = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // Proxies (nginx) must not buffer the stream.
        'x-accel-buffering': 'no',
      });

      let ended = false;
      let off = () => {};
      // Started first so that `end` (which a replay overflow may call at once) always has it.
      const heartbeat = setInterval(() => write(': heartbeat\n\n'), heartbeatMs);
      heartbeat.unref();
      const end = () => {
        if (ended) return;
        ended = true;
        off();
        clearInterval(heartbeat);
        open.delete(end);
        res.end();
      };
      const write = (chunk: string) => {
        if (ended) return;
        res.write(chunk);
        if (res.writableLength > maxBuffered) end();
      };
      const send = (e: ControllerEvent) => {
        if (wanted(e.type)) write(frameOf(e));
      };

      write(`retry: ${SSE_RETRY_MS}\n: overcast events\n\n`);
      // Replay and subscribe in one synchronous step: no event can fall between them.
      if (lastId !== undefined) {
        const replay = events.since(lastId);
        if (replay.gap) {
          // No id line: the client's Last-Event-ID stays where it was.
          write(`event: gap\ndata: ${JSON.stringify({ lastEventId: lastId, resumedFrom: replay.events[0]?.id ?? events.lastId + 1 })}\n\n`);
        }
        for (const e of replay.events) send(e);
      }
      if (ended) return; // cut off already: the replay alone overflowed the buffer
      off = events.subscribe(send);
      open.add(end);
      res.on('close', end);
      res.on('error', end);
    },
  );
}

const WebhookBody = StrictObject({
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL each event is POSTed to; credentials in it are never shown back or logged' }),
  types: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 64, description: 'Event types (a prefix ending in .* matches a family); none: every event' })),
  secret: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Signs each POST: x-overcast-signature: sha256=<hex HMAC of the body>' })),
});
const WebhookJson = Type.Object({
  id: Type.String(),
  url: Type.String({ description: 'With any credentials replaced by ***' }),
  types: Type.Array(Type.String()),
  queued: Type.Integer(),
  counters: Type.Object({ delivered: Type.Integer(), failed: Type.Integer(), dropped: Type.Integer(), attempts: Type.Integer(), retries: Type.Integer() }),
  lastError: Type.Optional(Type.String()),
});

export function registerWebhookRoutes(app: FastifyInstance, webhooks: WebhookDispatcher): void {
  const tags = ['events'];
  app.post(
    '/v1/webhooks',
    {
      schema: {
        tags,
        operationId: 'createWebhook',
        summary: 'Subscribe a URL to controller events',
        description: 'Each event the subscription wants is POSTed as JSON, in order, retried with backoff. Subscriptions live in memory (gone on restart).',
        body: WebhookBody,
        response: { 201: WebhookJson },
      },
    },
    async (request, reply) => {
      const body = request.body as { url: string; types?: string[]; secret?: string };
      try {
        return reply.status(201).send(await webhooks.add(body));
      } catch (e) {
        // The dispatcher names fields of its input; here they are fields of the body.
        if (e instanceof OvercastError) throw new OvercastError(e.code, e.message, e.field === undefined ? 'body' : `body.${e.field}`);
        throw e;
      }
    },
  );
  app.get(
    '/v1/webhooks',
    { schema: { tags, operationId: 'listWebhooks', summary: 'Webhook subscriptions', description: 'Every subscription with its delivery counters.', response: { 200: Type.Object({ webhooks: Type.Array(WebhookJson) }) } } },
    async () => ({ webhooks: await webhooks.list() }),
  );
  app.get('/v1/webhooks/:id', { schema: { tags, operationId: 'getWebhook', summary: 'One webhook subscription', description: 'The subscription with this id and its delivery counters.', params: IdParams, response: { 200: WebhookJson } } }, async (request) => {
    const { id } = request.params as { id: string };
    const sub = await webhooks.get(id);
    if (!sub) throw new OvercastError('OVC_ERR_WEBHOOK_NOT_FOUND', `no webhook ${id}`, 'params.id');
    return sub;
  });
  app.delete('/v1/webhooks/:id', { schema: { tags, operationId: 'deleteWebhook', summary: 'Unsubscribe', description: 'Stops deliveries; events still queued are dropped.', params: IdParams, response: { 204: NoContent } } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!(await webhooks.remove(id))) throw new OvercastError('OVC_ERR_WEBHOOK_NOT_FOUND', `no webhook ${id}`, 'params.id');
    return reply.status(204).send();
  });
}
