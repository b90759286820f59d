/**
 * The CLI's requests to a running controller's REST API: JSON in and out, the bearer token from
 * `--token` or OVERCAST_TOKEN, and a refusal thrown as `CODE: message`.
 */

/** The environment variable the CLI takes its API token from when `--token` is absent. */
export const TOKEN_ENV = 'OVERCAST_TOKEN';
export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** `--token`, else OVERCAST_TOKEN, else none. */
export function tokenFrom(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return option ?? (env[TOKEN_ENV] || undefined);
}

export async function apiRequest<T>(api: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${api.replace(/\/+$/, '')}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  const json = (text ? JSON.parse(text) : undefined) as (T & { code?: string; message?: string }) | undefined;
  if (!res.ok) {
    const hint = res.status === 401 && !token ? ` (pass --token or set ${TOKEN_ENV})` : '';
    throw new Error(`${json?.code ?? `HTTP ${res.status}`}: ${json?.message ?? res.statusText}${hint}`);
  }
  return json as T;
}
