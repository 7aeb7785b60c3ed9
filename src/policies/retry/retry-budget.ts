import type { Clock } from '../../core/clock.js';
import { RollingCounter } from '../rolling-counter.js';

/** Retry budget settings after defaults (see `RetryOptions.budget`). */
export interface RetryBudgetSettings {
  /** Retries may add at most this fraction of the calls made in the window. */
  readonly ratio: number;
  /** Retries always allowed per window, so that a quiet client can still retry. */
  readonly minRetries: number;
  /** The window, in milliseconds. */
  readonly window: number;
}

/**
 * A client-wide cap on retries, as in Envoy's retry budget and gRPC's retry throttling: over the last
 * `window`, retries may number at most `minRetries + ratio × calls`. When an outage makes every call
 * fail, traffic grows by at most that fraction instead of multiplying by `1 + maxRetries`.
 */
export class RetryBudget {
  readonly #calls: RollingCounter;
  readonly #retries: RollingCounter;

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly clock: Clock,
  ) {
    this.#calls = new RollingCounter(settings.window);
    this.#retries = new RollingCounter(settings.window);
  }

  /** Counts a new call (its first attempt). */
  recordCall(): void {
    this.#calls.add(this.clock.now());
  }

  /** Takes one retry from the budget; `false` when it is spent. */
  tryRetry(): boolean {
    const now = this.clock.now();
    const allowed = this.settings.minRetries + this.settings.ratio * this.#calls.total(now);
    if (this.#retries.total(now) + 1 > allowed) return false;
    this.#retries.add(now);
    return true;
  }
}
