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

  /** Spend one token; false when none is left (the caller drops and counts). */
  take(): boolean {
    const now = this.nowMs();
    const elapsed = now - this.lastMs;
    if (elapsed > 0) {
      this.tokens = Math.min(this.options.burst, this.tokens + (elapsed * this.options.ratePerSec) / 1000);
      this.lastMs = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
