/**
 * A token bucket refilled continuously at `perMinute / 60_000` tokens per millisecond, holding at most
 * `capacity`. Its level may go below zero: a caller *reserves* what it needs and waits until the debt is
 * repaid, which serves concurrent callers in arrival order without a queue of timers. A pause
 * ({@link holdEmptyUntil}) stops the refill for a while.
 */
export class TokenBucket {
  #perMs: number;
  #capacity: number;
  #level: number;
  #updatedAt: number;

  constructor(perMinute: number, capacity: number, now: number) {
    this.#perMs = perMinute / 60_000;
    this.#capacity = Math.max(1, capacity);
    this.#level = this.#capacity;
    this.#updatedAt = now;
  }

  get perMinute(): number {
    return this.#perMs * 60_000;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Tokens available at `now` (negative while reservations are being repaid). */
  level(now: number): number {
    this.#refill(now);
    return this.#level;
  }

  /** Takes `amount` (into debt if need be); returns how long until the level is back at zero. */
  reserve(amount: number, now: number): number {
    this.#refill(now);
    this.#level -= amount;
    if (this.#level >= 0) return 0;
    // While held, the refill that repays the debt starts only when the hold ends.
    return Math.max(0, this.#updatedAt - now) + Math.ceil(-this.#level / this.#perMs);
  }

  /** Gives back a reservation that was not used (an aborted wait), or an over-estimate. */
  refund(amount: number, now: number): void {
    this.#refill(now);
    this.#level = Math.min(this.#capacity, this.#level + amount);
  }

  /** Lowers the level to what the server says is left (never raises it). */
  clampTo(remaining: number, now: number): void {
    this.#refill(now);
    this.#level = Math.min(this.#level, remaining);
  }

  /**
   * Empties the bucket (keeping any debt) and stops its refill until `until` (a pause after a 429): what is
   * reserved meanwhile is repaid at the limit's rate after the pause, so those callers are spread out
   * instead of released together, and callers already in debt move back by the time the refill is held.
   */
  holdEmptyUntil(until: number, now: number): void {
    this.#refill(now);
    this.#level = Math.min(this.#level, 0);
    this.#updatedAt = Math.max(this.#updatedAt, until);
  }

  /** Adopts a new limit (learned from headers), keeping the current level within the new capacity. */
  setLimit(perMinute: number, capacity: number, now: number): void {
    this.#refill(now);
    this.#perMs = perMinute / 60_000;
    this.#capacity = Math.max(1, capacity);
    this.#level = Math.min(this.#level, this.#capacity);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#updatedAt = Math.max(this.#updatedAt, now);
    this.#level = Math.min(this.#capacity, this.#level + elapsed * this.#perMs);
  }
}
