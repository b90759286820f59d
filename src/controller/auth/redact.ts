/**
 * Secrets that travel inside URLs, removed before a URL is logged or sent back: the user information of
 * `https://user:pass@host/...` and the values of query parameters that name a credential
 * (`?token=`, `?access_token=`, `?secret=`...). Works on any text, so a message that quotes a URL is
 * cleaned too; the rest of the text is left exactly as it was.
 */

export const REDACTED = '***';

/** Query parameter names whose values are credentials. */
const SECRET_PARAMETER = '(?:access_token|id_token|refresh_token|token|secret|client_secret|password|passwd|pwd|api[_-]?key|apikey|key|sig|signature|auth|authorization)';
const USER_INFO = /\/\/[^/\s?#@]*@/g;
const SECRET_QUERY = new RegExp(`([?&;]${SECRET_PARAMETER}=)[^&#\\s"']*`, 'gi');

export function redactSecrets(text: string): string {
  return text.replace(USER_INFO, `//${REDACTED}@`).replace(SECRET_QUERY, `$1${REDACTED}`);
}
