/** Helpers for end-to-end tests: talk to lab hosts' control APIs and the controller's REST API. */
export async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export async function get<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export interface Received {
  srcIp: string;
  srcPort: number;
  dstPort: number;
  payloadHex: string;
  checksumsOk: boolean;
}

export async function received(hostUrl: string, clear = true): Promise<Received[]> {
  return (await get<{ received: Received[] }>(`${hostUrl}/received${clear ? '?clear=1' : ''}`)).received;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 5000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
