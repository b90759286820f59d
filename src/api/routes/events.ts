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

export const SSE_HEARTBEAT_MS = 15_000;
/** What EventSource waits before reconnecting (sent as `retry:`). */
export const SSE_RETRY_MS = 2000;
/** A client this far behind is cut off; it reconnects and resumes from its Last-Event-ID. */
export const SSE_MAX_BUFFERED_BYTES = 1 << 20;

export interface EventRouteOptions {
  heartbeatMs?: number;
  maxBufferedBytes?: number;
}

const EventsQuery = Type.Object(
  {
    types: Type.Optional(Type.String({ description: 'Comma-separated event types; a prefix ending in .* matches a family (function.*)' })),
    lastEventId: Type.Optional(Type.String({ description: 'Resume after this event id (for clients that cannot send the Last-Event-ID header)' })),
  },
  { additionalProperties: false },
);

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
      schema: {
        tags: ['events'],
        summary: 'Controller events as a server-sent-event stream (resume with Last-Event-ID)',
        querystring: EventsQuery,
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

const WebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    types: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 64 })),
    secret: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) });

export function registerWebhookRoutes(app: FastifyInstance, webhooks: WebhookDispatcher): void {
  app.post('/v1/webhooks', { schema: { tags: ['events'], summary: 'Subscribe a URL to controller events (in memory)', body: WebhookBody } }, async (request, reply) => {
    const body = request.body as { url: string; types?: string[]; secret?: string };
    try {
      return reply.status(201).send(webhooks.add(body));
    } catch (e) {
      // The dispatcher names fields of its input; here they are fields of the body.
      if (e instanceof OvercastError) throw new OvercastError(e.code, e.message, e.field === undefined ? 'body' : `body.${e.field}`);
      throw e;
    }
  });
  app.get('/v1/webhooks', { schema: { tags: ['events'], summary: 'Webhook subscriptions with delivery counters' } }, async () => ({ webhooks: webhooks.list() }));
  app.get('/v1/webhooks/:id', { schema: { tags: ['events'], summary: 'One webhook subscription', params: IdParams } }, async (request) => {
    const { id } = request.params as { id: string };
    const sub = webhooks.get(id);
    if (!sub) throw new OvercastError('OVC_ERR_WEBHOOK_NOT_FOUND', `no webhook ${id}`, 'params.id');
    return sub;
  });
  app.delete('/v1/webhooks/:id', { schema: { tags: ['events'], summary: 'Unsubscribe', params: IdParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!webhooks.remove(id)) throw new OvercastError('OVC_ERR_WEBHOOK_NOT_FOUND', `no webhook ${id}`, 'params.id');
    return reply.status(204).send();
  });
}
