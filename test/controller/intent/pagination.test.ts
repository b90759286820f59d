import { describe, expect, it } from 'vitest';
import { OrderedLists, paginate, type Ordered } from '../../../src/controller/intent/pagination.js';
import { isOvercastError } from '../../../src/errors/index.js';

interface Item {
  id: string;
  even: boolean;
}

/** Endpoints with these seqs (gaps stand for deleted ones), in id order as the index keeps them. */
function endpoints(...seqs: number[]): Ordered<Item> {
  return new OrderedLists().of('endpoint', new Map(seqs.map((n) => [`ep-${n}`, { id: `ep-${n}`, even: n % 2 === 0 }])));
}

const all = () => true;

function errorOf(fn: () => unknown): { code: string; field: string | undefined } | undefined {
  try {
    fn();
  } catch (e) {
    if (isOvercastError(e)) return { code: e.code, field: e.field };
    throw e;
  }
  return undefined;
}

describe('paginate', () => {
  it('walks every item once, page by page, the last page with no next cursor', () => {
    const list = endpoints(1, 2, 3, 4, 5);
    const ids: string[][] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = paginate('endpoint', list, cursor === undefined ? { limit: 2 } : { limit: 2, cursor }, all);
      ids.push(page.items.map((x) => x.id));
      if (page.next === null) break;
      cursor = page.next;
    }
    expect(ids).toEqual([['ep-1', 'ep-2'], ['ep-3', 'ep-4'], ['ep-5']]);
  });

  it('gives no next cursor when the items end exactly at the limit', () => {
    expect(paginate('endpoint', endpoints(1, 2), { limit: 2 }, all)).toEqual({ items: [{ id: 'ep-1', even: false }, { id: 'ep-2', even: true }], next: null });
  });

  it('continues after a cursor whose object is gone', () => {
    const list = endpoints(1, 2, 7, 9);
    expect(paginate('endpoint', list, { limit: 10, cursor: 'ep-5' }, all).items.map((x) => x.id)).toEqual(['ep-7', 'ep-9']);
    expect(paginate('endpoint', list, { limit: 10, cursor: 'ep-9' }, all)).toEqual({ items: [], next: null });
  });

  it('counts only the items the filter keeps, and the cursor is the last one kept', () => {
    const list = endpoints(1, 2, 3, 4, 5, 6, 7);
    const first = paginate('endpoint', list, { limit: 2 }, (x) => x.even);
    expect(first).toEqual({ items: [{ id: 'ep-2', even: true }, { id: 'ep-4', even: true }], next: 'ep-4' });
    expect(paginate('endpoint', list, { limit: 2, cursor: 'ep-4' }, (x) => x.even)).toEqual({ items: [{ id: 'ep-6', even: true }], next: null });
  });

  it("refuses a cursor that is not an id of the list's kind", () => {
    const list = endpoints(1, 2);
    for (const cursor of ['vpc-1', 'ep-', 'ep-01', 'ep-x', '']) {
      expect(errorOf(() => paginate('endpoint', list, { limit: 1, cursor }, all)), cursor).toEqual({ code: 'OVC_ERR_API_BAD_CURSOR', field: 'querystring.cursor' });
    }
  });
});

describe('OrderedLists', () => {
  it('builds the ordered list once per map', () => {
    const lists = new OrderedLists();
    const map = new Map([['vpc-3', { id: 'vpc-3' }], ['vpc-10', { id: 'vpc-10' }]]);
    const once = lists.of('vpc', map);
    expect(once).toEqual({ items: [{ id: 'vpc-3' }, { id: 'vpc-10' }], seqs: [3, 10] });
    expect(lists.of('vpc', map)).toBe(once);
    expect(lists.of('vpc', new Map(map))).not.toBe(once);
  });
});
