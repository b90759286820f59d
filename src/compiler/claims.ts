/**
 * Claims: which ids claim a key (a port, an address, a VNI...). When several claim one key the
 * smallest id holds it and the others stay inactive, so conflicting intent never yields two flows
 * with one identity.
 */
const EMPTY: ReadonlySet<string> = new Set();

export class Claims {
  private readonly byKey = new Map<string, Set<string>>();

  add(key: string, id: string): void {
    let ids = this.byKey.get(key);
    if (!ids) this.byKey.set(key, (ids = new Set()));
    ids.add(id);
  }

  delete(key: string, id: string): void {
    const ids = this.byKey.get(key);
    if (!ids) return;
    ids.delete(id);
    if (ids.size === 0) this.byKey.delete(key);
  }

  claimants(key: string): ReadonlySet<string> {
    return this.byKey.get(key) ?? EMPTY;
  }

  /** Does `id` hold `key` (it claims it, and no smaller id does)? */
  holds(key: string, id: string): boolean {
    const ids = this.byKey.get(key);
    if (!ids || !ids.has(id)) return false;
    for (const other of ids) if (other < id) return false;
    return true;
  }
}
