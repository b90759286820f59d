/**
 * Cursor pagination over intent objects in id order. A cursor is the id of the last item of the
 * previous page; each page starts after it by binary search over the objects' seqs, so a page costs
 * the same wherever it is in the list.
 */
import { OvercastError } from '../../errors/index.js';
import { idSeq, type IdKind } from '../store/intent-store.js';

export interface PageRequest {
  limit: number;
  /** The `next` of the previous page: items after it are returned. */
  cursor?: string;
}
export interface Page<T> {
  items: T[];
  /** The cursor of the following page, or null on the last one. */
  next: string | null;
}

/** Objects in id order with their seqs (ascending). */
export interface Ordered<T> {
  items: T[];
  seqs: number[];
}

/**
 * A snapshot's objects as arrays with their seqs, built once per snapshot map: snapshots are
 * immutable, so the arrays stay valid as long as the map is the current one.
 */
export class OrderedLists {
  private readonly cache = new WeakMap<object, Ordered<{ id: string }>>();

  of<T extends { id: string }>(kind: IdKind, map: ReadonlyMap<string, T>): Ordered<T> {
    let o = this.cache.get(map) as Ordered<T> | undefined;
    if (!o) {
      const items = [...map.values()];
      o = { items, seqs: items.map((x) => idSeq(kind, x.id) ?? 0) };
      this.cache.set(map, o);
    }
    return o;
  }
}

/** Items after the cursor (by id order) that `keep` accepts, up to `limit`, with the cursor of the next page. */
export function paginate<T extends { id: string }>(kind: IdKind, all: Ordered<T>, page: PageRequest, keep: (x: T) => boolean): Page<T> {
  let after = 0;
  if (page.cursor !== undefined) {
    const seq = idSeq(kind, page.cursor);
    if (seq === undefined) throw new OvercastError('OVC_ERR_API_BAD_CURSOR', `not a cursor of this list: ${page.cursor}`, 'querystring.cursor');
    after = seq;
  }
  // First index whose seq is above the cursor.
  let lo = 0;
  let hi = all.seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (all.seqs[mid] <= after) lo = mid + 1;
    else hi = mid;
  }
  const items: T[] = [];
  for (let i = lo; i < all.items.length; i++) {
    const x = all.items[i];
    if (!keep(x)) continue;
    if (items.length === page.limit) return { items, next: items[items.length - 1].id };
    items.push(x);
  }
  return { items, next: null };
}
