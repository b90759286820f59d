/**
 * Warnings about strangers, throttled: a flood of refused connections is one line per kind of refusal
 * per interval, saying how many were not logged since, instead of a line per connection (the log would
 * otherwise be the flood's next victim). The counters (admission-counters.ts) count every one.
 */
import type { Logger } from 'pino';

export const REFUSAL_LOG_INTERVAL_MS = 10_000;

export type ThrottledWarn = (message: string, fields: Record<string, unknown>) => void;

export function throttledWarn(logger: Logger, nowMs: () => number = () => performance.now(), intervalMs = REFUSAL_LOG_INTERVAL_MS): ThrottledWarn {
  const last = new Map<string, { atMs: number; skipped: number }>();
  return (message, fields) => {
    const now = nowMs();
    const seen = last.get(message);
    if (seen && now - seen.atMs < intervalMs) {
      seen.skipped++;
      return;
    }
    logger.warn({ ...fields, ...(seen?.skipped ? { notLoggedSince: seen.skipped } : {}) }, message);
    last.set(message, { atMs: now, skipped: 0 });
  };
}
