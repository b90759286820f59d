/**
 * The CLI's REST client: every command that talks to a running controller takes `--api URL` (default
 * $OVERCAST_API or http://127.0.0.1:8080) and `--token` (default $OVERCAST_TOKEN), sent as a bearer
 * token. An error answer becomes an Error whose message starts with the API's error code.
 */
import type { Command } from 'commander';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

export interface ApiClientOptions {
  api: string;
  token?: string;
}

export interface ApiClient {
  readonly url: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  delete(path: string): Promise<void>;
}

/** Adds --api and --token to a command. */
export function withApiOptions(cmd: Command): Command {
  return cmd
    .option('--api <url>', 'controller REST API (default $OVERCAST_API or http://127.0.0.1:8080)')
    .option('--token <token>', 'bearer token for the API (default $OVERCAST_TOKEN)');
}

export function apiClient(o: { api?: string; token?: string }): ApiClient {
  const url = (o.api ?? process.env.OVERCAST_API ?? DEFAULT_API_URL).replace(/\/+$/, '');
  const token = o.token ?? process.env.OVERCAST_TOKEN;
  const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (e) {
      throw new Error(`cannot reach the controller at ${url} (${e instanceof Error ? (e.cause as Error | undefined)?.message ?? e.message : String(e)}); is it running? (--api URL)`);
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const err = (json ?? {}) as { code?: string; message?: string; problems?: { field?: string; message?: string }[] };
      throw new Error(`${err.code ?? `HTTP ${res.status}`}: ${err.message ?? res.statusText}`);
    }
    return json as T;
  };
  return {
    url,
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
    patch: (path, body) => request('PATCH', path, body),
    delete: async (path) => {
      await request('DELETE', path);
    },
  };
}
