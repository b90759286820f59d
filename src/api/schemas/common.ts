/**
 * Shapes shared by the intent routes: the error reply, pagination, and the strict-body check.
 *
 * Addresses are text in JSON but plain strings in the schemas: the IntentService parses them, so a bad
 * address gets its own code (OVC_ERR_NET_BAD_CIDR on `body.cidr`) rather than a generic schema failure.
 */
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { OvercastError } from '../../errors/index.js';

export const MAX_PAGE_LIMIT = 1000;
export const DEFAULT_PAGE_LIMIT = 100;

/** The one error shape (src/api/error-handler.ts), for the OpenAPI document. */
export const ErrorReply = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ examples: ['OVC_ERR_SUBNET_OVERLAP'] }),
    error: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String({ examples: ['body.cidr'] })),
    problems: Type.Optional(Type.Array(Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }))),
  },
  { description: 'Every refusal: a typed code and the offending field' },
);

export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT, description: 'Items per page' }),
  cursor: Type.Optional(Type.String({ maxLength: 64, description: 'The `next` of the previous page' })),
};

export function pageOf<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    next: Type.Union([Type.String(), Type.Null()], { description: 'Cursor of the next page; null on the last page' }),
  });
}

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const Labels = Type.Record(Type.String({ minLength: 1, maxLength: 63 }), Type.String({ maxLength: 256 }), {
  maxProperties: 64,
  description: 'Free-form labels, e.g. {"function": "resize", "revision": "v2"}',
});

export const PortRefJson = Type.Object({ switch: Type.String({ minLength: 1, maxLength: 64 }), port: Type.Integer({ minimum: 0 }) });

/**
 * Unknown fields are refused, not dropped: a typo (`lables`) must not pass as a no-op. (The server's
 * ajv removes fields that `additionalProperties: false` forbids, silently, so schemas leave it open
 * and this check runs in the handler.)
 */
export function refuseUnknownFields(value: unknown, schema: TObject, at: string): void {
  if (typeof value !== 'object' || value === null) return;
  const known = Object.keys(schema.properties);
  const unknown = Object.keys(value).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw OvercastError.fromProblems(
      unknown.map((k) => ({ code: 'OVC_ERR_API_VALIDATION' as const, message: `unknown field "${k}" (expected one of ${known.join(', ')})`, field: `${at}.${k}` })),
    );
  }
}
