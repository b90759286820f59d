/**
 * Idempotency-Key on every create: a retry with the same key and body gets the first answer (status
 * and body, marked Idempotent-Replayed) and makes no second object; the same key with another body is
 * refused (422); a key still in progress is refused (409); keys belong to a token; a refused create
 * frees its key; answers are forgotten after the retention window. Token creation takes no key.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../src/api/app.js';
import { createSqliteIdempotencyStore, IDEMPOTENCY_RETENTION_MS } from '../../src/controller/auth/index.js';
import { openIntentStore } from '../../src/controller/store/index.js';
import { buildFullApi, type FullApi } from './full-api.js';

let api: FullApi;
let now = 1_700_000_000_000;
beforeAll(async () => {
  api = await buildFullApi({ nowMs: () => now });
});
afterAll(async () => {
  await api.close();
});

async function post(url: string, payload: object, key?: string, token = api.write) {
  const r = await api.app.inject({ method: 'POST', url, payload, headers: { ...api.bearer(token), ...(key ? { 'idempotency-key': key } : {}) } });
  return { status: r.statusCode, body: r.json() as Record<string, unknown>, replayed: r.headers['idempotent-replayed'] };
}

describe('Idempotency-Key', () => {
  it('replays the first answer of a create instead of making a second object', async () => {
    const first = await post('/v1/vpcs', { name: 'shop', cidr: '10.0.0.0/16' }, 'retry-1');
    expect(first.status).toBe(201);
    expect(first.replayed).toBeUndefined();
    // The same body in another key order is the same request.
    const again = await post('/v1/vpcs', { cidr: '10.0.0.0/16', name: 'shop' }, 'retry-1');
    expect(again).toEqual({ status: 201, body: first.body, replayed: 'true' });
    const list = await api.app.inject({ method: 'GET', url: '/v1/vpcs', headers: api.bearer(api.read) });
    expect((list.json() as { items: unknown[] }).items).toHaveLength(1);
  });

  it('refuses the same key with another body, and keeps keys of different tokens apart', async () => {
    const r = await post('/v1/vpcs', { name: 'other', cidr: '10.9.0.0/16' }, 'retry-1');
    expect(r).toMatchObject({ status: 422, body: { code: 'OVC_ERR_API_IDEMPOTENCY_MISMATCH', field: 'headers.idempotency-key' } });
    const mine = await post('/v1/vpcs', { name: 'other', cidr: '10.9.0.0/16' }, 'retry-1', api.admin);
    expect(mine.status).toBe(201);
    expect(mine.replayed).toBeUndefined();
  });

  it('frees the key of a refused create: the corrected request may use it', async () => {
    const bad = await post('/v1/vpcs', { name: 'x', cidr: '10.0.0.1/16' }, 'retry-2');
    expect(bad.body.code).toBe('OVC_ERR_NET_BAD_CIDR');
    const good = await post('/v1/vpcs', { name: 'x', cidr: '10.2.0.0/16' }, 'retry-2');
    expect(good.status).toBe(201);
    expect(good.replayed).toBeUndefined();
  });

  it('forgets an answer after the retention window', async () => {
    const first = await post('/v1/vpcs', { name: 'late', cidr: '10.3.0.0/16' }, 'retry-3');
    now += IDEMPOTENCY_RETENTION_MS + 1;
    const later = await post('/v1/vpcs', { name: 'late', cidr: '10.3.0.0/16' }, 'retry-3');
    expect(later.status).toBe(201);
    expect(later.body.id).not.toBe(first.body.id);
  });

  it('is honoured by every create and documented on it; token creation takes none', async () => {
    const vpc = (await post('/v1/vpcs', { name: 'every', cidr: '10.4.0.0/16' })).body.id as string;
    const subnet = (await post(`/v1/vpcs/${vpc}/subnets`, { cidr: '10.4.0.0/24' })).body.id as string;
    const creates: [string, object][] = [
      [`/v1/vpcs/${vpc}/subnets`, { cidr: '10.4.1.0/24' }],
      ['/v1/endpoints', { kind: 'function', vpc, subnet, dpid: 1, port: 2, labels: { function: 'f' } }],
      ['/v1/load-balancers', { vpc, vip: '10.4.0.200', protocol: 'udp', port: 80, function: 'f' }],
      ['/v1/topology/switches', { name: 's9', dpid: 9, ports: [1, 2] }],
      ['/v1/topology/links', { a: { switch: 's9', port: 1 }, b: { switch: 's1', port: 3 } }],
      ['/v1/webhooks', { url: 'http://127.0.0.1:9/hook', types: ['switch.connected'] }],
    ];
    for (const [url, body] of creates) {
      const first = await post(url, body, `every:${url}`);
      expect(first.status, `${url} ${JSON.stringify(first.body)}`).toBe(201);
      expect(await post(url, body, `every:${url}`), url).toEqual({ ...first, replayed: 'true' });
    }
    const t1 = await post('/v1/tokens', { scope: 'read' }, 'token-key', api.admin);
    const t2 = await post('/v1/tokens', { scope: 'read' }, 'token-key', api.admin);
    expect(t1.body.token).not.toBe(t2.body.token);
    expect(t2.replayed).toBeUndefined();
  });

  it('refuses a key that is empty, too long or not printable ASCII', async () => {
    for (const key of ['x'.repeat(256), 'with space', 'é']) {
      const r = await api.app.inject({ method: 'POST', url: '/v1/vpcs', payload: { name: 'k', cidr: '10.5.0.0/16' }, headers: { ...api.bearer(api.write), 'idempotency-key': key } });
      expect(r.json(), key).toMatchObject({ code: 'OVC_ERR_API_VALIDATION', field: 'headers.idempotency-key' });
    }
  });
});

describe('a request whose key is still in progress', () => {
  let app: FastifyInstance;
  const store = openIntentStore(':memory:');
  let entered: () => void = () => undefined;
  let release: () => void = () => undefined;
  const inHandler = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  beforeAll(async () => {
    app = await createApiApp({ idempotency: createSqliteIdempotencyStore(store.database) });
    app.post('/v1/things', { schema: { body: Type.Object({ n: Type.Integer() }), response: { 201: Type.Object({ n: Type.Integer() }) } } }, async (request, reply) => {
      entered();
      await gate;
      return reply.status(201).send(request.body);
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('is refused with 409 while the first is processed, and replayed after', async () => {
    const send = () => app.inject({ method: 'POST', url: '/v1/things', payload: { n: 1 }, headers: { 'idempotency-key': 'slow' } });
    const first = send();
    // The first request waits in its handler, its key reserved.
    await inHandler;
    const second = await send();
    expect(second.json()).toMatchObject({ statusCode: 409, code: 'OVC_ERR_API_IDEMPOTENCY_IN_FLIGHT', field: 'headers.idempotency-key' });
    release();
    expect((await first).statusCode).toBe(201);
    const third = await send();
    expect(third.statusCode).toBe(201);
    expect(third.headers['idempotent-replayed']).toBe('true');
  });
});
