/**
 * The parts of the fault server's account model that know nothing of requests: OpenAI's reset
 * durations, a seeded PRNG, and the token bucket every limit is enforced with.
 *
 * @module
 */

/** Formats milliseconds as OpenAI's reset durations: `0s`, `120ms`, `1.5s`, `59.712s`, `6m0s`, `1h2m3s`. */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = ((total % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '');
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** Mulberry32: a small deterministic PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A token bucket refilled continuously at `perMinute / 60` tokens per second, holding at most
 * `perMinute / 60 × burstSeconds` tokens (at least 1). Starts full. Times are in milliseconds.
 */
export class TokenBucket {
  readonly limit: number;
  readonly capacity: number;
  readonly #perMs: number;
  #level: number;
  #at: number;

  constructor(perMinute: number, burstSeconds: number, now: number) {
    this.limit = perMinute;
    this.#perMs = perMinute / 60_000;
    this.capacity = Math.max(1, (perMinute / 60) * burstSeconds);
    this.#level = this.capacity;
    this.#at = now;
  }

  /** Tokens available at `now` (after refilling); may be negative after a request larger than the bucket. */
  level(now: number): number {
    if (now > this.#at) {
      this.#level = Math.min(this.capacity, this.#level + (now - this.#at) * this.#perMs);
      this.#at = now;
    }
    return this.#level;
  }

  /**
   * Milliseconds until `amount` tokens are available (0 when they are). A request larger than the
   * bucket only needs a full bucket (and then drives the level below zero).
   */
  waitFor(amount: number, now: number): number {
    const missing = Math.min(amount, this.capacity) - this.level(now);
    return missing <= 0 ? 0 : missing / this.#perMs;
  }

  /** Milliseconds until the bucket is full again. */
  timeUntilFull(now: number): number {
    return Math.max(0, (this.capacity - this.level(now)) / this.#perMs);
  }

  take(amount: number, now: number): void {
    this.level(now);
    this.#level -= amount;
  }
}

