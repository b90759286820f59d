/**
 * Who may call what: one onRequest hook checks the bearer token of every request against the token
 * service (src/controller/auth/) before anything else runs: before the body is read, before a 404.
 *
 * A route says what it needs in its config (`access`): `public` (health, the OpenAPI document and
 * its UI), or the least scope a token must have. Without it, reads (GET, HEAD) need `read` and every
 * other method `write`. Refusals are 401 (no token, an unknown or a revoked one) or 403 (a scope too
 * low), typed, with `WWW-Authenticate` as RFC 6750 has it.
 *
 * A browser's EventSource cannot set headers, so a route may also take the token as
 * `?access_token=` (config `tokenInQuery`; only the event stream does). Such URLs are redacted in
 * logs and replies like any other credential in a URL.
 *
 * One hook rather than `@fastify/bearer-auth`: the plugin answers yes or no for a key, where scopes
 * need to know which token it was, and it reads the header only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OvercastError, type ErrorCode } from '../errors/index.js';
import { redactSecrets } from '../controller/auth/redact.js';
import { scopeAllows, type TokenScope } from '../controller/auth/scopes.js';
import type { TokenInfo, TokenService } from '../controller/auth/tokens.js';

export type RouteAccess = 'public' | TokenScope;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: anyone (`public`) or a token of at least this scope. Default: read for GET/HEAD, write otherwise. */
    access?: RouteAccess;
    /** The route also takes its token as `?access_token=` (for EventSource, which cannot set headers). */
    tokenInQuery?: boolean;
  }
  interface FastifyRequest {
    /** The token the request was authenticated with (absent on public routes and without auth). */
    apiToken?: TokenInfo;
  }
}

/** Query parameter that carries a token where headers cannot. */
export const ACCESS_TOKEN_PARAMETER = 'access_token';
const REALM = 'Bearer realm="overcast"';

export function accessOf(method: string, config: { access?: RouteAccess } | undefined): RouteAccess {
  return config?.access ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'write');
}

function tokenOf(request: FastifyRequest, inQuery: boolean): { text: string | undefined; field: string } {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer +(\S+) *$/i.exec(header);
    return { text: m?.[1], field: 'headers.authorization' };
  }
  if (inQuery) {
    const q = (request.query ?? {}) as Record<string, unknown>;
    const v = q[ACCESS_TOKEN_PARAMETER];
    if (typeof v === 'string' && v.length > 0) return { text: v, field: `querystring.${ACCESS_TOKEN_PARAMETER}` };
  }
  return { text: undefined, field: 'headers.authorization' };
}

export function installAuth(app: FastifyInstance, tokens: TokenService): void {
  // The OpenAPI document and its UI are public: clients are generated from it before they hold a token.
  app.addHook('onRoute', (route) => {
    if (route.url === '/docs' || route.url.startsWith('/docs/')) route.config = { ...route.config, access: 'public' };
  });

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    const need = accessOf(request.method, config);
    if (need === 'public') return;
    const refuse = (code: ErrorCode, message: string, field: string, challenge: string) => {
      request.log.info({ method: request.method, url: redactSecrets(request.url), code }, 'request refused');
      void reply.header('www-authenticate', challenge);
      return new OvercastError(code, message, field);
    };
    const { text, field } = tokenOf(request, config?.tokenInQuery === true);
    if (text === undefined) throw refuse('OVC_ERR_AUTH_MISSING_TOKEN', 'this route needs a token: Authorization: Bearer <token>', field, REALM);
    const auth = await tokens.authenticate(text);
    if (!auth.ok) {
      const why = auth.code === 'OVC_ERR_AUTH_TOKEN_REVOKED' ? 'the token was revoked' : 'the token is not one this controller issued';
      throw refuse(auth.code, why, field, `${REALM}, error="invalid_token"`);
    }
    if (!scopeAllows(auth.token.scope, need)) {
      throw refuse('OVC_ERR_AUTH_SCOPE', `${request.method} ${request.routeOptions.url ?? ''} needs a ${need} token; ${auth.token.id} is ${auth.token.scope}`, field, `${REALM}, error="insufficient_scope", scope="${need}"`);
    }
    request.apiToken = auth.token;
  });
}
