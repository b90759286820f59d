/**
 * The OpenAPI document clients are generated from: every operation named (unique operationId),
 * tagged with a described tag, described, with its success response, the error responses it can give
 * in the one error shape (a shared component), and its security; the servers declared. Public routes
 * say so (`security: []`); the event stream also takes the token as a query parameter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFullApi, type FullApi } from './full-api.js';

interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
  security?: Record<string, string[]>[];
}
interface Document {
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  security?: Record<string, string[]>[];
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

let api: FullApi;
let doc: Document;
const operations: { method: string; path: string; op: Operation }[] = [];

beforeAll(async () => {
  api = await buildFullApi();
  const res = await api.app.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  doc = res.json() as Document;
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) if (METHODS.includes(method)) operations.push({ method, path, op });
});
afterAll(async () => {
  await api.close();
});

describe('the OpenAPI document', () => {
  it('is public: a client fetches it before it holds a token', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('declares its servers, its tags with descriptions and bearer security', () => {
    expect(doc.servers?.[0]?.url).toBe('http://{host}:{port}');
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['accessToken', 'bearer']);
    for (const t of doc.tags ?? []) expect(t.description, t.name).toBeTruthy();
  });

  it('names, tags and describes every operation, each operationId once', () => {
    expect(operations.length).toBeGreaterThan(40);
    const tags = new Set((doc.tags ?? []).map((t) => t.name));
    for (const { method, path, op } of operations) {
      const at = `${method.toUpperCase()} ${path}`;
      expect(op.operationId, at).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags?.length, at).toBe(1);
      expect(tags.has(op.tags?.[0] ?? ''), at).toBe(true);
      expect(op.summary, at).toBeTruthy();
      expect(op.description, at).toBeTruthy();
    }
    const ids = operations.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every operation a success response and its error responses in the one shared shape', () => {
    expect(Object.keys(doc.components.schemas)).toContain('Error');
    for (const { method, path, op } of operations) {
      const at = `${method.toUpperCase()} ${path}`;
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => s.startsWith('2')), at).toBe(true);
      const errors = statuses.filter((s) => s.startsWith('4'));
      expect(errors, at).toContain('400');
      for (const s of errors) expect(op.responses[s].content?.['application/json']?.schema?.$ref, `${at} ${s}`).toBe('#/components/schemas/Error');
    }
  });

  it('marks which operations need which token', () => {
    const find = (method: string, path: string) => operations.find((o) => o.method === method && o.path === path)?.op as Operation;
    expect(Object.keys(find('post', '/v1/vpcs').responses)).toEqual(expect.arrayContaining(['201', '401', '403', '404', '409', '413', '415', '422']));
    expect(find('post', '/v1/vpcs').security).toBeUndefined();
    expect(find('get', '/v1/events').security).toEqual([{ bearer: [] }, { accessToken: [] }]);
    // The query token is the accessToken scheme, not a plain parameter.
    expect(find('get', '/v1/events').parameters?.map((p) => p.name)).toEqual(['types', 'lastEventId']);
    expect(find('get', '/v1/endpoints').parameters?.map((p) => p.name)).toEqual(['vpc', 'subnet', 'kind', 'dpid', 'label', 'limit', 'cursor']);
    // Creates take an Idempotency-Key; token creation does not (its answer holds the secret).
    expect(find('post', '/v1/vpcs').parameters?.map((p) => `${p.in}:${p.name}`)).toContain('header:idempotency-key');
    expect(find('post', '/v1/tokens').parameters ?? []).toEqual([]);
    expect(find('post', '/v1/trace').responses['409']).toBeUndefined();
  });

  it('lists every route of the API', () => {
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/metrics',
      '/v1/cluster',
      '/v1/elastic-ips',
      '/v1/elastic-ips/{id}',
      '/v1/endpoints',
      '/v1/endpoints/{id}',
      '/v1/endpoints/{id}/attachments',
      '/v1/events',
      '/v1/lab/attach',
      '/v1/lab/hosts',
      '/v1/lab/ping',
      '/v1/load-balancers',
      '/v1/load-balancers/{id}',
      '/v1/load-balancers/{id}/backends/{endpointId}/health',
      '/v1/network-acls',
      '/v1/network-acls/{id}',
      '/v1/security-groups',
      '/v1/security-groups/{id}',
      '/v1/stats/links',
      '/v1/switches',
      '/v1/switches/{dpid}/flows',
      '/v1/switches/{dpid}/meters',
      '/v1/tokens',
      '/v1/tokens/{id}',
      '/v1/topology',
      '/v1/topology/links',
      '/v1/topology/links/{id}',
      '/v1/topology/switches',
      '/v1/topology/switches/{name}',
      '/v1/trace',
      '/v1/trace/between',
      '/v1/volumes',
      '/v1/volumes/{id}',
      '/v1/volumes/{id}/attachments',
      '/v1/volumes/{id}/attachments/{attachmentId}',
      '/v1/vpcs',
      '/v1/vpcs/{id}',
      '/v1/vpcs/{id}/subnets',
      '/v1/vpcs/{id}/subnets/{subnetId}',
      '/v1/webhooks',
      '/v1/webhooks/{id}',
    ]);
  });
});
