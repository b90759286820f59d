/**
 * GET /v1/events on a real listening fastify app, read by fetch streaming: frames, the type filter,
 * Last-Event-ID resume (and the gap frame), heartbeats, a vanished client, and app.close() with streams
 * still open.
 */
import fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../../../src/api/error-handler.js';
import { registerEventRoutes, type EventRouteOptions } from '../../../src/api/routes/events.js';
import { ControllerEvents } from '../../../src/controller/events.js';
import { notYet, waitFor } from '../../support/wait-for.js';
import { openSse, type SseStream } from './sse-client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * fetch (undici) opens a spare connection when a streamed response is aborted; that connection carries
 * no request and would hold app.close() until undici's keep-alive timeout (4 s). Tests that abort
 * clients therefore force-close connections; the close test below keeps fastify's default to show the
 * streams themselves do not hold close().
 */
async function serve(options: EventRouteOptions = {}, ringSize = 64, forceCloseConnections = true) {
  const events = new ControllerEvents({ ringSize });
  const app: FastifyInstance = fastify({ forceCloseConnections });
  installErrorHandler(app);
  registerEventRoutes(app, events, options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const base = `http://127.0.0.1:${port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  cleanups.push(close);
  const open = async (path = '/v1/events', headers: Record<string, string> = {}): Promise<SseStream> => {
    const s = await openSse(base + path, headers);
    cleanups.push(() => s.close());
    return s;
  };
  return { events, app, base, open, close };
}

const isEvent = (f: { event?: string }) => f.event !== undefined;
const disc = (dpid: number) => ({ type: 'switch.disconnected' as const, dpid, reason: 'test' });

describe('GET /v1/events', () => {
  it('streams events as id/event/data frames', async () => {
    const { events, open } = await serve();
    const s = await open();
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(s.frames[0]?.retry ?? (await s.waitFor(1))[0].retry).toBeGreaterThan(0);
    const e = events.emit({ type: 'function.activation-requested', functionKey: 'fn', vpcId: 'v', vip: '10.0.0.9', heldPackets: 1 });
    const [f] = await s.waitFor(1, isEvent);
    expect(f.id).toBe(String(e.id));
    expect(f.event).toBe('function.activation-requested');
    expect(JSON.parse(f.data ?? '')).toEqual(e);
  });

  it('filters by ?types= (exact names and family prefixes)', async () => {
    const { events, open } = await serve();
    const s = await open('/v1/events?types=packets.*,switch.connected');
    events.emit(disc(1));
    events.emit({ type: 'switch.connected', dpid: 1, channel: 'native', remoteAddress: 'x' });
    events.emit({ type: 'packets.released', functionKey: 'fn', count: 2, delayMs: 3 });
    events.emit({ type: 'function.activated', functionKey: 'fn', heldPackets: 2 });
    events.emit({ type: 'packets.dropped', functionKey: 'fn', reason: 'expired', count: 1 });
    const got = await s.waitFor(3, isEvent);
    expect(got.map((f) => f.event)).toEqual(['switch.connected', 'packets.released', 'packets.dropped']);
  });

  it('refuses unknown types with their code and field', async () => {
    const { base } = await serve();
    const r = await fetch(`${base}/v1/events?types=switch.connected,nope,also.nope`);
    expect(r.status).toBe(400);
    const body = (await r.json()) as { code: string; field: string; problems: { field: string }[] };
    expect(body.code).toBe('OVC_ERR_EVENTS_UNKNOWN_TYPE');
    expect(body.field).toBe('querystring.types[1]');
    expect(body.problems.map((p) => p.field)).toEqual(['querystring.types[1]', 'querystring.types[2]']);
  });

  it('resumes after Last-Event-ID with exactly the missed events, then live ones', async () => {
    const { events, open } = await serve();
    const first = await open();
    events.emit(disc(1));
    events.emit(disc(2));
    const seen = await first.waitFor(2, isEvent);
    first.close();
    // While the client is away:
    events.emit(disc(3));
    events.emit(disc(4));
    const again = await open('/v1/events', { 'last-event-id': seen[1].id ?? '' });
    events.emit(disc(5));
    const got = await again.waitFor(3, isEvent);
    expect(got.map((f) => JSON.parse(f.data ?? '').dpid)).toEqual([3, 4, 5]);
    expect(got.map((f) => Number(f.id))).toEqual([3, 4, 5]);
    // The query parameter works too (EventSource cannot set headers on its first request).
    const q = await open('/v1/events?lastEventId=4');
    expect((await q.waitFor(1, isEvent)).map((f) => f.id)).toEqual(['5']);
  });

  it('says so when the events after Last-Event-ID have left the ring', async () => {
    const { events, open } = await serve({}, 4);
    for (let i = 1; i <= 10; i++) events.emit(disc(i));
    const s = await open('/v1/events', { 'last-event-id': '2' });
    const [gap] = await s.waitFor(1, (f) => f.event === 'gap');
    expect(gap.id).toBeUndefined();
    expect(JSON.parse(gap.data ?? '')).toEqual({ lastEventId: 2, resumedFrom: 7 });
    const got = await s.waitFor(4, (f) => f.event === 'switch.disconnected');
    expect(got.map((f) => f.id)).toEqual(['7', '8', '9', '10']);
  });

  it('sends heartbeat comments', async () => {
    const { open } = await serve({ heartbeatMs: 20 });
    const s = await open();
    await s.waitFor(2, (f) => f.comments.includes('heartbeat'));
  });

  it('forgets a client that went away', async () => {
    const { events, open } = await serve({ heartbeatMs: 20 });
    const s = await open();
    await s.waitFor(1);
    expect(events.subscriberCount).toBe(1);
    s.close();
    await waitFor('the server to unsubscribe the client', () => events.subscriberCount === 0 || notYet({ subscribers: events.subscriberCount }), { everyMs: 10 });
  });

  it('cuts off a client that falls too far behind (it resumes with Last-Event-ID)', async () => {
    const { events, base } = await serve({ maxBufferedBytes: 256 * 1024 });
    // A reader that never reads: once the socket buffers are full, the server's queue grows.
    const abort = new AbortController();
    cleanups.push(() => abort.abort());
    const res = await fetch(`${base}/v1/events`, { signal: abort.signal });
    expect(res.status).toBe(200);
    const big = 'x'.repeat(64 * 1024);
    let sent = 0;
    // One big event per turn until the server gives up on the reader.
    await waitFor(
      'the server to cut the reader off',
      () => {
        if (events.subscriberCount === 0) return true;
        events.emit({ type: 'switch.sync-failed', dpid: 1, error: big });
        sent++;
        return notYet({ sent, subscribers: events.subscriberCount });
      },
      { everyMs: 0 },
    );
    expect(sent).toBeGreaterThan(1);
  });

  it('app.close() ends open streams instead of waiting for them', async () => {
    const { events, open, close } = await serve({}, 64, false);
    const a = await open();
    const b = await open('/v1/events?types=switch.connected');
    await Promise.all([a.waitFor(1), b.waitFor(1)]);
    const started = Date.now();
    await close();
    await Promise.all([a.ended, b.ended]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(events.subscriberCount).toBe(0);
  });
});
