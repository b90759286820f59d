/**
 * Fuzzing of the REST API through `inject` (no socket), over a controller on an in-memory store:
 * requests built from the OpenAPI document's schemas, then mutated (a wrong type anywhere, an unknown
 * field at any depth, a huge string, a missing field), bodies that are not JSON, odd content types,
 * odd methods and odd URLs. Whatever comes in: no 5xx, the API still answers, and every 4xx is a
 * typed refusal in the one shape (an OVC_ERR_ code of src/errors/codes.ts and a field).
 *
 * Seeds are fixed so a run is reproducible; OVERCAST_FUZZ_SEED picks others, OVERCAST_FUZZ_RUNS more runs.
 */
import { METHODS } from 'node:http';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';
import { buildFullApi, type FullApi } from './full-api.js';
import { mutationOf, valueOf, type JsonSchema } from './schema-arbitrary.js';

const SEED = Number(process.env.OVERCAST_FUZZ_SEED ?? 19);
const RUNS = Number(process.env.OVERCAST_FUZZ_RUNS ?? 300);

interface Operation {
  method: string;
  path: string;
  params: { name: string; in: string; required?: boolean; schema: JsonSchema }[];
  body?: JsonSchema;
}

let api: FullApi;
let operations: Operation[] = [];

beforeAll(async () => {
  // Webhooks the fuzzer subscribes are never delivered anywhere.
  api = await buildFullApi({ fetch: async () => Promise.reject(new Error('no network in the fuzzer')) });
  const doc = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
    paths: Record<string, Record<string, { parameters?: Operation['params']; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      // The event stream stays open by design: a request that passes would never end.
      if (path === '/v1/events') continue;
      operations.push({ method: method.toUpperCase(), path, params: op.parameters ?? [], body: op.requestBody?.content['application/json']?.schema });
    }
  }
  operations = operations.sort((a, b) => `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`));
  // Objects with the ids the generators favour (vpc-1, subnet-1, ep-1, lb-1), so requests reach past "not found".
  const seed = async (url: string, payload: object) => {
    const r = await api.app.inject({ method: 'POST', url, payload, headers: api.bearer(api.admin) });
    expect(r.statusCode, r.body).toBe(201);
  };
  await seed('/v1/vpcs', { name: 'fuzz', cidr: '10.0.0.0/16' });
  await seed('/v1/vpcs/vpc-1/subnets', { cidr: '10.0.1.0/24' });
  await seed('/v1/endpoints', { kind: 'function', vpc: 'vpc-1', subnet: 'subnet-1', dpid: 1, port: 2, labels: { function: 'resize' } });
  await seed('/v1/load-balancers', { vpc: 'vpc-1', vip: '10.0.0.200', protocol: 'udp', port: 80, function: 'resize' });
});
afterAll(async () => {
  await api.close();
});

/** The property every answer has. Throws with the request when it does not. */
function checkAnswer(request: InjectOptions, r: LightMyRequestResponse): void {
  const payload = typeof request.payload === 'string' ? request.payload : (JSON.stringify(request.payload) ?? '');
  const what = `${request.method} ${request.url} ${payload.slice(0, 300)}`;
  expect(r.statusCode, `${what} -> ${r.body.slice(0, 300)}`).toBeLessThan(500);
  if (r.statusCode < 400 || request.method === 'HEAD') return;
  const body = r.json() as { statusCode?: unknown; code?: unknown; field?: unknown; error?: unknown; message?: unknown };
  expect(body.statusCode, what).toBe(r.statusCode);
  expect(typeof body.code === 'string' && body.code in ERROR_CODES, `${what} -> ${r.body.slice(0, 300)}`).toBe(true);
  expect(typeof body.field === 'string' && body.field.length > 0, `${what} -> ${r.body.slice(0, 300)}`).toBe(true);
  expect(typeof body.message, what).toBe('string');
}

function encode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return 'x';
  }
}

/** A request for an operation: path and query parameters from their schemas, the body given. */
function requestOf(op: Operation, values: { path: Record<string, unknown>; query: Record<string, unknown> }, payload: unknown, token: string | undefined): InjectOptions {
  const url = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => encode(String(values.path[name] ?? 'x')));
  const query = Object.entries(values.query)
    .filter(([, v]) => v !== undefined)
    .flatMap(([k, v]) => [v].flat().map((x) => `${encode(k)}=${encode(String(x))}`))
    .join('&');
  return {
    method: op.method as InjectOptions['method'],
    url: query ? `${url}?${query}` : url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(payload === undefined ? {} : { payload: payload as object }),
  };
}

const opArbitrary = () => fc.constantFrom(...operations);
function partsOf(op: Operation) {
  const of = (where: string) => fc.record(Object.fromEntries(op.params.filter((p) => p.in === where).map((p) => [p.name, valueOf(p.schema)])), { requiredKeys: [] });
  return fc.record({ path: of('path'), query: of('query') });
}
const tokenArbitrary = () => fc.constantFrom<string | undefined>(api.admin, api.admin, api.admin, api.write, api.read, undefined, 'ovc_forged');

async function run(request: InjectOptions): Promise<void> {
  checkAnswer(request, await api.app.inject(request));
}

describe('REST fuzzing', () => {
  it('answers requests built from the schemas with a success or a typed refusal', async () => {
    await fc.assert(
      fc.asyncProperty(
        opArbitrary().chain((op) => fc.tuple(fc.constant(op), partsOf(op), valueOf(op.body), tokenArbitrary())),
        async ([op, parts, body, token]) => run(requestOf(op, parts, op.body ? body : undefined, token)),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('refuses mutated bodies (wrong types, unknown fields at any depth, huge strings, missing fields) with a typed 4xx', async () => {
    const withBody = () => fc.constantFrom(...operations.filter((o) => o.body));
    await fc.assert(
      fc.asyncProperty(
        withBody().chain((op) => fc.tuple(fc.constant(op), partsOf(op), valueOf(op.body).chain((v) => mutationOf(v)))),
        async ([op, parts, { value }]) => run(requestOf(op, parts, value, api.admin)),
      ),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });

  it('refuses bodies that are not JSON and content types that are not JSON', async () => {
    const raw = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.json().map((j) => j.slice(0, Math.max(1, Math.floor(j.length / 2)))),
      fc.constantFrom('', '{', '[]', 'null', '"x"', '1', '{"a":', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '\u0000', '{}garbage'),
    );
    const type = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=b', 'application/octet-stream', 'application/merge-patch+json', 'json', ';;;');
    await fc.assert(
      fc.asyncProperty(opArbitrary(), raw, type, async (op, payload, contentType) => {
        const url = op.path.replace(/\{(\w+)\}/g, 'x1');
        const method = op.method === 'GET' || op.method === 'DELETE' ? 'POST' : op.method;
        await run({ method: method as InjectOptions['method'], url, payload, headers: { authorization: `Bearer ${api.admin}`, 'content-type': contentType } });
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });

  it('answers odd methods and odd URLs with a typed 404, 405 or 4xx', async () => {
    const methods = METHODS.filter((m) => m !== 'CONNECT');
    const segment = fc.oneof(
      fc.constantFrom('v1', 'vpcs', 'endpoints', 'topology', 'links', 'switches', 'vpc-1', 'subnets', 'tokens', 'lab', '..', '.', '', '%', '%zz', '%E0%A4%A', '%00', '*', ':id', '{id}'),
      fc.string({ maxLength: 12 }).map(encode),
      fc.integer({ min: 90, max: 400 }).map((n) => 'a'.repeat(n)),
    );
    const path = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => `/${s.join('/')}`);
    const query = fc.option(fc.constantFrom('limit=1', 'limit=0x10', 'cursor=%', 'a=1&a=2', 'token=secret', '=', '&&', 'limit=1e3'), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), fc.oneof(path, opArbitrary().map((o) => o.path.replace(/\{(\w+)\}/g, 'vpc-1'))), query, tokenArbitrary(), async (method, p, q, token) => {
        // The event stream stays open by design when it is asked for correctly.
        if (p === '/v1/events' && (method === 'GET' || method === 'HEAD')) return;
        await run({ method: method as InjectOptions['method'], url: q ? `${p}?${q}` : p, headers: token ? { authorization: `Bearer ${token}` } : {} });
      }),
      { seed: SEED + 3, numRuns: RUNS },
    );
  });

  it('still answers after all of it', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await api.app.inject({ method: 'GET', url: '/v1/topology', headers: api.bearer(api.read) })).statusCode).toBe(200);
  });
});
