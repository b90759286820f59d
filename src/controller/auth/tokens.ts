/**
 * REST API tokens: minted here, checked here, kept by a TokenStore. A token is 256 random bits as text
 * (`ovc_` and 43 base64url characters); the store keeps only its SHA-256. A token's id is the first
 * 12 hex digits of that hash, so a request's token is looked up by id and then its whole hash is
 * compared in constant time: a client learns nothing from how long a refusal takes. SHA-256 without a
 * salt or a slow hash is enough for secrets of this length (no dictionary holds them).
 */
import { createHash, randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';
import { OvercastError } from '../../errors/index.js';
import type { TokenScope } from './scopes.js';
import type { StoredToken, TokenStore } from './token-store.js';

/** Prefix of the tokens Overcast mints (secret scanners can look for it). */
export const TOKEN_PREFIX = 'ovc_';
/** Bounds on a token's text; a token supplied from outside must be printable ASCII within them. */
export const MIN_TOKEN_LENGTH = 32;
export const MAX_TOKEN_LENGTH = 256;
const TOKEN_TEXT = /^[\x21-\x7e]+$/;
/**
 * The environment variable `overcast controller` takes an admin token from at start: how a deployment
 * with no token yet (a compose file, a lab) gets its first one.
 */
export const BOOTSTRAP_TOKEN_ENV = 'OVERCAST_BOOTSTRAP_TOKEN';
/** Hex digits of the hash that make a token's id. */
const ID_HEX_DIGITS = 12;

export function hashToken(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A new token's text: `ovc_` and 256 random bits in base64url. */
export function mintTokenText(random: (n: number) => Buffer = nodeRandomBytes): string {
  return TOKEN_PREFIX + random(32).toString('base64url');
}

export function tokenIdOfHash(hash: string): string {
  return `tok-${hash.slice(0, ID_HEX_DIGITS)}`;
}

/** A token as the API shows it: never its text or hash. */
export interface TokenInfo {
  id: string;
  name: string;
  scope: TokenScope;
  /** ISO 8601. */
  createdAt: string;
  revokedAt?: string;
}

/** A token just minted: its text is shown this once and never again. */
export interface IssuedToken extends TokenInfo {
  token: string;
}

export type Authentication =
  | { ok: true; token: TokenInfo }
  | { ok: false; code: 'OVC_ERR_AUTH_BAD_TOKEN' | 'OVC_ERR_AUTH_TOKEN_REVOKED' };

export interface TokenService {
  issue(input: { scope: TokenScope; name?: string }): Promise<IssuedToken>;
  /**
   * Registers a token whose text comes from outside (OVERCAST_BOOTSTRAP_TOKEN). Idempotent: a token
   * already known, revoked or not, is left as it is (a restart does not bring a revoked token back).
   */
  adopt(text: string, input: { scope: TokenScope; name: string }): Promise<TokenInfo>;
  authenticate(text: string): Promise<Authentication>;
  list(): Promise<TokenInfo[]>;
  /** Revokes at once: the next request with the token is refused. Revoking twice keeps the first time. */
  revoke(id: string): Promise<TokenInfo>;
}

export interface TokenServiceComponents {
  store: TokenStore;
  /** Wall-clock milliseconds (creation and revocation times). */
  nowMs: () => number;
  randomBytes?: (n: number) => Buffer;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function tokenInfo(t: StoredToken): TokenInfo {
  return { id: t.id, name: t.name, scope: t.scope, createdAt: iso(t.createdAtMs), ...(t.revokedAtMs === undefined ? {} : { revokedAt: iso(t.revokedAtMs) }) };
}

/** A hash to compare against when no token has the id, so a miss costs what a hit costs. */
const DECOY_HASH = Buffer.from(hashToken('overcast decoy token'), 'hex');

export function createTokenService(components: TokenServiceComponents): TokenService {
  const { store, nowMs } = components;
  const random = components.randomBytes ?? nodeRandomBytes;

  const record = (hash: string, scope: TokenScope, name: string): StoredToken => ({ id: tokenIdOfHash(hash), name, scope, hash, createdAtMs: nowMs() });

  return {
    async issue({ scope, name }) {
      for (;;) {
        const text = mintTokenText(random);
        const t = record(hashToken(text), scope, name ?? `${scope} token`);
        // An id taken already (48 bits: practically never) is a new draw, not an error.
        if (await store.insert(t)) return { ...tokenInfo(t), token: text };
      }
    },
    async adopt(text, { scope, name }) {
      if (text.length < MIN_TOKEN_LENGTH || text.length > MAX_TOKEN_LENGTH || !TOKEN_TEXT.test(text)) {
        throw new OvercastError('OVC_ERR_AUTH_WEAK_TOKEN', `a supplied token must be ${MIN_TOKEN_LENGTH}..${MAX_TOKEN_LENGTH} printable ASCII characters`, 'token');
      }
      const t = record(hashToken(text), scope, name);
      const known = await store.get(t.id);
      if (known) return tokenInfo(known);
      await store.insert(t);
      return tokenInfo(t);
    },
    async authenticate(text) {
      const hash = hashToken(text);
      const known = await store.get(tokenIdOfHash(hash));
      const same = timingSafeEqual(Buffer.from(hash, 'hex'), known ? Buffer.from(known.hash, 'hex') : DECOY_HASH);
      if (!known || !same) return { ok: false, code: 'OVC_ERR_AUTH_BAD_TOKEN' };
      if (known.revokedAtMs !== undefined) return { ok: false, code: 'OVC_ERR_AUTH_TOKEN_REVOKED' };
      return { ok: true, token: tokenInfo(known) };
    },
    async list() {
      return (await store.list()).map(tokenInfo);
    },
    async revoke(id) {
      const after = await store.revoke(id, nowMs());
      if (!after) throw new OvercastError('OVC_ERR_AUTH_TOKEN_NOT_FOUND', `no token ${id}`, 'params.id');
      return tokenInfo(after);
    },
  };
}
