import type { IBackoffFactory, IRetryBackoffContext } from 'cockatiel';
import type { ErrorKind } from '../../errors/error-kind.js';

/** What a retry backoff sees: cockatiel's retry context plus the classified error kind. */
export interface RetryBackoffContext extends IRetryBackoffContext<unknown> {
  /** The kind of the failure being retried. */
  readonly kind: ErrorKind;
}

/**
 * How failed attempts are retried. Server hints (`retry-after-ms`, `retry-after`, `x-ratelimit-reset-*`) always
 * win over backoff. Every duration is at most 2_147_483_647 ms (about 24.8 days).
 */
export interface RetryOptions {
  /**
   * Retries after the first attempt (so `2` means up to 3 requests), at most 1_000. A per-request
   * `maxRetries` (the SDK's request option) overrides it for that request.
   * @default 2, or the wrapped client's own `maxRetries` when you set one on it
   */
  readonly maxRetries?: number | undefined;
  /**
   * Backoff before the first retry, in milliseconds; it doubles with each retry, and `overloaded` (503)
   * waits four times as long as `server_error`.
   * @default 500
   */
  readonly initialDelay?: number | undefined;
  /**
   * Longest backoff between two attempts, in milliseconds.
   * @default 30_000
   */
  readonly maxDelay?: number | undefined;
  /**
   * Longest server-requested wait that is honoured, in milliseconds. A `retry-after` beyond it fails the
   * call at once with the upstream error instead of sleeping. It also caps the rate limiter's pause after
   * a 429, from whichever header it comes (local and shared): a longer reset pauses the model this long,
   * then one call goes first and the others wait for its answer.
   * @default 60_000
   */
  readonly maxRetryAfter?: number | undefined;
  /**
   * Randomises each backoff between half and all of its value, so that many clients failing together
   * do not retry together. Server hints are used as given.
   * @default true
   */
  readonly jitter?: boolean | undefined;
  /**
   * A cockatiel backoff to use instead of the built-in exponential one (for example
   * `new ExponentialBackoff({ generator: decorrelatedJitterGenerator })`). Server hints still win.
   * @default exponential from `initialDelay` to `maxDelay`
   */
  readonly backoff?: IBackoffFactory<RetryBackoffContext> | undefined;
  /**
   * Client-wide retry budget: over the last minute, retries may add at most this fraction of the calls
   * made (plus `minRetries`), so an outage cannot multiply traffic. A number is the ratio; `false`
   * removes the cap. With shared state (`shared`), calls and retries are counted per account by every
   * process (by each alone while the shared state is unavailable).
   * @default { ratio: 0.2, minRetries: 10, window: 60_000 }
   */
  readonly budget?: number | RetryBudgetOptions | false | undefined;
}

/** The retry budget (see {@link RetryOptions.budget}). */
export interface RetryBudgetOptions {
  /** Retries allowed per call made in the window (at most 1_000). @default 0.2 */
  readonly ratio?: number | undefined;
  /** Retries always allowed per window, so that a quiet client can still retry (at most 1_000_000). @default 10 */
  readonly minRetries?: number | undefined;
  /** The sliding window, in milliseconds. @default 60_000 */
  readonly window?: number | undefined;
}
