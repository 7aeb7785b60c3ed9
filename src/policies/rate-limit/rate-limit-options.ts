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
  /**
   * Share of each model's request rate one tenant may use (0 < share ≤ 1). With shared state (`shared`),
   * across every process calling as the same account; in each process alone while it is unavailable.
   * @default 1
   */
  readonly tenantShare?: number | undefined;
  /**
   * Traffic classes in the wait for a model's capacity: calls of a higher class go ahead of waiting calls
   * of lower ones (see docs/traffic-classes.md#rate-limiter).
   * @default { reservedShare: { default: 0.1, background: 0.1 } }
   */
  readonly classes?: RateLimitClassOptions | undefined;
}

/** `rateLimit.classes`: how a model's waiting calls share its capacity across traffic classes. */
export interface RateLimitClassOptions {
  /**
   * Anti-starvation: per class, the minimum share (0 to 0.9) of a model's requests it keeps while calls of
   * higher classes keep arriving and it waits too. With share `s`, at most `(1 − s) / s` higher-class calls
   * in a row go ahead of it (0.1: nine) before its first waiting call gets capacity. 0: higher classes
   * always go first. `interactive` has no class above it. A class's unspecified share keeps its default.
   * @default { default: 0.1, background: 0.1 }
   * @example { background: 0.25 } // one background request in four while interactive traffic saturates the model
   */
  readonly reservedShare?: Readonly<{ default?: number | undefined; background?: number | undefined }> | undefined;
}
