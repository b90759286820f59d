/**
 * Where webhook subscriptions are kept, so that every controller of a cluster delivers to the same
 * subscribers and a restart keeps them: in memory (no store), in the SQLite intent store's database
 * (table `webhooks`, src/controller/store/schema.ts), or in etcd (src/controller/store/etcd/).
 * A subscription's URL and secret are kept as given: they are needed to deliver and sign.
 */
import type BetterSqlite3 from 'better-sqlite3';

export interface StoredWebhook {
  id: string;
  url: string;
  types: string[];
  secret?: string;
  createdAtMs: number;
}

export interface WebhookStore {
  insert(w: StoredWebhook): Promise<void>;
  /** False when no subscription has the id. */
  remove(id: string): Promise<boolean>;
  /** Every subscription, oldest first. */
  list(): Promise<StoredWebhook[]>;
  /**
   * Calls `changed` whenever a subscription is added or removed, here or by another controller; the
   * listener reads `list()` again. Returns the unsubscribe.
   */
  watch(changed: () => void): () => void;
}

/** Listeners of a store in this process, called after each of its writes. */
class LocalListeners {
  private readonly listeners = new Set<() => void>();

  add(changed: () => void): () => void {
    this.listeners.add(changed);
    return () => this.listeners.delete(changed);
  }

  notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

export function createMemoryWebhookStore(): WebhookStore {
  const subs = new Map<string, StoredWebhook>();
  const listeners = new LocalListeners();
  return {
    async insert(w) {
      subs.set(w.id, { ...w, types: [...w.types] });
      listeners.notify();
    },
    async remove(id) {
      const had = subs.delete(id);
      if (had) listeners.notify();
      return had;
    },
    async list() {
      return [...subs.values()];
    },
    watch: (changed) => listeners.add(changed),
  };
}

interface WebhookRow {
  id: string;
  url: string;
  types: string;
  secret: string | null;
  created_at_ms: number;
}

export function createSqliteWebhookStore(db: BetterSqlite3.Database): WebhookStore {
  const insert = db.prepare('INSERT INTO webhooks (id, url, types, secret, created_at_ms) VALUES (@id, @url, @types, @secret, @createdAtMs)');
  const drop = db.prepare('DELETE FROM webhooks WHERE id = ?');
  const all = db.prepare<[], WebhookRow>('SELECT id, url, types, secret, created_at_ms FROM webhooks ORDER BY created_at_ms, id');
  const listeners = new LocalListeners();
  return {
    async insert(w) {
      insert.run({ id: w.id, url: w.url, types: JSON.stringify(w.types), secret: w.secret ?? null, createdAtMs: w.createdAtMs });
      listeners.notify();
    },
    async remove(id) {
      const had = drop.run(id).changes === 1;
      if (had) listeners.notify();
      return had;
    },
    async list() {
      return all.all().map((r) => ({
        id: r.id,
        url: r.url,
        types: JSON.parse(r.types) as string[],
        ...(r.secret === null ? {} : { secret: r.secret }),
        createdAtMs: r.created_at_ms,
      }));
    },
    watch: (changed) => listeners.add(changed),
  };
}
