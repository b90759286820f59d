import { describe, expect, it } from 'vitest';
import { MIN_REVISION_HEADER, REVISION_HEADER, STALENESS_HEADER } from '../../src/api/server.js';
import { fullApiPerFile } from './full-api.js';

const api = fullApiPerFile();

describe('GET /v1/cluster and freshness headers', () => {
  it('shows a single controller as a cluster of one that masters every switch', async () => {
    const { app, read, bearer, intent } = api();
    const res = await app.inject({ method: 'GET', url: '/v1/cluster', headers: bearer(read) });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { self: string; leader: string; members: { id: string; leader: boolean; healthy: boolean }[]; masters: { dpid: number; master: string }[]; store: string };
    expect(body.self).toBe('c1');
    expect(body.leader).toBe('c1');
    expect(body.store).toMatch(/^sqlite:/);
    expect(body.members).toMatchObject([{ id: 'c1', leader: true, healthy: true }]);
    expect(body.masters.map((m) => [m.dpid, m.master])).toEqual(intent.topology.get().switches.map((s) => [s.dpid, 'c1']));
  });

  it('says on every answer which store revision it read, and waits for a named one', async () => {
    const { app, write, bearer, intent } = api();
    const created = await app.inject({ method: 'POST', url: '/v1/vpcs', headers: bearer(write), payload: { name: 'fresh', cidr: '10.77.0.0/16' } });
    expect(created.statusCode).toBe(201);
    const revision = Number(created.headers[REVISION_HEADER]);
    expect(revision).toBe(intent.freshness().revision);
    expect(created.headers[STALENESS_HEADER]).toBe('0');
    const read = await app.inject({ method: 'GET', url: '/v1/vpcs', headers: { ...bearer(write), [MIN_REVISION_HEADER]: String(revision) } });
    expect(read.statusCode).toBe(200);
    expect(Number(read.headers[REVISION_HEADER])).toBeGreaterThanOrEqual(revision);
  });
});
