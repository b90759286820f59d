/** An intent store whose every commit is timed (overcast_store_commit_duration_seconds). */
import type { IntentStore } from '../store/index.js';

export function timedStore(store: IntentStore, observe: (seconds: number) => void, nowMs: () => number): IntentStore {
  const head = store.head?.bind(store);
  return {
    location: store.location,
    load: () => store.load(),
    async commit(tx) {
      const started = nowMs();
      try {
        return await store.commit(tx);
      } finally {
        observe((nowMs() - started) / 1000);
      }
    },
    watch: (after, handlers) => store.watch(after, handlers),
    ...(head ? { head } : {}),
    close: () => store.close(),
  };
}
