/**
 * The page's REST client. A bearer token given in the page's URL (`/?token=...`) goes on every fetch
 * as `Authorization: Bearer ...`, and on the event stream as `?access_token=` (EventSource cannot set
 * headers).
 */
export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  /** Every item of a paginated list (`{items, next}`), following `next`. */
  all<T>(path: string): Promise<T[]>;
  /** The URL of the event stream for these types. */
  eventsUrl(types: string): string;
}

export function createApi(search: string, base = ''): Api {
  const token = new URLSearchParams(search).get('token') ?? undefined;
  const headers = (json: boolean): Record<string, string> => ({
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(json ? { 'content-type': 'application/json' } : {}),
  });
  const answer = async <T>(res: Response): Promise<T> => {
    const body = (await res.json()) as T & { code?: string; message?: string };
    if (!res.ok) throw new Error(`${body.code ?? res.status}: ${body.message ?? res.statusText}`);
    return body;
  };
  const get = async <T>(path: string) => answer<T>(await fetch(`${base}${path}`, { headers: headers(false) }));
  return {
    get,
    post: async <T>(path: string, body: unknown) => answer<T>(await fetch(`${base}${path}`, { method: 'POST', headers: headers(true), body: JSON.stringify(body) })),
    async all<T>(path: string) {
      const out: T[] = [];
      let next: string | undefined;
      do {
        const sep = path.includes('?') ? '&' : '?';
        const page = await get<{ items: T[]; next?: string }>(`${path}${sep}limit=1000${next ? `&cursor=${encodeURIComponent(next)}` : ''}`);
        out.push(...page.items);
        next = page.next ?? undefined;
      } while (next);
      return out;
    },
    eventsUrl: (types) => `${base}/v1/events?types=${encodeURIComponent(types)}${token ? `&access_token=${encodeURIComponent(token)}` : ''}`,
  };
}
