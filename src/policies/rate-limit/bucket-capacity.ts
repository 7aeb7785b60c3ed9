/**
 * How much of a per-minute limit a bucket holds at once, in seconds of refill.
 *
 * - **Requests: one second.** OpenAI may enforce a requests-per-minute limit over shorter periods
 *   (60 000 per minute as 1 000 per second), so a minute's requests sent at once would collect 429s.
 * - **Tokens: the whole minute.** OpenAI's own token bucket holds the full limit: its
 *   `x-ratelimit-remaining-tokens` counts down from `x-ratelimit-limit-tokens`, and it accepts at once a
 *   single request that needs most of a minute's tokens (a `max_tokens` of 16 384 at 30 000 per minute).
 *   A one-second bucket would make such a request wait half a minute on an idle client. Bursts stay
 *   bounded by the requests bucket: at most one second's requests go at once.
 *
 * The in-process buckets and the shared ones (src/redis/rate-limit-scripts.ts) both use these.
 */
export const BURST_SECONDS = { requests: 1, tokens: 60 } as const;

/** Which per-minute limit a bucket paces. */
export type LimitKind = keyof typeof BURST_SECONDS;

/** The most a bucket pacing `perMinute` of `kind` holds (at least one). */
export function bucketCapacity(kind: LimitKind, perMinute: number): number {
  return Math.max(1, (perMinute / 60) * BURST_SECONDS[kind]);
}
