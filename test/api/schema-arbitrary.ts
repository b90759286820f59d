/**
 * fast-check arbitraries built from JSON schemas (as the OpenAPI document gives them): values that
 * mostly fit the schema, with strings drawn partly from values the API knows (ids, addresses, names)
 * so that requests reach past validation; and mutations of such values (a wrong type somewhere, an
 * unknown field at any depth, a huge string, a missing required field).
 */
import fc from 'fast-check';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  maxItems?: number;
  maxProperties?: number;
  default?: unknown;
}

/** Strings the API gives meaning to: ids it hands out, addresses, names in the test topology. */
const KNOWN_STRINGS = [
  'vpc-1', 'vpc-2', 'subnet-1', 'subnet-2', 'ep-1', 'ep-2', 'eip-1', 'lb-1', 's1', 's2', 'h1', 'h2', 's1:8~s2:8',
  '10.0.0.0/16', '10.0.1.0/24', '10.0.1.5', '10.0.0.200', '0.0.0.0/0', '02:00:00:00:00:01', 'ff:ff:ff:ff:ff:ff',
  'function', 'container', 'storage', 'host', 'udp', 'tcp', 'resize', 'v1', 'http://127.0.0.1:9/hook', 'switch.connected', 'read', 'write', 'admin',
];

function stringArbitrary(s: JsonSchema): fc.Arbitrary<string> {
  const minLength = s.minLength ?? 0;
  const maxLength = Math.min(s.maxLength ?? 40, 40);
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length >= minLength && x.length <= (s.maxLength ?? Infinity));
  const fits = KNOWN_STRINGS.filter((k) => k.length >= minLength && k.length <= (s.maxLength ?? Infinity));
  const random = fc.string({ minLength, maxLength: Math.max(minLength, maxLength), unit: 'binary' });
  return fits.length > 0 ? fc.oneof(fc.constantFrom(...fits), random) : random;
}

function numberArbitrary(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min = s.minimum ?? -1000;
  const max = s.maximum ?? 1_000_000;
  if (!integer) return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  const small = fc.integer({ min: Math.max(min, -5), max: Math.min(max, 10) });
  const any = fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) });
  return fc.oneof(small, any);
}

/** A value that mostly fits the schema. */
export function valueOf(s: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!s) return fc.constant(undefined);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => valueOf(a, depth)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return stringArbitrary(s);
    case 'integer':
      return numberArbitrary(s, true);
    case 'number':
      return numberArbitrary(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valueOf(s.items, depth + 1), { maxLength: Math.min(s.maxItems ?? 4, 4) });
    case 'object':
    default: {
      if (s.patternProperties) {
        const [value] = Object.values(s.patternProperties);
        return fc.dictionary(stringArbitrary({ minLength: 1, maxLength: 12 }), valueOf(value, depth + 1), { maxKeys: Math.min(s.maxProperties ?? 4, 4) });
      }
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) record[k] = valueOf(v, depth + 1);
      return fc.record(record, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
    }
  }
}

/** Every path to a node of a JSON value (the root is []). */
function pathsOf(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pathsOf(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...at, k]));
  return out;
}

function replaceAt(v: unknown, path: (string | number)[], f: (old: unknown) => unknown): unknown {
  if (path.length === 0) return f(v);
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? replaceAt(x, rest, f) : x));
  const o = v as Record<string, unknown>;
  return { ...o, [head]: replaceAt(o[head as string], rest, f) };
}

const WRONG_VALUES = fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e308, -1e308, '', 'x', '0', 'false', 'null', [], [1], ['a'], {}, { a: 1 });

export type Mutation = 'wrong-type' | 'unknown-field' | 'huge-string' | 'drop-field';

/** A mutation of a value: what was done and the result. */
export function mutationOf(value: unknown): fc.Arbitrary<{ mutation: Mutation; value: unknown }> {
  const paths = pathsOf(value);
  const objects = paths.filter((p) => {
    const node = p.reduce<unknown>((n, k) => (n as Record<string | number, unknown>)[k], value);
    return node !== null && typeof node === 'object' && !Array.isArray(node);
  });
  const pick = <T>(list: T[]) => fc.nat({ max: Math.max(0, list.length - 1) }).map((i) => list[i]);
  const options: fc.Arbitrary<{ mutation: Mutation; value: unknown }>[] = [
    fc.tuple(pick(paths), WRONG_VALUES).map(([p, w]) => ({ mutation: 'wrong-type' as const, value: replaceAt(value, p, () => w) })),
    fc.tuple(pick(paths), fc.integer({ min: 1_000, max: 300_000 })).map(([p, n]) => ({ mutation: 'huge-string' as const, value: replaceAt(value, p, () => 'x'.repeat(n)) })),
  ];
  if (objects.length > 0) {
    options.push(
      fc.tuple(pick(objects), fc.constantFrom('zz_unknown', '__proto__x', 'constructor', 'lables', 'typo_types')).map(([p, k]) => ({
        mutation: 'unknown-field' as const,
        value: replaceAt(value, p, (o) => ({ ...(o as object), [k]: 1 })),
      })),
      pick(objects).map((p) => ({
        mutation: 'drop-field' as const,
        value: replaceAt(value, p, (o) => Object.fromEntries(Object.entries(o as object).slice(1))),
      })),
    );
  }
  return fc.oneof(...options);
}
