import type { HedgeOptions } from '../policies/hedge/hedge-options.js';
import type { SharedBackend } from '../shared/shared-backend.js';
import type { CacheOptions } from '../cache/cache-options.js';
import type { FallbackOptions } from '../fallback/fallback-options.js';
import type { CircuitBreakerOptions } from '../policies/circuit-breaker/circuit-breaker-options.js';
import type { ErrorKind, RecoveryAction } from '../errors/error-kind.js';
import type { Clock } from '../core/clock.js';
import type { LogLevel, ResilienceLogger } from '../events/logging.js';
import type { BulkheadOptions } from '../policies/bulkhead/bulkhead-options.js';
import type { RateLimitOptions } from '../policies/rate-limit/rate-limit-options.js';
import type { RetryOptions } from '../policies/retry/retry-options.js';
import type { PolicyOptions, TimeoutOptions } from '../pipeline/pipeline-options.js';
import type { StreamingOptions } from '../streams/streaming-options.js';
import type { PoolOptions } from '../pool/pool-options.js';
import type { FlexOptions } from '../tiers/flex-options.js';
import type { BudgetOptions } from '../budgets/budget-options.js';
import type { TokensOptions } from '../tokens/tokens-options.js';

/** Options of {@link resilient}. Every field is optional; the defaults are documented on each. */
export interface ResilienceOptions {
  /** Retry policy, or `false` to make every call a single attempt. @default see {@link RetryOptions} */
  readonly retry?: RetryOptions | false | undefined;
  /** Timeouts, or `false` for none at all. @default see {@link TimeoutOptions} */
  readonly timeout?: TimeoutOptions | false | undefined;
  /**
   * Overrides of the error-to-action table, per kind. `aborted`, `deadline_exceeded` and `budget_exceeded` are never retried.
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
   * Pre-flight (opt-in): context windows in tokens, per model. A request counted above its model's
   * window (its prompt plus its output bound, see `tokens`) is not sent: it goes straight to the
   * `fallback.contextWindow` models, or fails with `ContextWindowExceededError`.
   * Each window is an integer from 1 to 1_000_000_000_000.
   * @default {} (no pre-flight)
   * @example `{ 'gpt-4.1-mini': 1_047_576, 'gpt-4o': 128_000 }`
   */
  readonly contextWindows?: Readonly<Record<string, number>> | undefined;
  /**
   * Limits on the tokens and the spend of calls, per tenant or for the whole client, over windows you
   * choose: checked before each attempt is sent (a call without room fails with `BudgetExceededError`)
   * and settled with the `usage` the API reports. See docs/budgets.md.
   * @default none (no budgets)
   * @example `{ limits: [{ tokens: 100_000, window: 'hour' }] }`
   */
  readonly budgets?: BudgetOptions | undefined;
  /**
   * How a request's tokens are counted before it is sent (rate-limit reservations, the `contextWindows`
   * pre-flight, budgets): exactly by `gpt-tokenizer` when it is installed (loaded on the first count),
   * else estimated at about 4 characters per token. See docs/tokens.md.
   * @default `{ tokenizer: 'auto' }`
   */
  readonly tokens?: TokensOptions | undefined;
  /**
   * How a pool (`resilient([memberA, memberB, ...])`) routes its calls; only with an array of members.
   * See docs/pools.md.
   * @default `{ routing: 'balanced' }`
   */
  readonly pool?: PoolOptions | undefined;
  /**
   * OpenAI's cheaper flex processing for calls that can wait (opt-in): `true` sends `background` calls
   * at `service_tier: 'flex'`, and sends a call again at once at its usual tier when flex has no capacity
   * for it. See docs/traffic-classes.md.
   * @default false
   */
  readonly flex?: boolean | FlexOptions | undefined;
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

export type { CacheOptions } from '../cache/cache-options.js';
export type { SharedBackend } from '../shared/shared-backend.js';
export type { HedgeOptions } from '../policies/hedge/hedge-options.js';
export type { FallbackClient, FallbackOptions, FallbackRequest, FallbackValue } from '../fallback/fallback-options.js';
export type { BreakerKeyInput, CircuitBreakerOptions } from '../policies/circuit-breaker/circuit-breaker-options.js';
export type { BulkheadOptions } from '../policies/bulkhead/bulkhead-options.js';
export type { RateLimitOptions, RateLimits } from '../policies/rate-limit/rate-limit-options.js';
export type { RetryBackoffContext, RetryBudgetOptions, RetryOptions } from '../policies/retry/retry-options.js';
export type { PolicyOptions, TimeoutOptions } from '../pipeline/pipeline-options.js';
export type { StreamingOptions } from '../streams/streaming-options.js';
export type { PoolMember, PoolOptions, PoolRouting } from '../pool/pool-options.js';
export type { FlexOptions } from '../tiers/flex-options.js';
export type { BudgetLimit, BudgetOptions, BudgetWindow, ModelPrice } from '../budgets/budget-options.js';
