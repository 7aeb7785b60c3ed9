/**
 * Options of the rate limiter. Every count is at most 1_000_000; beyond a bound, `resilient()` throws a
 * `TypeError` naming the option.
 */

/** Fixed per-minute limits. */
export interface RateLimits {
  /** At most 1_000_000_000. @default learned from `x-ratelimit-limit-requests` */
  readonly requestsPerMinute?: number | undefined;
  /** At most 1_000_000_000_000. @default learned from `x-ratelimit-limit-tokens` */
  readonly tokensPerMinute?: number | undefined;
}

/**
 * Client-side rate limiting per model: token buckets for requests and tokens per minute, paced over the
 * minute (at most one second's requests at once; tokens up to the whole minute's limit, as OpenAI allows).
 * Calls wait for capacity instead of collecting 429s.
 */
export interface RateLimitOptions extends RateLimits {
  /** Limits for particular models, overriding the ones above. @default {} */
  readonly models?: Readonly<Record<string, RateLimits>> | undefined;
  /** Learn limits and what is left from `x-ratelimit-*` response headers. @default true */
  readonly learn?: boolean | undefined;
  /** Calls that may wait for one model's capacity (at most 1_000_000); more are rejected with `RateLimitTimeoutError`. @default 1_000 */
  readonly maxQueued?: number | undefined;
  /** Share of each model's request rate one tenant may use (0 < share ≤ 1). @default 1 */
  readonly tenantShare?: number | undefined;
}
