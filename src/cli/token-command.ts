/**
 * `overcast token create|list|revoke`: API tokens, against a running controller (`--api URL`, with an
 * admin token from `--token` or OVERCAST_TOKEN) or offline on a controller's data directory
 * (`--data DIR`), which is how the first admin token of a deployment is made. The intent store is
 * SQLite in WAL mode, so the offline form works beside a running controller too.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { TOKEN_SCOPES, createSqliteTokenStore, createTokenService, isTokenScope, type IssuedToken, type TokenInfo, type TokenScope } from '../controller/auth/index.js';
import { openIntentStoreInDir } from '../controller/store/index.js';
import { DEFAULT_API_URL, apiRequest, tokenFrom } from './api-client.js';

interface Target {
  api: string;
  token?: string;
  data?: string;
}

/** The three operations, wherever the tokens are. */
interface TokenAdmin {
  create(scope: TokenScope, name: string | undefined): Promise<IssuedToken>;
  list(): Promise<TokenInfo[]>;
  revoke(id: string): Promise<TokenInfo>;
  close(): void;
}

function offline(dir: string): TokenAdmin {
  const store = openIntentStoreInDir(dir);
  const tokens = createTokenService({ store: createSqliteTokenStore(store.database), nowMs: Date.now });
  return {
    create: (scope, name) => tokens.issue({ scope, ...(name ? { name } : {}) }),
    list: () => tokens.list(),
    revoke: (id) => tokens.revoke(id),
    close: () => store.close(),
  };
}

function online(api: string, token: string | undefined): TokenAdmin {
  return {
    create: (scope, name) => apiRequest<IssuedToken>(api, token, 'POST', '/v1/tokens', { scope, ...(name ? { name } : {}) }),
    list: async () => (await apiRequest<{ tokens: TokenInfo[] }>(api, token, 'GET', '/v1/tokens')).tokens,
    revoke: (id) => apiRequest<TokenInfo>(api, token, 'DELETE', `/v1/tokens/${encodeURIComponent(id)}`),
    close: () => undefined,
  };
}

function scopeArg(value: string): TokenScope {
  if (!isTokenScope(value)) throw new InvalidArgumentError(`one of ${TOKEN_SCOPES.join(', ')}`);
  return value;
}

async function withAdmin<T>(o: Target, fn: (admin: TokenAdmin) => Promise<T>): Promise<T> {
  const admin = o.data ? offline(o.data) : online(o.api, tokenFrom(o.token));
  try {
    return await fn(admin);
  } finally {
    admin.close();
  }
}

export function formatTokenTable(tokens: readonly TokenInfo[]): string[] {
  const rows = tokens.map((t) => [t.id, t.scope, t.revokedAt ? `revoked ${t.revokedAt}` : 'active', t.createdAt, t.name]);
  const header = ['ID', 'SCOPE', 'STATE', 'CREATED', 'NAME'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
}

export function registerTokenCommand(program: Command, out: (line: string) => void = console.log, err: (line: string) => void = console.error): void {
  const token = program.command('token').description('API tokens: create, list, revoke (online with --api, or offline with --data)');
  const target = (c: Command) =>
    c
      .option('--api <url>', 'controller REST API', DEFAULT_API_URL)
      .option('--token <token>', 'an admin token (default: $OVERCAST_TOKEN)')
      .option('--data <dir>', "work on a controller's data directory instead of its API (bootstraps the first admin token)");

  target(token.command('create').description('create a token; prints it once (stdout), its id on stderr'))
    .requiredOption('--scope <scope>', `${TOKEN_SCOPES.join(' | ')}`, scopeArg)
    .option('--name <name>', 'what the token is for')
    .option('--json', 'print the token and its record as JSON')
    .action(async (o: Target & { scope: TokenScope; name?: string; json?: boolean }) => {
      const t = await withAdmin(o, (a) => a.create(o.scope, o.name));
      if (o.json) out(JSON.stringify(t, null, 2));
      else {
        out(t.token);
        err(`created ${t.id} (${t.scope}, "${t.name}"); the token is shown only now`);
      }
    });

  target(token.command('list').description('list tokens (never their text)'))
    .option('--json', 'print JSON')
    .action(async (o: Target & { json?: boolean }) => {
      const list = await withAdmin(o, (a) => a.list());
      if (o.json) out(JSON.stringify(list, null, 2));
      else for (const line of formatTokenTable(list)) out(line);
    });

  target(token.command('revoke <id>').description('revoke a token at once')).action(async (id: string, o: Target) => {
    const t = await withAdmin(o, (a) => a.revoke(id));
    out(`revoked ${t.id} (${t.scope}, "${t.name}") at ${t.revokedAt ?? ''}`);
  });
}
