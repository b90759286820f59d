/**
 * Bytes every switch connection of a listener holds while waiting for the rest of a message, added
 * up: one bound on receive memory however many connections there are. A connection that would push
 * the sum over the cap is closed by its owner.
 */
export const DEFAULT_RECEIVE_BUDGET_BYTES = 64 * 1024 * 1024;

export class ReceiveBudget {
  private total = 0;

  constructor(
    readonly maxBytes = DEFAULT_RECEIVE_BUDGET_BYTES,
    /** Told of every growth refused (the owner closes that connection). */
    private readonly onRefused: () => void = () => undefined,
  ) {}

  get usedBytes(): number {
    return this.total;
  }

  /**
   * One connection's held bytes go from `before` to `after`. False (and nothing recorded) when that
   * growth would take the sum over the cap; shrinking is always accepted.
   */
  adjust(before: number, after: number): boolean {
    const next = this.total - before + after;
    if (after > before && next > this.maxBytes) {
      this.onRefused();
      return false;
    }
    this.total = next;
    return true;
  }
}
