/** An intent store whose every transaction is timed (overcast_store_commit_duration_seconds). */
import type { IntentStore } from '../store/index.js';

export function timedStore(store: IntentStore, observe: (seconds: number) => void, nowMs: () => number): IntentStore {
  return {
    load: () => store.load(),
    transaction(fn) {
      const started = nowMs();
      try {
        return store.transaction(fn);
      } finally {
        observe((nowMs() - started) / 1000);
      }
    },
    close: () => store.close(),
  };
}
