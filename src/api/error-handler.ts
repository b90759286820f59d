/**
 * One JSON shape for every error: {statusCode, code, error, message, field, problems?}.
 * OvercastErrors keep their code; fastify's schema failures become OVC_ERR_API_VALIDATION with the field.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { ERROR_CODES, isOvercastError } from '../errors/index.js';
import { STATUS_CODES } from 'node:http';

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isOvercastError(err)) {
      return reply.status(err.statusCode).send({
        statusCode: err.statusCode,
        code: err.code,
        error: STATUS_CODES[err.statusCode],
        message: err.message,
        field: err.field,
        problems: err.problems.length > 1 ? err.problems : undefined,
      });
    }
    if (err.validation) {
      const first = err.validation[0];
      const path = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : undefined;
      const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
      const field = [err.validationContext, path, missing].filter(Boolean).join('.');
      return reply.status(400).send({
        statusCode: 400,
        code: 'OVC_ERR_API_VALIDATION',
        error: 'Bad Request',
        message: err.message,
        field,
      });
    }
    const statusCode = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (statusCode >= 500) request.log.error({ err }, 'request failed');
    return reply.status(statusCode).send({
      statusCode,
      code: statusCode === 404 ? 'OVC_ERR_API_NOT_FOUND' : (err.code ?? 'OVC_ERR_INTERNAL'),
      error: STATUS_CODES[statusCode],
      message: statusCode >= 500 ? 'internal error' : err.message,
    });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      statusCode: 404,
      code: 'OVC_ERR_API_NOT_FOUND',
      error: 'Not Found',
      message: `no route ${request.method} ${request.url}`,
    });
  });
}

export { ERROR_CODES };
