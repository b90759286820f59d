/** Token scopes, ordered: `admin` may do what `write` may, `write` what `read` may. */
export const TOKEN_SCOPES = ['read', 'write', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export function isTokenScope(s: string): s is TokenScope {
  return (TOKEN_SCOPES as readonly string[]).includes(s);
}

/** Whether a token of scope `have` may make a request that needs `need`. */
export function scopeAllows(have: TokenScope, need: TokenScope): boolean {
  return TOKEN_SCOPES.indexOf(have) >= TOKEN_SCOPES.indexOf(need);
}
