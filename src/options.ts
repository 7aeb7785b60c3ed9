import type { HedgeOptions } from './policies/hedge/hedge-options.js';
import type { SharedBackend } from './shared/shared-backend.js';
import type { IBackoffFactory, IPolicy, IRetryBackoffContext } from 'cockatiel';
import type { CacheOptions } from './cache/cache-options.js';
import type { FallbackOptions } from './fallback/fallback-options.js';
import type { BulkheadOptions, CircuitBreakerOptions, RateLimitOptions } from './policies/protection-options.js';
import type { ErrorKind, RecoveryAction } from './errors/error-kind.js';
import type { Clock } from './core/clock.js';
import type { LogLevel, ResilienceLogger } from './events/logging.js';

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
   * removes the cap.
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

/**
 * Time limits. Each bound aborts the request in flight (no orphaned requests). Each is at most
 * 2_147_483_647 ms (about 24.8 days, the longest a timer can wait).
 */
export interface TimeoutOptions {
  /**
   * Limit for one attempt, in milliseconds: until the whole body has arrived, or for `stream: true` until
   * the first chunk. An attempt that runs out is a `timeout` failure and is retried. `false` for none.
   * A body that goes silent is also cut sooner by `timeout.idle`.
   * A per-request `timeout` (the SDK's request option) overrides it for that request.
   * @default 600_000 (the SDK's own default), or the wrapped client's `timeout` when you set one on it
   */
  readonly attempt?: number | false | undefined;
  /**
   * For `stream: true`: the longest wait from sending to the first meaningful event (the Responses API's
   * `response.created` / `in_progress` do not count), in milliseconds. Running out is a failed attempt,
   * retried like any other. `false` for none.
   * @default `timeout.attempt` (600_000): a reasoning model may think for minutes before its first token
   */
  readonly firstChunk?: number | false | undefined;
  /**
   * The longest silence in a response body once its headers have arrived, in milliseconds:
   * - for a stream once started: the longest the caller waits for the next chunk (running out aborts the
   *   connection and the caller's iteration throws `StreamIdleTimeoutError`; time the caller spends between
   *   reads is never counted against the upstream), and the longest a stream may stand still, with no
   *   chunk from the upstream and no read by the caller, before it is ended as abandoned
   *   (`StreamAbandonedError`, `streamAbandoned` event);
   * - for any other answer (JSON, text), between two pieces of its body: running out closes the connection
   *   and fails the attempt with the SDK's `APIConnectionTimeoutError` (kind `timeout`), which is retried.
   *   Without it, a body that never comes is bounded only by `timeout.attempt`, or by Node's fetch giving
   *   up after 300 s.
   *
   * `false` for none.
   * @default 120_000 (long enough for hosted tools such as web search between events)
   */
  readonly idle?: number | false | undefined;
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

/** How streams end. */
export interface StreamingOptions {
  /**
   * A stream that ends without its terminal event (`[DONE]`, `response.completed`) is cut short:
   * `'error'` makes the caller's iteration throw `StreamTruncatedError`; `'end'` ends it quietly (a
   * `streamTruncated` event still fires).
   * @default 'error'
   */
  readonly onTruncated?: 'error' | 'end' | undefined;
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
  /** How streams end. @default see {@link StreamingOptions} */
  readonly streaming?: StreamingOptions | undefined;
  /** Per-key circuit breaker, or `false` for none. @default see {@link CircuitBreakerOptions} */
  readonly circuitBreaker?: CircuitBreakerOptions | false | undefined;
  /** Concurrency cap with a bounded queue, or `false` for none. @default see {@link BulkheadOptions} */
  readonly bulkhead?: BulkheadOptions | false | undefined;
  /** Client-side rate limiting, or `false` for none. @default learned from response headers */
  readonly rateLimit?: RateLimitOptions | false | undefined;
  /**
   * Hedging for tail latency (opt-in): `true` for the defaults, or options. An attempt unanswered after
   * the model's hedge delay gets a twin; the first to answer wins and the other is aborted.
   * @default false
   */
  readonly hedge?: boolean | HedgeOptions | undefined;
  /** Response cache and single-flight: `true` for the defaults, or options. @default false */
  readonly cache?: boolean | CacheOptions | undefined;
  /**
   * State shared by several processes: circuit states (with coordinated half-open probes) and rate-limit
   * buckets, learned limits and pauses, per account. Whenever it does not answer within its timeout,
   * calls go on with this process's own state (`sharedStateDown` / `sharedStateUp` events,
   * `stats().shared`). Use `createRedisState()` from `openai-resilient/redis`; its `cacheStore` goes in
   * `cache.store`.
   * @default none (every process keeps its own state)
   */
  readonly shared?: SharedBackend | undefined;
  /**
   * Fresh credentials after a 401: returns a new API key (or nothing, when the client's own `apiKey`
   * function will fetch one). The call is retried once with it; without this hook (and without an
   * `apiKey` function on the client) a 401 fails at once. Never loops.
   * @default none
   */
  readonly refreshCredentials?: ((error: unknown) => string | void | Promise<string | void>) | undefined;
  /**
   * Pre-flight (opt-in): context windows in tokens, per model. A request estimated above its model's
   * window is not sent: it goes straight to the `fallback.contextWindow` models, or fails with
   * `ContextWindowExceededError`.
   * Each window is an integer from 1 to 1_000_000_000_000.
   * @default {} (no pre-flight)
   * @example `{ 'gpt-4.1-mini': 1_047_576, 'gpt-4o': 128_000 }`
   */
  readonly contextWindows?: Readonly<Record<string, number>> | undefined;
  /** Fallback models, providers and a last-resort value. @default none */
  readonly fallback?: FallbackOptions | undefined;
  /**
   * Where to log what the policies decide (retries, give-ups, circuit changes, fallbacks, stalls...):
   * `console`, a pino logger, or any object with `debug` / `info` / `warn` / `error`. Lines never contain
   * request bodies, prompts or API keys (error messages are redacted).
   * @default none (no logging)
   */
  readonly logger?: ResilienceLogger | undefined;
  /** The least severe level logged. @default 'warn' */
  readonly logLevel?: LogLevel | undefined;
  /** Extra cockatiel policies. @default none */
  readonly policies?: PolicyOptions | undefined;
  /**
   * Source of time for waits and timeouts. Pass a fake clock in tests to avoid real sleeps.
   * @default the system clock (`Date.now` and global timers)
   */
  readonly clock?: Clock | undefined;
}

export type { CacheOptions } from './cache/cache-options.js';
export type { SharedBackend } from './shared/shared-backend.js';
export type { HedgeOptions } from './policies/hedge/hedge-options.js';
export type { FallbackClient, FallbackOptions, FallbackRequest, FallbackValue } from './fallback/fallback-options.js';
export type { BreakerKeyInput, BulkheadOptions, CircuitBreakerOptions, RateLimitOptions, RateLimits } from './policies/protection-options.js';
