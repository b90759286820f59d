/**
 * Credentials in URLs never come back and are never logged: a webhook URL's user information and
 * token parameters are replaced in its replies and in the delivery-failure log; a request's
 * ?access_token= or ?token= is replaced in the refusal log and in the reply that quotes the URL.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControllerEvents } from '../../src/controller/events.js';
import { createWebhookDispatcher } from '../../src/controller/webhooks.js';
import { buildFullApi, type FullApi } from './full-api.js';

/** A pino logger whose lines are kept. */
function capturedLogger(): { logger: pino.Logger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), text: () => lines.join('') };
}

const SECRET = 'hunter2-secret';
const HOOK = `https://bob:${SECRET}@127.0.0.1:9/hook?token=${SECRET}&x=1`;

let api: FullApi;
let log: ReturnType<typeof capturedLogger>;
beforeAll(async () => {
  log = capturedLogger();
  api = await buildFullApi({ logger: log.logger });
});
afterAll(async () => {
  await api.close();
});

describe('credentials in URLs', () => {
  it('are replaced in webhook replies', async () => {
    const created = await api.app.inject({ method: 'POST', url: '/v1/webhooks', headers: api.bearer(api.write), payload: { url: HOOK, types: ['switch.connected'] } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ url: 'https://***@127.0.0.1:9/hook?token=***&x=1' });
    const listed = await api.app.inject({ method: 'GET', url: '/v1/webhooks', headers: api.bearer(api.read) });
    expect(listed.body).not.toContain(SECRET);
    const bad = await api.app.inject({ method: 'POST', url: '/v1/webhooks', headers: api.bearer(api.write), payload: { url: `ftp://bob:${SECRET}@h/x` } });
    expect(bad.json()).toMatchObject({ code: 'OVC_ERR_WEBHOOK_BAD_URL', field: 'body.url' });
    expect(bad.body).not.toContain(SECRET);
  });

  it('are replaced in the logs and replies of requests that carry them', async () => {
    const refused = await api.app.inject({ method: 'GET', url: `/v1/events?access_token=${SECRET}` });
    expect(refused.json()).toMatchObject({ code: 'OVC_ERR_AUTH_BAD_TOKEN' });
    const missing = await api.app.inject({ method: 'GET', url: `/v1/nowhere?token=${SECRET}`, headers: api.bearer(api.read) });
    expect(missing.json()).toMatchObject({ code: 'OVC_ERR_API_NOT_FOUND', message: 'no route GET /v1/nowhere?token=***' });
    expect(log.text()).toContain('request refused');
    expect(log.text()).toContain('access_token=***');
    expect(log.text()).not.toContain(SECRET);
  });

  it('are replaced in the webhook delivery-failure log', async () => {
    const captured = capturedLogger();
    const events = new ControllerEvents();
    const dispatcher = createWebhookDispatcher({ maxAttempts: 1 }, { logger: captured.logger, fetch: async () => Promise.reject(new Error(`connect failed to ${HOOK}`)) });
    dispatcher.attach(events);
    const sub = await dispatcher.add({ url: HOOK });
    events.emit({ type: 'switch.disconnected', dpid: 1, reason: 'test' });
    await dispatcher.idle();
    dispatcher.close();
    expect(captured.text()).toContain('webhook delivery failed');
    expect(captured.text()).not.toContain(SECRET);
    expect(JSON.stringify(dispatcher.get(sub.id) ?? {})).not.toContain(SECRET);
  });
});
