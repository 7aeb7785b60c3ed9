import type { IBackoffFactory, IPolicy, IRetryBackoffContext } from 'cockatiel';
import type { ErrorKind, RecoveryAction } from './classify/error-kind.js';
import type { Clock } from './internal/clock.js';

/** What a retry backoff sees: cockatiel's retry context plus the classified error kind. */
export interface RetryBackoffContext extends IRetryBackoffContext<unknown> {
  /** The kind of the failure being retried. */
  readonly kind: ErrorKind;
}

/** How failed attempts are retried. Server hints (`retry-after-ms`, `retry-after`, `x-ratelimit-reset-*`) always win over backoff. */
export interface RetryOptions {
  /**
   * Retries after the first attempt (so `2` means up to 3 requests). A per-request `maxRetries`
   * (the SDK's request option) overrides it for that request.
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
   * call at once with the upstream error instead of sleeping.
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
}

/** Time limits. Each bound aborts the request in flight (no orphaned requests). */
export interface TimeoutOptions {
  /**
   * Limit for one attempt, in milliseconds: until the whole body has arrived, or for `stream: true` until
   * the first chunk. An attempt that runs out is a `timeout` failure and is retried. `false` for none.
   * A per-request `timeout` (the SDK's request option) overrides it for that request.
   * @default 600_000 (the SDK's own default), or the wrapped client's `timeout` when you set one on it
   */
  readonly attempt?: number | false | undefined;
  /**
   * Limit for the whole call, attempts and waits included, in milliseconds. When it runs out the call
   * rejects with `DeadlineExceededError`; a retry whose wait would not fit is not started. `false` for none.
   * @default 900_000
   */
  readonly total?: number | false | undefined;
}

/**
 * Your own cockatiel policies, composed into the pipeline:
 * `total deadline → call policies → retry → attempt policies → attempt timeout → request`.
 */
export interface PolicyOptions {
  /** Policies around the whole call, inside the total deadline and outside retries. @default [] */
  readonly call?: readonly IPolicy<any, any>[] | undefined;
  /** Policies around each attempt, inside retries (a failure here is classified and may be retried). @default [] */
  readonly attempt?: readonly IPolicy<any, any>[] | undefined;
}

/** Options of {@link resilient}. Every field is optional; the defaults are documented on each. */
export interface ResilienceOptions {
  /** Retry policy, or `false` to make every call a single attempt. @default see {@link RetryOptions} */
  readonly retry?: RetryOptions | false | undefined;
  /** Timeouts, or `false` for none at all. @default see {@link TimeoutOptions} */
  readonly timeout?: TimeoutOptions | false | undefined;
  /**
   * Overrides of the error-to-action table, per kind. `aborted` and `deadline_exceeded` are never retried.
   * @default the table in the README (`DEFAULT_ACTIONS`)
   * @example `{ quota_exhausted: 'retry', bad_request: 'retry' }`
   */
  readonly actions?: Partial<Record<ErrorKind, RecoveryAction>> | undefined;
  /** Extra cockatiel policies. @default none */
  readonly policies?: PolicyOptions | undefined;
  /**
   * Source of time for waits and timeouts. Pass a fake clock in tests to avoid real sleeps.
   * @default the system clock (`Date.now` and global timers)
   */
  readonly clock?: Clock | undefined;
}
