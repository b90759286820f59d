/** Reconnect delays: exponential with "equal jitter" (half fixed, half random), capped. Pure. */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5000 };

/** The delay before reconnect attempt `attempt` (0-based); `random` returns [0, 1). */
export function backoffDelayMs(attempt: number, opts: BackoffOptions, random: () => number): number {
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + random() * (base / 2));
}
