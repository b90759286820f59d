/**
 * Webhooks: each controller event a subscription wants is POSTed to its URL as JSON, one at a time per
 * subscription and in event order. A non-2xx answer, a network error or a timeout is retried with
 * exponential backoff up to `maxAttempts`; then the event is counted as failed and the next one goes.
 * Each subscription's queue is bounded: beyond it events are counted as dropped, never buffered without
 * limit behind a dead receiver.
 *
 * Subscriptions live in a WebhookStore (./webhook-store.ts): SQLite or etcd keep them across restarts
 * and share them between the controllers of a cluster, each of which delivers the events it is
 * responsible for (`owns`: in a cluster, a switch's events from its master, intent events from the
 * leader), so a subscriber hears each event once. Queues and counters are this controller's.
 *
 * A URL may carry credentials (`https://user:pass@host/`, `?token=`): they are used to deliver and
 * never shown back or logged (src/controller/auth/redact.ts).
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { OvercastError } from '../errors/index.js';
import { isControllerEventType, type ControllerEvent, type ControllerEvents } from './events.js';
import { redactSecrets } from './auth/redact.js';
import type { TimerHandle } from './timers.js';
import { createMemoryWebhookStore, type StoredWebhook, type WebhookStore } from './webhook-store.js';

export const DEFAULT_WEBHOOK_MAX_ATTEMPTS = 5;
export const DEFAULT_WEBHOOK_QUEUE_LIMIT = 1000;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5000;
export const DEFAULT_WEBHOOK_BACKOFF = { initialMs: 500, maxMs: 30_000, factor: 2 } as const;

export interface WebhookSubscriptionInput {
  url: string;
  /** Event types to send (exact, or a prefix ending in `.*`); none or empty = every event. */
  types?: readonly string[];
  /** When set, each POST carries `x-overcast-signature: sha256=<hex HMAC of the body>`. */
  secret?: string;
}

export interface WebhookCounters {
  delivered: number;
  /** Events given up after maxAttempts. */
  failed: number;
  /** Events not queued: the queue was full. */
  dropped: number;
  attempts: number;
  retries: number;
}

export interface WebhookSubscription {
  id: string;
  url: string;
  types: string[];
  /** Events waiting (including the one in flight). */
  queued: number;
  counters: WebhookCounters;
  lastError?: string;
}

export interface WebhookDispatcherOptions {
  maxAttempts?: number;
  backoff?: { initialMs?: number; maxMs?: number; factor?: number };
  queueLimit?: number;
  timeoutMs?: number;
}


export interface WebhookDispatcherComponents {
  /** Where subscriptions are kept (default: in memory). */
  store?: WebhookStore;
  /** Whether this controller delivers an event (default: every one). */
  owns?: (e: ControllerEvent) => boolean;
  /** Wall-clock milliseconds (a subscription's creation time; default Date.now). */
  nowMs?: () => number;
  fetch?: typeof fetch;
  setTimeout?(fn: () => void, ms: number): TimerHandle;
  clearTimeout?(handle: TimerHandle): void;
  logger?: Logger;
}

export interface WebhookDispatcher {
  /** Validates the URL and types, then stores; rejects with OvercastError (OVC_ERR_WEBHOOK_BAD_URL, OVC_ERR_API_VALIDATION). */
  add(input: WebhookSubscriptionInput): Promise<WebhookSubscription>;
  /** False when no subscription has that id. */
  remove(id: string): Promise<boolean>;
  /** Reads the stored subscriptions again (also done whenever the store says they changed). */
  refresh(): Promise<void>;
  get(id: string): WebhookSubscription | undefined;
  list(): WebhookSubscription[];
  /** Queue one event for every subscription that wants it. */
  dispatch(e: ControllerEvent): void;
  /** Dispatch every event from now on; returns the unsubscribe. */
  attach(events: ControllerEvents): () => void;
  /** Resolves when every queue is empty (tests, graceful shutdown: race it with a timeout). */
  idle(): Promise<void>;
  /** Stop: cancel retries and in-flight requests, forget queued events, stop watching the store. */
  close(): void;
}

interface Sub {
  id: string;
  url: string;
  types: string[];
  secret: string | undefined;
  queue: ControllerEvent[];
  busy: boolean;
  counters: WebhookCounters;
  lastError: string | undefined;
  timer: TimerHandle | undefined;
  abort: AbortController | undefined;
  closed: boolean;
}

export function createWebhookDispatcher(options: WebhookDispatcherOptions = {}, components: WebhookDispatcherComponents = {}): WebhookDispatcher {
  const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_WEBHOOK_MAX_ATTEMPTS);
  const initialMs = options.backoff?.initialMs ?? DEFAULT_WEBHOOK_BACKOFF.initialMs;
  const maxMs = options.backoff?.maxMs ?? DEFAULT_WEBHOOK_BACKOFF.maxMs;
  const factor = options.backoff?.factor ?? DEFAULT_WEBHOOK_BACKOFF.factor;
  const queueLimit = options.queueLimit ?? DEFAULT_WEBHOOK_QUEUE_LIMIT;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const doFetch = components.fetch ?? fetch;
  const setTimer = components.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const clearTimer = components.clearTimeout ?? ((h: TimerHandle) => clearTimeout(h as NodeJS.Timeout));
  const logger = components.logger;
  const store = components.store ?? createMemoryWebhookStore();
  const owns = components.owns ?? (() => true);
  const nowMs = components.nowMs ?? Date.now;

  const subs = new Map<string, Sub>();
  let idleWaiters: (() => void)[] = [];

  const view = (s: Sub): WebhookSubscription => ({
    id: s.id,
    url: redactSecrets(s.url),
    types: [...s.types],
    queued: s.queue.length,
    counters: { ...s.counters },
    ...(s.lastError === undefined ? {} : { lastError: redactSecrets(s.lastError) }),
  });

  const wants = (s: Sub, type: string) =>
    s.types.length === 0 || s.types.some((t) => (t.endsWith('.*') ? type.startsWith(t.slice(0, -1)) : t === type));

  const checkIdle = () => {
    if (idleWaiters.length === 0) return;
    for (const s of subs.values()) if (s.queue.length > 0) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const resolve of w) resolve();
  };

  const sleep = (s: Sub, ms: number) =>
    new Promise<void>((resolve) => {
      s.timer = setTimer(() => {
        s.timer = undefined;
        resolve();
      }, ms);
    });

  /** One POST; resolves with an error text, or undefined on a 2xx. Never rejects. */
  const attempt = async (s: Sub, e: ControllerEvent, n: number): Promise<string | undefined> => {
    const body = JSON.stringify(e);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'overcast-webhooks',
      'x-overcast-event': e.type,
      'x-overcast-event-id': String(e.id),
      'x-overcast-delivery-attempt': String(n),
    };
    if (s.secret !== undefined) headers['x-overcast-signature'] = `sha256=${createHmac('sha256', s.secret).update(body).digest('hex')}`;
    const abort = new AbortController();
    s.abort = abort;
    const timer = setTimer(() => abort.abort(), timeoutMs);
    try {
      const res = await doFetch(s.url, { method: 'POST', headers, body, signal: abort.signal, redirect: 'manual' });
      // Drain the body so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      return abort.signal.aborted ? (s.closed ? 'closed' : `timeout after ${timeoutMs} ms`) : (err as Error).message;
    } finally {
      clearTimer(timer);
      s.abort = undefined;
    }
  };

  const pump = async (s: Sub) => {
    if (s.busy) return;
    s.busy = true;
    while (!s.closed && s.queue.length > 0) {
      const e = s.queue[0];
      let error: string | undefined;
      for (let n = 1; n <= maxAttempts && !s.closed; n++) {
        if (n > 1) {
          s.counters.retries++;
          await sleep(s, Math.min(maxMs, initialMs * factor ** (n - 2)));
          if (s.closed) break;
        }
        s.counters.attempts++;
        error = await attempt(s, e, n);
        if (error === undefined) break;
      }
      if (s.closed) break;
      if (error === undefined) s.counters.delivered++;
      else {
        s.counters.failed++;
        s.lastError = error;
        logger?.warn({ webhook: s.id, url: redactSecrets(s.url), eventId: e.id, type: e.type, error: redactSecrets(error) }, 'webhook delivery failed');
      }
      s.queue.shift();
    }
    s.busy = false;
    checkIdle();
  };

  const stop = (s: Sub) => {
    s.closed = true;
    if (s.timer !== undefined) clearTimer(s.timer);
    s.timer = undefined;
    s.abort?.abort();
    s.queue = [];
  };

  const open = (w: StoredWebhook): Sub => ({
    id: w.id,
    url: w.url,
    types: [...w.types],
    secret: w.secret,
    queue: [],
    busy: false,
    counters: { delivered: 0, failed: 0, dropped: 0, attempts: 0, retries: 0 },
    lastError: undefined,
    timer: undefined,
    abort: undefined,
    closed: false,
  });

  let closed = false;
  /** Brings the subscriptions here in line with the stored ones (added elsewhere, removed elsewhere). */
  const sync = (stored: readonly StoredWebhook[]) => {
    if (closed) return;
    const ids = new Set(stored.map((w) => w.id));
    for (const [id, s] of subs) {
      if (ids.has(id)) continue;
      stop(s);
      subs.delete(id);
    }
    for (const w of stored) if (!subs.has(w.id)) subs.set(w.id, open(w));
    checkIdle();
  };
  let reading: Promise<void> | undefined;
  let again = false;
  const refresh = async (): Promise<void> => {
    if (reading) {
      again = true;
      return reading;
    }
    reading = (async () => {
      do {
        again = false;
        sync(await store.list());
      } while (again);
    })().finally(() => (reading = undefined));
    return reading;
  };
  const unwatch = store.watch(() => {
    refresh().catch((err: unknown) => logger?.warn({ err }, 'cannot read the webhook subscriptions'));
  });

  const dispatcher: WebhookDispatcher = {
    async add(input) {
      let url: URL;
      try {
        url = new URL(input.url);
      } catch {
        throw new OvercastError('OVC_ERR_WEBHOOK_BAD_URL', `not a URL: ${redactSecrets(input.url)}`, 'url');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OvercastError('OVC_ERR_WEBHOOK_BAD_URL', `webhooks need http or https, not ${url.protocol}`, 'url');
      const types = [...(input.types ?? [])];
      types.forEach((t, i) => {
        const base = t.endsWith('.*') ? undefined : t;
        if (base !== undefined && !isControllerEventType(base)) throw new OvercastError('OVC_ERR_EVENTS_UNKNOWN_TYPE', `no event type ${t}`, `types[${i}]`);
      });
      const stored: StoredWebhook = { id: randomUUID(), url: url.toString(), types, ...(input.secret === undefined ? {} : { secret: input.secret }), createdAtMs: nowMs() };
      await store.insert(stored);
      let s = subs.get(stored.id);
      if (!s) subs.set(stored.id, (s = open(stored)));
      return view(s);
    },
    async remove(id) {
      const removed = await store.remove(id);
      const s = subs.get(id);
      if (s) {
        stop(s);
        subs.delete(id);
        checkIdle();
      }
      return removed;
    },
    refresh,
    get(id) {
      const s = subs.get(id);
      return s && view(s);
    },
    list() {
      return [...subs.values()].map(view);
    },
    dispatch(e) {
      if (!owns(e)) return;
      for (const s of subs.values()) {
        if (!wants(s, e.type)) continue;
        if (s.queue.length >= queueLimit) {
          s.counters.dropped++;
          continue;
        }
        s.queue.push(e);
        void pump(s);
      }
    },
    attach(events) {
      return events.subscribe((e) => dispatcher.dispatch(e));
    },
    idle() {
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
    },
    close() {
      closed = true;
      unwatch();
      for (const s of subs.values()) stop(s);
      subs.clear();
      checkIdle();
    },
  };
  void refresh().catch((err: unknown) => logger?.warn({ err }, 'cannot read the webhook subscriptions'));
  return dispatcher;
}
