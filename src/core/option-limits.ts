import { MAX_TIMER_DELAY } from './clock.js';

/**
 * The largest value each kind of numeric option accepts; beyond it, `resilient()` throws a `TypeError`
 * naming the option. Every bound is far above any useful setting, and none costs anything up front:
 * building a client takes the same time and memory whatever the values (nothing is allocated in
 * proportion to a size option). The bounds are documented on each option and in docs/policies.md.
 */
export const LIMITS = Object.freeze({
  /** Durations in ms: the longest delay a JavaScript timer can wait (about 24.8 days). */
  duration: MAX_TIMER_DELAY,
  /** How long a response may stay cached (`cache.ttl`, `cache.staleIfError`), in ms: 365 days. */
  cacheDuration: 365 * 24 * 3_600_000,
  /** Entries of the default in-memory cache. */
  cacheEntries: 10_000_000,
  /** Bytes of the default in-memory cache: 1 TiB. */
  cacheBytes: 2 ** 40,
  /** Calls held at once (in flight, queued) and counts of outcomes (breaker thresholds, retry budget). */
  count: 1_000_000,
  /** Retries of one call (and so the retry budget's ratio of retries per call). */
  retries: 1_000,
  /** Requests per minute of one model. */
  requestsPerMinute: 1_000_000_000,
  /** Tokens per minute of one model, and a model's context window, in tokens. */
  tokens: 1_000_000_000_000,
  /** Hedges alongside one attempt: at most 5 requests at once, gRPC's limit for hedging. */
  hedges: 4,
  /** Answers a model needs before it is hedged: the latencies the hedger always keeps per model once warm. */
  hedgeSamples: 1_000,
});

/** `n` as it would be written in code: `10_000_000`. */
export function formatLimit(n: number): string {
  if (!Number.isInteger(n) || Math.abs(n) < 1_000) return String(n);
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '_');
}
