/**
 * Claims: which ids claim a key (a port, an address, a VNI...). When several claim one key the
 * smallest id holds it and the others stay inactive, so conflicting intent never yields two flows
 * with one identity.
 *
 * Nearly every key has one claimant (conflicts are the store's mistakes), so a lone claimant is kept
 * as the bare id and a Set exists only for a contested key: a compile makes several claims per
 * endpoint, and nearly all of them stay Set-free (docs/vpc.md, Figures).
 */
const EMPTY: ReadonlySet<string> = new Set();

export class Claims<K = string> {
  private readonly byKey = new Map<K, string | Set<string>>();

  add(key: K, id: string): void {
    const ids = this.byKey.get(key);
    if (ids === undefined) this.byKey.set(key, id);
    else if (typeof ids === 'string') {
      if (ids !== id) this.byKey.set(key, new Set([ids, id]));
    } else ids.add(id);
  }

  delete(key: K, id: string): void {
    const ids = this.byKey.get(key);
    if (ids === undefined) return;
    if (typeof ids === 'string') {
      if (ids === id) this.byKey.delete(key);
      return;
    }
    ids.delete(id);
    if (ids.size === 1) this.byKey.set(key, ids.values().next().value as string);
  }

  /** How many keys are claimed. */
  get size(): number {
    return this.byKey.size;
  }

  /** Is the key claimed at all? */
  claimed(key: K): boolean {
    return this.byKey.has(key);
  }

  claimants(key: K): ReadonlySet<string> {
    const ids = this.byKey.get(key);
    if (ids === undefined) return EMPTY;
    return typeof ids === 'string' ? new Set([ids]) : ids;
  }

  /** Does `id` hold `key` (it claims it, and no smaller id does)? */
  holds(key: K, id: string): boolean {
    const ids = this.byKey.get(key);
    if (ids === undefined) return false;
    if (typeof ids === 'string') return ids === id;
    if (!ids.has(id)) return false;
    for (const other of ids) if (other < id) return false;
    return true;
  }
}

/**
 * Claims on keys within scopes (an IP within a VPC, a port on a switch): one Claims per scope, so no
 * composite key string is built and hashed per lookup.
 */
export class ScopedClaims<S, K> {
  private readonly byScope = new Map<S, Claims<K>>();

  add(scope: S, key: K, id: string): void {
    let claims = this.byScope.get(scope);
    if (!claims) this.byScope.set(scope, (claims = new Claims<K>()));
    claims.add(key, id);
  }

  delete(scope: S, key: K, id: string): void {
    const claims = this.byScope.get(scope);
    if (!claims) return;
    claims.delete(key, id);
    if (claims.size === 0) this.byScope.delete(scope);
  }

  claimed(scope: S, key: K): boolean {
    return this.byScope.get(scope)?.claimed(key) ?? false;
  }

  claimants(scope: S, key: K): ReadonlySet<string> {
    return this.byScope.get(scope)?.claimants(key) ?? EMPTY;
  }

  holds(scope: S, key: K, id: string): boolean {
    return this.byScope.get(scope)?.holds(key, id) ?? false;
  }
}
