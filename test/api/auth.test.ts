/**
 * Every route but the health check and the docs needs a bearer token: 401 without one, with an
 * unknown or a revoked one; 403 when its scope is too low (reads need read, changes write, tokens
 * admin; the trace is a read). The event stream also takes its token as ?access_token=. Tokens are
 * created, listed and revoked over REST by an admin, and the created token's text is shown once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fullApiPerFile, type FullApi } from './full-api.js';

const apiOfFile = fullApiPerFile();
let api: FullApi;
beforeAll(() => {
  api = apiOfFile();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
async function call(method: Method, url: string, token?: string, payload?: object) {
  const r = await api.app.inject({ method, url, headers: token ? api.bearer(token) : {}, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: (r.body ? r.json() : {}) as { code?: string; field?: string }, headers: r.headers };
}

const TRACE = { dpid: 1, inPort: 2, packet: { kind: 'udp', ethSrc: '02:00:00:00:00:01', ethDst: '02:00:00:00:00:02', ipv4Src: '10.0.0.1', ipv4Dst: '10.0.0.2' } };

describe('who may call what', () => {
  it('answers 401 with a typed code and a challenge when the token is missing, malformed or unknown', async () => {
    const missing = await call('GET', '/v1/vpcs');
    expect(missing).toMatchObject({ status: 401, body: { code: 'OVC_ERR_AUTH_MISSING_TOKEN', field: 'headers.authorization' } });
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="overcast"');
    const basic = await api.app.inject({ method: 'GET', url: '/v1/vpcs', headers: { authorization: 'Basic YTpi' } });
    expect(basic.json()).toMatchObject({ code: 'OVC_ERR_AUTH_MISSING_TOKEN', field: 'headers.authorization' });
    const unknown = await call('GET', '/v1/vpcs', 'ovc_not-a-token-this-controller-issued');
    expect(unknown).toMatchObject({ status: 401, body: { code: 'OVC_ERR_AUTH_BAD_TOKEN' } });
    expect(unknown.headers['www-authenticate']).toBe('Bearer realm="overcast", error="invalid_token"');
    // Unknown routes and wrong methods do not answer before the token is checked.
    expect((await call('GET', '/v1/nothing-here')).status).toBe(401);
    expect((await call('PUT', '/v1/vpcs')).status).toBe(401);
  });

  it('needs no token for the health check and the OpenAPI document', async () => {
    for (const url of ['/healthz', '/docs', '/docs/json']) expect((await api.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
  });

  it('lets a read token read and trace, refuses it changes (403 with the scope it needs)', async () => {
    expect((await call('GET', '/v1/vpcs', api.read)).status).toBe(200);
    expect((await call('GET', '/v1/topology', api.read)).status).toBe(200);
    expect((await call('POST', '/v1/trace', api.read, TRACE)).status).toBe(200);
    const refused = await call('POST', '/v1/vpcs', api.read, { name: 'a', cidr: '10.0.0.0/16' });
    expect(refused).toMatchObject({ status: 403, body: { code: 'OVC_ERR_AUTH_SCOPE', field: 'headers.authorization' } });
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="overcast", error="insufficient_scope", scope="write"');
  });

  it('lets a write token change intent but not manage tokens; an admin token does both', async () => {
    expect((await call('POST', '/v1/vpcs', api.write, { name: 'a', cidr: '10.0.0.0/16' })).status).toBe(201);
    expect((await call('GET', '/v1/tokens', api.write)).body.code).toBe('OVC_ERR_AUTH_SCOPE');
    expect((await call('POST', '/v1/tokens', api.write, { scope: 'read' })).body.code).toBe('OVC_ERR_AUTH_SCOPE');
    expect((await call('GET', '/v1/tokens', api.admin)).status).toBe(200);
    expect((await call('POST', '/v1/vpcs', api.admin, { name: 'b', cidr: '10.0.0.0/16' })).status).toBe(201);
  });

  it('creates a token whose text is shown once, lists tokens without it, and revokes at once', async () => {
    const created = await api.app.inject({ method: 'POST', url: '/v1/tokens', headers: api.bearer(api.admin), payload: { scope: 'write', name: 'ci' } });
    expect(created.statusCode).toBe(201);
    const t = created.json() as { id: string; token: string; scope: string; name: string };
    expect(t).toMatchObject({ scope: 'write', name: 'ci' });
    expect((await call('POST', '/v1/vpcs', t.token, { name: 'c', cidr: '10.0.0.0/16' })).status).toBe(201);
    const list = await api.app.inject({ method: 'GET', url: '/v1/tokens', headers: api.bearer(api.admin) });
    expect(list.body).not.toContain(t.token);
    expect((list.json() as { tokens: { id: string }[] }).tokens.map((x) => x.id)).toContain(t.id);
    const revoked = await call('DELETE', `/v1/tokens/${t.id}`, api.admin);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: t.id, revokedAt: expect.any(String) });
    expect((await call('GET', '/v1/vpcs', t.token)).body.code).toBe('OVC_ERR_AUTH_TOKEN_REVOKED');
    expect((await call('DELETE', '/v1/tokens/tok-000000000000', api.admin)).body).toMatchObject({ code: 'OVC_ERR_AUTH_TOKEN_NOT_FOUND', field: 'params.id' });
    expect((await call('POST', '/v1/tokens', api.admin, { scope: 'root' })).body).toMatchObject({ code: 'OVC_ERR_API_VALIDATION', field: 'body.scope' });
  });

  it('takes the event stream token as ?access_token= (EventSource cannot set headers), and only there', async () => {
    // A bad filter is refused after the token is accepted: the stream never opens, so inject returns.
    const withQueryToken = await call('GET', `/v1/events?types=nope&access_token=${encodeURIComponent(api.read)}`);
    expect(withQueryToken.body.code).toBe('OVC_ERR_EVENTS_UNKNOWN_TYPE');
    const wrong = await call('GET', '/v1/events?types=nope&access_token=wrong');
    expect(wrong.body).toMatchObject({ code: 'OVC_ERR_AUTH_BAD_TOKEN', field: 'querystring.access_token' });
    expect((await call('GET', `/v1/vpcs?access_token=${encodeURIComponent(api.read)}`)).body.code).toBe('OVC_ERR_AUTH_MISSING_TOKEN');
  });
});
