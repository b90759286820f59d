/**
 * One JSON shape for every refusal and failure: {statusCode, code, error, message, field, problems?}.
 * `code` is always one of src/errors/codes.ts and `field` always names what was wrong (`body.cidr`,
 * `params.id`, `headers.authorization`, `url`, `method`; `request` when it is the request as a
 * whole). OvercastErrors keep their code; schema failures become OVC_ERR_API_VALIDATION on the field;
 * fastify's own errors (bad JSON, media type, body size, URL, parameter length) get codes of their
 * own; a path that exists with other methods answers 405 with `Allow`. Messages never carry a
 * credential from a URL (src/controller/auth/redact.ts).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { ERROR_CODES, isOvercastError, type ErrorCode, type ProblemDetail } from '../errors/index.js';
import { redactSecrets } from '../controller/auth/redact.js';
import type { ValidationError } from './validation.js';

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  error: string;
  message: string;
  field: string;
  problems?: ProblemDetail[];
}

/** The field of a refusal about the request as a whole. */
export const WHOLE_REQUEST = 'request';

export function errorBody(code: ErrorCode, message: string, field: string, problems?: ProblemDetail[], statusCode: number = ERROR_CODES[code].status): ErrorBody {
  return {
    statusCode,
    code,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message: redactSecrets(message),
    field,
    ...(problems && problems.length > 1 ? { problems: problems.map((p) => ({ ...p, message: redactSecrets(p.message) })) } : {}),
  };
}

/** fastify's own error codes and what they become. */
const FASTIFY_ERRORS: Readonly<Record<string, { code: ErrorCode; field: string }>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'OVC_ERR_API_BAD_JSON', field: 'body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'OVC_ERR_API_EMPTY_BODY', field: 'body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'OVC_ERR_API_MEDIA_TYPE', field: 'headers.content-type' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'OVC_ERR_API_MEDIA_TYPE', field: 'headers.content-type' },
  FST_ERR_CTP_EMPTY_TYPE: { code: 'OVC_ERR_API_MEDIA_TYPE', field: 'headers.content-type' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'OVC_ERR_API_BODY_TOO_LARGE', field: 'body' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'OVC_ERR_API_BAD_CONTENT_LENGTH', field: 'headers.content-length' },
  FST_ERR_BAD_URL: { code: 'OVC_ERR_API_BAD_URL', field: 'url' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'OVC_ERR_API_PARAM_TOO_LONG', field: 'url' },
};

/** A JSON pointer (`/packet/ports/3`) as a field path (`packet.ports[3]`). */
function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, s) => (/^[0-9]+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s), '');
}

/** The first schema failure as a field and a message. */
function describeValidation(first: ValidationError | undefined, context: string): { field: string; message: string } {
  const at = [context, pointerToPath(first?.instancePath ?? '')].filter(Boolean).join('.');
  const params = (first?.params ?? {}) as { additionalProperty?: string; missingProperty?: string };
  if (params.additionalProperty !== undefined) return { field: `${at}.${params.additionalProperty}`, message: `unknown field "${params.additionalProperty}"` };
  if (params.missingProperty !== undefined) return { field: `${at}.${params.missingProperty}`, message: `missing field "${params.missingProperty}"` };
  return { field: at, message: `${at} ${first?.message ?? 'is not valid'}` };
}

/** Any error as the one shape. */
export function errorBodyOf(err: FastifyError): ErrorBody {
  if (isOvercastError(err)) return errorBody(err.code, err.message, err.field ?? WHOLE_REQUEST, err.problems, err.statusCode);
  if (err.validation) {
    const { field, message } = describeValidation(err.validation[0] as ValidationError | undefined, err.validationContext ?? WHOLE_REQUEST);
    return errorBody('OVC_ERR_API_VALIDATION', message, field);
  }
  const known = FASTIFY_ERRORS[err.code];
  if (known) return errorBody(known.code, err.message, known.field);
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  if (status === 404) return errorBody('OVC_ERR_API_NOT_FOUND', err.message, 'url');
  if (status < 500) return errorBody('OVC_ERR_API_BAD_REQUEST', err.message, WHOLE_REQUEST, undefined, status);
  return errorBody('OVC_ERR_INTERNAL', 'internal error', WHOLE_REQUEST, undefined, status);
}

/** Methods that each route path answers, for 405 replies. */
class RouteMethods {
  private readonly routes: { pattern: RegExp; methods: Set<string> }[] = [];
  private readonly byUrl = new Map<string, Set<string>>();

  add(methods: string | string[], url: string): void {
    let set = this.byUrl.get(url);
    if (!set) {
      set = new Set();
      this.byUrl.set(url, set);
      const source = url
        .split('/')
        .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      this.routes.push({ pattern: new RegExp(`^${source}$`), methods: set });
    }
    for (const m of [methods].flat()) {
      set.add(m);
      if (m === 'GET') set.add('HEAD');
    }
  }

  of(path: string): string[] {
    const out = new Set<string>();
    for (const r of this.routes) if (r.pattern.test(path)) for (const m of r.methods) out.add(m);
    return [...out].sort();
  }
}

function logFailure(request: FastifyRequest, body: ErrorBody, err?: unknown): void {
  if (body.statusCode >= 500) request.log.error({ err, method: request.method, url: redactSecrets(request.url), code: body.code }, 'request failed');
}

/**
 * fastify's `frameworkErrors` option: errors found before any route is chosen (a bad URL, a path
 * parameter over the length limit), which reach neither hooks nor the error handler.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const body = errorBodyOf(err);
  logFailure(request, body, err);
  void reply.status(body.statusCode).send(body);
}

export function installErrorHandler(app: FastifyInstance): void {
  const methods = new RouteMethods();
  app.addHook('onRoute', (route) => methods.add(route.method, route.url ?? route.path));

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const body = errorBodyOf(err);
    logFailure(request, body, err);
    return reply.status(body.statusCode).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = methods.of(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return reply
        .status(405)
        .header('allow', allowed.join(', '))
        .send(errorBody('OVC_ERR_API_METHOD_NOT_ALLOWED', `${path} takes ${allowed.join(', ')}, not ${request.method}`, 'method'));
    }
    return reply.status(404).send(errorBody('OVC_ERR_API_NOT_FOUND', `no route ${request.method} ${request.url}`, 'url'));
  });
}
