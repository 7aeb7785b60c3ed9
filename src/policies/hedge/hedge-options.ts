/**
 * Hedging (opt-in): when an attempt has not answered within `delay` (for a stream, not produced its first
 * chunk), one more attempt is sent alongside it; the first to answer wins and the others are aborted at
 * once. Hedging trades tokens for tail latency, so it is capped by `maxHedgedShare` and never used for
 * request bodies that cannot be sent twice.
 */
export interface HedgeOptions {
  /**
   * How long an attempt may go unanswered before a hedge starts: a fixed delay in milliseconds, or a
   * percentile of the model's recent attempt latencies (learned per model; a model is not hedged until
   * it has `minSamples` of them). A fixed delay is at most 2_147_483_647 ms; a percentile is in [1, 100).
   * @default { percentile: 95 }
   */
  readonly delay?: number | { readonly percentile: number } | undefined;
  /**
   * Extra attempts at most alongside one attempt, each after another `delay`: from 1 to 4 (at most 5
   * requests at once, gRPC's limit for hedging).
   * @default 1
   */
  readonly maxExtraAttempts?: number | undefined;
  /** The share of calls (over the last minute) that may be hedged, in (0, 1]. @default 0.1 */
  readonly maxHedgedShare?: number | undefined;
  /** With a percentile `delay`: answered attempts a model needs before it is hedged, at most 1_000 (the latencies a model always keeps). @default 20 */
  readonly minSamples?: number | undefined;
}
