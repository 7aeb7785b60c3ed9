import { ResilienceError } from './resilience-error.js';

/**
 * The client-side rate limiter could not give this call capacity in time: the wait it needed would not fit
 * in the call's `timeout.total`, or too many calls were already waiting for that model.
 */
export class RateLimitTimeoutError extends ResilienceError {
  override readonly name = 'RateLimitTimeoutError';
  readonly kind = 'rate_limit_timeout' as const;
  readonly model: string;
  /** The wait that was needed, in milliseconds (`undefined` when the queue was full). */
  readonly wait: number | undefined;

  constructor(model: string, wait: number | undefined) {
    super(
      wait === undefined
        ? `Too many calls are waiting for rate-limit capacity for "${model}".`
        : `Rate-limit capacity for "${model}" is ${wait} ms away, beyond the call's deadline.`,
    );
    this.model = model;
    this.wait = wait;
  }
}
