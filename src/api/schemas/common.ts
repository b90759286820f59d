/**
 * Shapes shared by the routes: strict objects, pagination, ids and labels.
 *
 * Every object a request carries is strict (`additionalProperties: false`, at every depth): an unknown
 * field is refused with its path (`body.a.swtich`), never dropped, so a typo (`lables`) cannot pass as
 * a no-op. Addresses are text in JSON but plain strings in the schemas: the IntentService parses them,
 * so a bad address gets its own code (OVC_ERR_NET_BAD_CIDR on `body.cidr`) rather than a generic
 * schema failure.
 */
import { Type, type ObjectOptions, type TProperties, type TSchema } from '@sinclair/typebox';

export const MAX_PAGE_LIMIT = 1000;
export const DEFAULT_PAGE_LIMIT = 100;

/** An object of a request: these properties and no others. */
export function StrictObject<T extends TProperties>(properties: T, options: ObjectOptions = {}) {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT, description: 'Items per page' }),
  cursor: Type.Optional(Type.String({ maxLength: 64, description: 'The `next` of the previous page' })),
};
export const PageOnly = StrictObject(PageQuery);

export function pageOf<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    next: Type.Union([Type.String(), Type.Null()], { description: 'Cursor of the next page; null on the last page' }),
  });
}

export const IdParams = StrictObject({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** A switch's datapath id: a positive integer JSON can carry exactly. */
export const Dpid = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The switch (datapath id)' });
/** A switch port number (OpenFlow's physical range). */
export const PortNumber = Type.Integer({ minimum: 1, maximum: 0xffffff00, description: 'The switch port number' });

export const Labels = Type.Record(Type.String({ minLength: 1, maxLength: 63 }), Type.String({ maxLength: 256 }), {
  maxProperties: 64,
  propertyNames: { minLength: 1, maxLength: 63 },
  description: 'Free-form labels, e.g. {"function": "resize", "revision": "v2"}',
});

export const PortRefJson = StrictObject({ switch: Type.String({ minLength: 1, maxLength: 64 }), port: PortNumber });

/** A reply with no body (204). */
export const NoContent = Type.Null({ description: 'Done; no body' });
