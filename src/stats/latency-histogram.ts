/** Each bucket is this much wider than the one before: a percentile overstates by at most 5%. */
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets up to ~10^7 ms (almost 3 hours); slower calls land in the last one. */
const BUCKETS = Math.ceil(Math.log(1e7) / LOG_GROWTH) + 2;

/**
 * Latency percentiles in constant memory: a histogram with logarithmic buckets (about 330 counters,
 * 1.3 KB, whatever the number of calls).
 */
export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #total = 0;
  #max = 0;

  record(ms: number): void {
    const value = Math.max(0, ms);
    const index = value < 1 ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(value) / LOG_GROWTH));
    this.#counts[index]!++;
    this.#total++;
    if (value > this.#max) this.#max = value;
  }

  get count(): number {
    return this.#total;
  }

  /** The value below which `fraction` of the recorded latencies fall (the bucket's upper bound). */
  percentile(fraction: number): number | undefined {
    if (this.#total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(fraction * this.#total));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.#counts[index]!;
      if (seen >= rank) {
        if (index === BUCKETS - 1) return this.#max;
        return Math.min(this.#max, index === 0 ? 1 : Math.round(GROWTH ** index));
      }
    }
    return this.#max;
  }

  get max(): number {
    return this.#max;
  }

  /** Adds every latency `other` recorded. */
  merge(other: LatencyHistogram): void {
    for (let index = 0; index < BUCKETS; index++) this.#counts[index]! += other.#counts[index]!;
    this.#total += other.#total;
    this.#max = Math.max(this.#max, other.#max);
  }
}
