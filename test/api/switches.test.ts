/**
 * GET /v1/switches: a page at a time in dpid order, from what the controller knows (no round trip to
 * any switch unless port counters are asked for).
 */
import fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../../src/api/error-handler.js';
import { registerSwitchRoutes } from '../../src/api/routes/switches.js';
import type { ApiServices } from '../../src/api/services.js';
import { Controller, type DesiredTables } from '../../src/controller/controller.js';
import { refused } from './helpers.js';

const SWITCHES = 250;

describe('GET /v1/switches', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const controller = new Controller({ logger: pino({ level: 'silent' }), nowMs: () => 0 });
    // Dpids out of order, each with one desired flow: known switches, none connected.
    const desired = new Map<number, DesiredTables>();
    for (let i = SWITCHES; i >= 1; i--) desired.set(i * 3, { flows: [{ table: 0, priority: 1, match: { inPort: i }, actions: [], cookie: 1 }], groups: [] });
    await controller.setDesired(desired);
    app = fastify();
    installErrorHandler(app);
    registerSwitchRoutes(app, { controller } as unknown as ApiServices);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
  });

  const page = async (query: string) => {
    const r = await app.inject({ method: 'GET', url: `/v1/switches${query}` });
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as { switches: { dpid: number; connected: boolean; desiredFlows: number }[]; next: string | null };
  };

  it('walks every switch once, in dpid order, with limit and cursor', async () => {
    const seen: number[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const p = await page(`?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      expect(p.switches.length).toBeLessThanOrEqual(100);
      seen.push(...p.switches.map((s) => s.dpid));
      cursor = p.next;
    }
    expect(seen).toEqual(Array.from({ length: SWITCHES }, (_, i) => (i + 1) * 3));
    const first = await page('');
    expect(first.switches).toHaveLength(100);
    expect(first.switches[0]).toMatchObject({ dpid: 3, connected: false, desiredFlows: 1 });
    // A cursor between dpids, or past the end.
    expect((await page('?limit=2&cursor=4')).switches.map((s) => s.dpid)).toEqual([6, 9]);
    expect(await page(`?cursor=${SWITCHES * 3}`)).toMatchObject({ switches: [], next: null });
  });

  it('refuses a cursor that is no dpid and a bad limit', async () => {
    await refused(app, 'GET', '/v1/switches?cursor=vpc-1', undefined, 400, 'OVC_ERR_API_VALIDATION', 'querystring.cursor');
    await refused(app, 'GET', '/v1/switches?limit=0', undefined, 400, 'OVC_ERR_API_VALIDATION', 'querystring.limit');
    await refused(app, 'GET', '/v1/switches?cursor=99999999999999999999', undefined, 400, 'OVC_ERR_API_BAD_CURSOR', 'querystring.cursor');
  });
});
