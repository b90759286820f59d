/**
 * Request validation: strict where JSON has types, careful where text has none.
 *
 * Bodies are JSON: no coercion (`{"up": null}`, `"false"` or `0` for a boolean, `["a"]` for a string
 * are refused), and no field is silently removed (schemas say `additionalProperties: false`, and the
 * refusal names the field). Query strings and path parameters are text: numbers and booleans are
 * parsed from it (and a repeated parameter makes an array), but only from plain decimal digits or
 * `true`/`false` — `0x10`, `1e3`, ` 12` and `12abc` are refused, not read as numbers.
 *
 * fastify's own compiler uses one ajv for every part with `coerceTypes` and `removeAdditional` on;
 * this one keeps two.
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';

const COMMON: Options = { useDefaults: true, removeAdditional: false, allErrors: false, addUsedSchema: false };

/** Plain decimal integers of at most 16 digits; precision beyond that is junk too. */
const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]{0,15})$/;
const DECIMAL_NUMBER = /^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,16})?$/;

type TextKind = 'integer' | 'number';

interface SchemaNode {
  type?: unknown;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
}

/** What a property must look like as text before ajv may coerce it: integer, number, or anything. */
function textKindOf(node: SchemaNode | undefined): TextKind | undefined {
  if (!node) return undefined;
  if (node.type === 'integer') return 'integer';
  if (node.type === 'number') return 'number';
  if (node.type === 'array') return textKindOf(node.items);
  for (const alt of node.anyOf ?? []) {
    const k = textKindOf(alt);
    if (k) return k;
  }
  return undefined;
}

/** Refuses query or path values that ajv would turn into numbers although they are not decimal text. */
function plainNumbers(schema: SchemaNode, coerce: ValidateFunction): ValidateFunction {
  const numeric = Object.entries(schema.properties ?? {}).flatMap(([name, node]) => {
    const kind = textKindOf(node);
    return kind ? [{ name, pattern: kind === 'integer' ? DECIMAL_INTEGER : DECIMAL_NUMBER, kind, list: node.type === 'array' }] : [];
  });
  if (numeric.length === 0) return coerce;
  const validate = ((data: unknown) => {
    const values = (data ?? {}) as Record<string, unknown>;
    for (const { name, pattern, kind, list } of numeric) {
      const raw = values[name];
      const texts = Array.isArray(raw) ? raw : [raw];
      const i = texts.findIndex((t) => typeof t === 'string' && !pattern.test(t));
      if (i >= 0) {
        const error: ErrorObject = {
          keyword: 'type',
          instancePath: list ? `/${name}/${i}` : `/${name}`,
          schemaPath: `#/properties/${name}/type`,
          params: { type: kind },
          message: `must be a plain decimal ${kind}`,
        };
        validate.errors = [error];
        return false;
      }
    }
    const ok = coerce(data);
    validate.errors = coerce.errors;
    return ok;
  }) as ValidateFunction;
  return validate;
}

/** The validator compiler of every route: strict JSON bodies, decimal-only numbers in text. */
export function createStrictValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const json = new Ajv({ ...COMMON, coerceTypes: false });
  const text = new Ajv({ ...COMMON, coerceTypes: 'array' });
  return ({ schema, httpPart }) => {
    if (httpPart === 'body') return json.compile(schema as object);
    const coerce = text.compile(schema as object);
    return httpPart === 'querystring' || httpPart === 'params' ? plainNumbers(schema as SchemaNode, coerce) : coerce;
  };
}

export type ValidationError = FastifySchemaValidationError;
