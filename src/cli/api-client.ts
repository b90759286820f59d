/**
 * The CLI's REST client: every command that talks to a running controller takes `--api URL` (default
 * $OVERCAST_API or http://127.0.0.1:8080) and `--token` (default $OVERCAST_TOKEN), sent as a bearer
 * token. JSON in and out; an error answer becomes an Error whose message starts with the API's code.
 */
import type { Command } from 'commander';

/** The environment variable the CLI takes its API token from when `--token` is absent. */
export const TOKEN_ENV = 'OVERCAST_TOKEN';
export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

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
    .option('--token <token>', `bearer token for the API (default $${TOKEN_ENV})`);
}

/** `--token`, else OVERCAST_TOKEN, else none. */
export function tokenFrom(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return option ?? (env[TOKEN_ENV] || undefined);
}

/** One request: `body` sent as JSON when given; a refusal thrown as `CODE: message`. */
export async function apiRequest<T>(api: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<T> {
  const url = api.replace(/\/+$/, '');
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch (e) {
    const why = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
    throw new Error(`cannot reach the controller at ${url} (${why}); is it running? (--api URL)`);
  }
  const text = await res.text();
  const json = (text ? JSON.parse(text) : undefined) as (T & { code?: string; message?: string }) | undefined;
  if (!res.ok) {
    const hint = res.status === 401 && !token ? ` (pass --token or set ${TOKEN_ENV})` : '';
    throw new Error(`${json?.code ?? `HTTP ${res.status}`}: ${json?.message ?? res.statusText}${hint}`);
  }
  return json as T;
}

export function apiClient(o: { api?: string; token?: string }): ApiClient {
  const url = (o.api ?? process.env.OVERCAST_API ?? DEFAULT_API_URL).replace(/\/+$/, '');
  const token = tokenFrom(o.token);
  return {
    url,
    get: (path) => apiRequest(url, token, 'GET', path),
    post: (path, body) => apiRequest(url, token, 'POST', path, body),
    patch: (path, body) => apiRequest(url, token, 'PATCH', path, body),
    delete: async (path) => {
      await apiRequest(url, token, 'DELETE', path);
    },
  };
}
