export { TOKEN_SCOPES, isTokenScope, scopeAllows, type TokenScope } from './scopes.js';
export {
  BOOTSTRAP_TOKEN_ENV,
  TOKEN_PREFIX,
  MIN_TOKEN_LENGTH,
  MAX_TOKEN_LENGTH,
  createTokenService,
  mintTokenText,
  hashToken,
  tokenIdOfHash,
  tokenInfo,
  type Authentication,
  type IssuedToken,
  type TokenInfo,
  type TokenService,
  type TokenServiceComponents,
} from './tokens.js';
export { createSqliteTokenStore, type StoredToken, type TokenStore } from './token-store.js';
export {
  IDEMPOTENCY_PENDING_MS,
  IDEMPOTENCY_RETENTION_MS,
  createSqliteIdempotencyStore,
  type IdempotencyAnswer,
  type IdempotencyStore,
  type IdempotencyWindows,
  type Reservation,
} from './idempotency-store.js';
export { REDACTED, redactSecrets } from './redact.js';
