/**
 * A token bucket: `ratePerSec` tokens a second, at most `burst` saved up. Each take() spends one token
 * or says no. The rate limit of packet-ins on both ends of a switch channel (the softswitch's meter
 * on its packet-in path, the controller's budget per switch). The clock is passed in (milliseconds,
 * monotonic), so tests drive time.
 */
export interface TokenBucketOptions {
  ratePerSec: number;
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly options: TokenBucketOptions,
    private readonly nowMs: () => number,
  ) {
    this.tokens = options.burst;
    this.lastMs = nowMs();
  }

  /**
   * Spend `cost` tokens (default one: a packet; a meter in kilobits spends a frame's size); false when
   * fewer are left (the caller drops and counts, and nothing is spent).
   */
  take(cost = 1): boolean {
    if (!this.has(cost)) return false;
    this.tokens -= cost;
    return true;
  }

  /** Are `cost` tokens there now (after refilling for the time gone by)? Spends nothing. */
  has(cost = 1): boolean {
    const now = this.nowMs();
    const elapsed = now - this.lastMs;
    if (elapsed > 0) {
      this.tokens = Math.min(this.options.burst, this.tokens + (elapsed * this.options.ratePerSec) / 1000);
      this.lastMs = now;
    }
    return this.tokens >= cost;
  }
}
