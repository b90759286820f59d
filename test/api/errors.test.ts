/**
 * Every refusal in the one shape, fastify's own included: bad JSON, an empty JSON body, a media type
 * other than JSON, a body over the limit, a bad URL, a path segment over the limit, a wrong method
 * (405 with Allow), an unknown path (404). Each has an
 * OVC_ERR_ code of src/errors/codes.ts and a field; none has a fastify code.
 */
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';
import { BODY_LIMIT_BYTES } from '../../src/api/app.js';
import { fullApiPerFile, type FullApi } from './full-api.js';

const apiOfFile = fullApiPerFile();
let api: FullApi;
beforeAll(() => {
  api = apiOfFile();
});

async function shape(o: InjectOptions) {
  const r = await api.app.inject({ ...o, headers: { ...api.bearer(api.admin), ...o.headers } });
  const body = r.json() as { statusCode: number; code: string; error: string; message: string; field: string };
  expect(Object.keys(body).sort()).toEqual(['code', 'error', 'field', 'message', 'statusCode']);
  expect(body.statusCode).toBe(r.statusCode);
  expect(body.code in ERROR_CODES, body.code).toBe(true);
  expect(body.code).not.toMatch(/FST_/);
  return { status: r.statusCode, body, headers: r.headers };
}

const json = { 'content-type': 'application/json' };

describe('the one error shape', () => {
  it("gives fastify's own refusals codes and fields of their own", async () => {
    expect((await shape({ method: 'POST', url: '/v1/vpcs', headers: json, payload: '{"name": "a",' })).body).toMatchObject({ code: 'OVC_ERR_API_BAD_JSON', field: 'body', statusCode: 400 });
    expect((await shape({ method: 'POST', url: '/v1/vpcs', headers: json, payload: '{"__proto__": {"x": 1}}' })).body).toMatchObject({ code: 'OVC_ERR_API_BAD_JSON', field: 'body' });
    expect((await shape({ method: 'POST', url: '/v1/vpcs', headers: json, payload: '' })).body).toMatchObject({ code: 'OVC_ERR_API_EMPTY_BODY', field: 'body' });
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      expect((await shape({ method: 'POST', url: '/v1/vpcs', headers: { 'content-type': type }, payload: 'name=a' })).body, type).toMatchObject({ code: 'OVC_ERR_API_MEDIA_TYPE', field: 'headers.content-type', statusCode: 415 });
    }
    const big = JSON.stringify({ name: 'x'.repeat(BODY_LIMIT_BYTES), cidr: '10.0.0.0/8' });
    expect((await shape({ method: 'POST', url: '/v1/vpcs', headers: json, payload: big })).body).toMatchObject({ code: 'OVC_ERR_API_BODY_TOO_LARGE', field: 'body', statusCode: 413 });
    expect((await shape({ method: 'GET', url: '/v1/vpcs/%E0%A4%A' })).body).toMatchObject({ code: 'OVC_ERR_API_BAD_URL', field: 'url', statusCode: 400 });
    expect((await shape({ method: 'GET', url: `/v1/vpcs/${'a'.repeat(300)}` })).body).toMatchObject({ code: 'OVC_ERR_API_PARAM_TOO_LONG', field: 'url', statusCode: 414 });
    expect((await shape({ method: 'GET', url: `/v1/vpcs/${'a'.repeat(100)}` })).body).toMatchObject({ code: 'OVC_ERR_API_VALIDATION', field: 'params.id' });
  });

  it('answers a wrong method with 405 and Allow, an unknown path with 404', async () => {
    const put = await shape({ method: 'PUT', url: '/v1/vpcs' });
    expect(put).toMatchObject({ status: 405, body: { code: 'OVC_ERR_API_METHOD_NOT_ALLOWED', field: 'method' } });
    expect(put.headers.allow).toBe('GET, HEAD, POST');
    const del = await shape({ method: 'POST', url: '/v1/vpcs/vpc-1' });
    expect(del.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
    expect((await shape({ method: 'GET', url: '/v1/load-balancers/lb-1/backends/ep-1/health' })).headers.allow).toBe('PUT');
    expect((await shape({ method: 'GET', url: '/v1/vpcz' })).body).toMatchObject({ statusCode: 404, code: 'OVC_ERR_API_NOT_FOUND', field: 'url' });
    expect((await shape({ method: 'DELETE', url: '/v1/vpcs/vpc-1/subnets/subnet-1/extra' })).status).toBe(404);
  });
});
