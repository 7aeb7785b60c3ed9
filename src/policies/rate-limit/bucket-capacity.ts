/**
 * How much of a per-minute limit a model's bucket holds at once, in seconds of refill, **before the
 * server has said anything** (a configured limit; `rateLimit.learn: false`):
 *
 * - **Requests: one second.** OpenAI may enforce a requests-per-minute limit over shorter periods
 *   (60 000 per minute as 1 000 per second), so a minute's requests sent at once would collect 429s.
 * - **Tokens: the whole minute.** OpenAI's own token bucket holds the full limit: its
 *   `x-ratelimit-remaining-tokens` counts down from `x-ratelimit-limit-tokens`, and it accepts at once a
 *   single request that needs most of a minute's tokens (a `max_tokens` of 16 384 at 30 000 per minute).
 *
 * Once the server's `x-ratelimit-remaining-*` headers are known, they say what may go (see
 * `LimitBucket`), and these no longer apply. The in-process buckets and the shared ones
 * (src/redis/rate-limit-scripts.ts) both use these constants.
 */
export const BURST_SECONDS = { requests: 1, tokens: 60 } as const;

/** Which per-minute limit a bucket paces. */
export type LimitKind = keyof typeof BURST_SECONDS;

/**
 * How far below the limit fine pacing stays, per refinement: after a 429 despite headroom (the server
 * enforces a shorter window than its headers count), the limiter paces at 95% of the limit, then 90%
 * after another one, and so on; sending exactly at the limit loses to the jitter of the network.
 */
export const FINE_MARGIN = 0.05;

/** Refinements stop here (pace at 0.95^6 ≈ 74% of the limit, bursts of 1/32 s): a 429 beyond is not about pacing. */
export const MAX_REFINEMENTS = 6;

/** The most a bucket pacing `perMinute` of `kind` holds before the server has said anything (at least one). */
export function bucketCapacity(kind: LimitKind, perMinute: number): number {
  return Math.max(1, (perMinute / 60) * BURST_SECONDS[kind]);
}

/**
 * What fine pacing sends at once: one second's worth, and after `refinements` 429s despite headroom,
 * 95% of a second, then half of that each time (at least one).
 */
export function fineCapacity(perMinute: number, refinements: number): number {
  const second = perMinute / 60;
  return Math.max(1, refinements === 0 ? second : (second * (1 - FINE_MARGIN)) / 2 ** (refinements - 1));
}

/** The pace of fine pacing after `refinements`, per millisecond: `FINE_MARGIN` below the limit per refinement. */
export function fineRate(perMinute: number, refinements: number): number {
  return (perMinute / 60_000) * (1 - FINE_MARGIN) ** refinements;
}
