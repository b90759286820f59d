/**
 * Webhooks against a real HTTP receiver on 127.0.0.1: retries with exponential backoff on non-2xx,
 * network errors and timeouts; order per subscription; counted failures and drops; signatures; the
 * /v1/webhooks routes.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../../../src/api/error-handler.js';
import { registerWebhookRoutes } from '../../../src/api/routes/events.js';
import { ControllerEvents, type ControllerEvent } from '../../../src/controller/events.js';
import { createWebhookDispatcher, type WebhookDispatcherOptions } from '../../../src/controller/webhooks.js';
import { waitFor } from '../../support/wait-for.js';

interface Received {
  body: ControllerEvent;
  raw: string;
  headers: http.IncomingHttpHeaders;
  status: number;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A receiver that answers each request with `answer(eventId, attempt)` (a status, or 'hang'). */
async function receiver(answer: (eventId: number, attempt: number) => number | 'hang' = () => 200) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as ControllerEvent;
      const a = answer(body.id, Number(req.headers['x-overcast-delivery-attempt']));
      if (a === 'hang') return;
      got.push({ body, raw, headers: req.headers, status: a });
      res.writeHead(a).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, got, delivered: () => got.filter((g) => g.status < 300) };
}

function dispatcher(options: WebhookDispatcherOptions = {}) {
  const delays: number[] = [];
  const events = new ControllerEvents();
  const d = createWebhookDispatcher(
    { maxAttempts: 4, backoff: { initialMs: 10, factor: 2, maxMs: 35 }, timeoutMs: 2000, ...options },
    {
      // Record the backoff the dispatcher asks for (the request timeout is the other timer it sets).
      setTimeout: (fn, ms) => {
        if (ms !== (options.timeoutMs ?? 2000)) delays.push(ms);
        return setTimeout(fn, ms);
      },
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
  );
  cleanups.push(() => d.close());
  const off = d.attach(events);
  cleanups.push(off);
  return { d, events, delays };
}

const disc = (dpid: number) => ({ type: 'switch.disconnected' as const, dpid, reason: 'test' });

describe('webhook dispatcher', () => {
  it('POSTs each event as JSON, retrying non-2xx answers with exponential backoff', async () => {
    const r = await receiver((_id, attempt) => (attempt < 3 ? 503 : 204));
    const { d, events, delays } = dispatcher();
    const sub = await d.add({ url: r.url });
    const e = events.emit(disc(7));
    await d.idle();
    expect(r.got.map((g) => g.status)).toEqual([503, 503, 204]);
    expect(r.got.map((g) => g.headers['x-overcast-delivery-attempt'])).toEqual(['1', '2', '3']);
    expect(JSON.parse(r.got[2].raw)).toEqual(e);
    expect(r.got[2].headers['content-type']).toBe('application/json');
    expect(r.got[2].headers['x-overcast-event']).toBe('switch.disconnected');
    expect(r.got[2].headers['x-overcast-event-id']).toBe(String(e.id));
    expect(delays).toEqual([10, 20]);
    expect(d.get(sub.id)?.counters).toEqual({ delivered: 1, failed: 0, dropped: 0, attempts: 3, retries: 2 });
  });

  it('backoff is capped at maxMs; after maxAttempts the event is counted failed and the next one goes', async () => {
    const r = await receiver((id) => (id === 1 ? 500 : 200));
    const { d, events, delays } = dispatcher();
    const sub = await d.add({ url: r.url });
    events.emit(disc(1));
    events.emit(disc(2));
    await d.idle();
    expect(delays).toEqual([10, 20, 35]);
    expect(r.got.map((g) => [g.body.id, g.status])).toEqual([
      [1, 500],
      [1, 500],
      [1, 500],
      [1, 500],
      [2, 200],
    ]);
    expect(d.get(sub.id)).toMatchObject({ queued: 0, lastError: 'HTTP 500', counters: { delivered: 1, failed: 1, attempts: 5, retries: 3 } });
  });

  it('keeps event order per subscription while one is being retried', async () => {
    const r = await receiver((id, attempt) => (id === 1 && attempt < 3 ? 502 : 200));
    const { d, events } = dispatcher();
    await d.add({ url: r.url });
    for (let i = 1; i <= 4; i++) events.emit(disc(i));
    await d.idle();
    expect(r.delivered().map((g) => g.body.id)).toEqual([1, 2, 3, 4]);
  });

  it('retries network errors and timeouts, then gives up and counts them', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const hang = await receiver(() => 'hang');
    const { d, events } = dispatcher({ maxAttempts: 2, timeoutMs: 100 });
    const refused = await d.add({ url: `http://127.0.0.1:${deadPort}/x` });
    const slow = await d.add({ url: hang.url });
    events.emit(disc(1));
    await d.idle();
    expect(d.get(refused.id)?.counters).toMatchObject({ delivered: 0, failed: 1, attempts: 2, retries: 1 });
    expect(d.get(slow.id)?.counters).toMatchObject({ delivered: 0, failed: 1, attempts: 2 });
    expect(d.get(slow.id)?.lastError).toMatch(/timeout/);
  });

  it('bounds each queue and counts what did not fit', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const hits: number[] = [];
    const events = new ControllerEvents();
    // A receiver that does not answer until the gate opens: the first event stays in flight.
    const fetchGated: typeof fetch = async (_url, init) => {
      hits.push((JSON.parse(String(init?.body)) as ControllerEvent).id);
      await gate;
      return new Response('ok', { status: 200 });
    };
    const gated = createWebhookDispatcher({ queueLimit: 2 }, { fetch: fetchGated });
    cleanups.push(() => gated.close());
    const sub = await gated.add({ url: 'http://127.0.0.1:9/never-called' });
    for (let i = 1; i <= 5; i++) gated.dispatch(events.emit(disc(i)));
    expect(gated.get(sub.id)).toMatchObject({ queued: 2, counters: { dropped: 3 } });
    release();
    await gated.idle();
    expect(hits).toEqual([1, 2]);
    expect(gated.get(sub.id)?.counters).toMatchObject({ delivered: 2, dropped: 3 });
  });

  it('sends only the types a subscription asked for, signed when it has a secret', async () => {
    const r = await receiver();
    const { d, events } = dispatcher();
    await d.add({ url: r.url, types: ['function.*', 'endpoint.up'], secret: 's3cret' });
    events.emit(disc(1));
    events.emit({ type: 'function.activation-requested', functionKey: 'fn', heldPackets: 1 });
    events.emit({ type: 'endpoint.down', endpointId: 'e', vpcId: 'v', labels: {} });
    events.emit({ type: 'endpoint.up', endpointId: 'e', vpcId: 'v', labels: {} });
    events.emit({ type: 'function.activated', functionKey: 'fn', heldPackets: 1 });
    await d.idle();
    expect(r.got.map((g) => g.body.type)).toEqual(['function.activation-requested', 'endpoint.up', 'function.activated']);
    for (const g of r.got) {
      expect(g.headers['x-overcast-signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(g.raw).digest('hex')}`);
    }
  });

  it('refuses bad URLs and unknown types with codes', async () => {
    const d = createWebhookDispatcher();
    const code = async (f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        return [(e as { code: string }).code, (e as { field: string }).field];
      }
      return undefined;
    };
    expect(await code(() => d.add({ url: 'not a url' }))).toEqual(['OVC_ERR_WEBHOOK_BAD_URL', 'url']);
    expect(await code(() => d.add({ url: 'file:///etc/passwd' }))).toEqual(['OVC_ERR_WEBHOOK_BAD_URL', 'url']);
    expect(await code(() => d.add({ url: 'http://x/', types: ['switch.connected', 'nope'] }))).toEqual(['OVC_ERR_EVENTS_UNKNOWN_TYPE', 'types[1]']);
    expect(d.list()).toEqual([]);
  });

  it('remove stops deliveries and close cancels a pending retry', async () => {
    const r = await receiver(() => 500);
    const { d, events } = dispatcher({ backoff: { initialMs: 60_000 } });
    const sub = await d.add({ url: r.url });
    events.emit(disc(1));
    await waitFor('the first delivery attempt', () => r.got.length > 0, { everyMs: 5 });
    expect(await d.remove(sub.id)).toBe(true);
    expect(await d.remove(sub.id)).toBe(false);
    await d.idle(); // resolves at once: the 60 s retry was cancelled
    expect(r.got).toHaveLength(1);
  });
});

describe('/v1/webhooks', () => {
  async function api() {
    const app = fastify();
    installErrorHandler(app);
    const d = createWebhookDispatcher();
    registerWebhookRoutes(app, d);
    await app.ready();
    cleanups.push(async () => {
      d.close();
      await app.close();
    });
    return app;
  }

  it('creates, lists, reads and deletes subscriptions', async () => {
    const app = await api();
    const created = await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { url: 'http://127.0.0.1:1/h', types: ['packets.*'] } });
    expect(created.statusCode).toBe(201);
    const sub = created.json() as { id: string; url: string; types: string[]; counters: object };
    expect(sub).toMatchObject({ url: 'http://127.0.0.1:1/h', types: ['packets.*'], counters: { delivered: 0 } });
    expect((await app.inject({ method: 'GET', url: '/v1/webhooks' })).json()).toMatchObject({ webhooks: [{ id: sub.id }] });
    expect((await app.inject({ method: 'GET', url: `/v1/webhooks/${sub.id}` })).json()).toMatchObject({ id: sub.id });
    expect((await app.inject({ method: 'DELETE', url: `/v1/webhooks/${sub.id}` })).statusCode).toBe(204);
    const gone = await app.inject({ method: 'DELETE', url: `/v1/webhooks/${sub.id}` });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ code: 'OVC_ERR_WEBHOOK_NOT_FOUND', field: 'params.id' });
    expect((await app.inject({ method: 'GET', url: `/v1/webhooks/${sub.id}` })).json()).toMatchObject({ code: 'OVC_ERR_WEBHOOK_NOT_FOUND' });
  });

  it('refuses bad input with codes and body fields', async () => {
    const app = await api();
    const bad = async (payload: object) => (await app.inject({ method: 'POST', url: '/v1/webhooks', payload })).json() as { statusCode: number; code: string; field: string };
    expect(await bad({ url: 'ftp://x/' })).toMatchObject({ statusCode: 400, code: 'OVC_ERR_WEBHOOK_BAD_URL', field: 'body.url' });
    expect(await bad({ url: 'http://x/', types: ['nope'] })).toMatchObject({ statusCode: 400, code: 'OVC_ERR_EVENTS_UNKNOWN_TYPE', field: 'body.types[0]' });
    expect(await bad({ types: [] })).toMatchObject({ statusCode: 400, code: 'OVC_ERR_API_VALIDATION', field: 'body.url' });
  });
});
