/**
 * The options of the fault server's account model (`capacity`, `randomFailures`, `latencyMs`), its
 * counters, and their validation.
 *
 * @module
 */

/** The `capacity` option of `startFaultServer`: the limits of the simulated account. */
export interface CapacityOptions {
  /** The account's RPM limit, announced in `x-ratelimit-limit-requests`. */
  requestsPerMinute: number;
  /**
   * The TPM limit, announced in `x-ratelimit-limit-tokens`. The token cost of a request is its prompt
   * tokens (prompt characters / 4, as in the `usage` of the default bodies) plus `max_tokens`
   * (or `max_completion_tokens` / `max_output_tokens`), default 16.
   */
  tokensPerMinute?: number;
  /**
   * How much of each limit its bucket holds, in seconds of refill: at most `limit / 60 × burstSeconds`
   * (at least 1), refilled continuously at `limit / 60` per second. The `x-ratelimit-*` headers count
   * this bucket. `60` is OpenAI's own model: `x-ratelimit-remaining-requests` counts down from the whole
   * minute's limit, and a request is accepted while anything is left.
   * @default 1
   */
  burstSeconds?: number;
  /**
   * Also enforce each limit over this shorter window, as OpenAI says it may ("60,000 requests/minute may
   * be enforced as 1,000 requests/second"): a second bucket per limit holds `limit / 60 ×
   * shortWindowSeconds` (at least 1), refilled at the same rate, and a request must fit both. The
   * headers keep counting the `burstSeconds` bucket, so a request the short window refuses gets a 429
   * while `x-ratelimit-remaining-*` still shows headroom (its `retry-after-ms` is when the short window
   * admits it). With `burstSeconds: 60, shortWindowSeconds: 1`, 60 requests per minute are announced as
   * a bucket of 60 but accepted one a second.
   * @default undefined (no shorter window)
   */
  shortWindowSeconds?: number;
  /**
   * The clock the buckets refill on, in milliseconds: the `FakeClock` of the client under test (or any
   * `{ now() }`) makes refills follow the test's time instead of real time. Latency stays real.
   * @default performance.now()
   */
  clock?: { now(): number };
  /** Requests being served at once (including their `latencyMs`) beyond which a request gets a 503 `overloaded`. */
  maxConcurrent?: number;
}

/**
 * The `randomFailures` option of `startFaultServer`. A request that would be admitted fails with
 * `faults.serverError(status)` with probability `rate`, **without consuming capacity**: a random 500
 * does not use up the account's requests or tokens, so goodput as a share of capacity can approach 100%.
 */
export interface RandomFailureOptions {
  /** Probability in [0, 1]. */
  rate: number;
  /** HTTP status of the failure, default 500. */
  status?: number;
  /** Seed of a deterministic PRNG; without it, `Math.random`. */
  seed?: number;
}

/**
 * Real delay before answering a successful (admitted) request: fixed, or uniform in [min, max]. With
 * `slowShare` and `slowMs`, a slow tail: that share of the requests waits `slowMs` instead (drawn per
 * request, deterministically with `randomFailures.seed`).
 */
export type LatencyOption = number | { min: number; max: number; slowShare?: number; slowMs?: number };

/** Counters of a fault server, see `FaultServer.stats()`. */
export interface FaultServerStats {
  /** Every request received (body read), whatever its answer. */
  received: number;
  /** Requests answered by the default success path (within capacity when `capacity` is set). */
  admitted: number;
  /** 429s sent because a capacity bucket was empty (scripted 429s count as `scripted`). */
  rateLimited: number;
  /** 5xx sent by `randomFailures`. */
  randomFailures: number;
  /** Requests answered by a scripted fault (`enqueue` / `enqueueFor`). */
  scripted: number;
  /** 503s sent because `capacity.maxConcurrent` requests were already being served. */
  overloaded: number;
  /** Requests answered with the outage while the upstream was down (`goDown()` until `comeBack()`). */
  down: number;
}

/** Options of {@link createAdmission}. */
export interface AdmissionOptions {
  capacity?: CapacityOptions;
  randomFailures?: RandomFailureOptions;
  latencyMs?: LatencyOption;
}

function positive(label: string, name: string, value: unknown, allowZero = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(`${label}: \`${name}\` must be a ${allowZero ? 'number ≥ 0' : 'positive number'}, got ${String(value)}.`);
  }
}

export function validate(o: AdmissionOptions, label: string): void {
  if (o.capacity) {
    positive(label, 'capacity.requestsPerMinute', o.capacity.requestsPerMinute);
    if (o.capacity.tokensPerMinute !== undefined) positive(label, 'capacity.tokensPerMinute', o.capacity.tokensPerMinute);
    if (o.capacity.burstSeconds !== undefined) positive(label, 'capacity.burstSeconds', o.capacity.burstSeconds);
    if (o.capacity.shortWindowSeconds !== undefined) positive(label, 'capacity.shortWindowSeconds', o.capacity.shortWindowSeconds);
    const clock = o.capacity.clock;
    if (clock !== undefined && typeof (clock as { now?: unknown } | null)?.now !== 'function') {
      throw new TypeError(`${label}: \`capacity.clock\` must be an object with a now() method (a FakeClock), got ${String(clock)}.`);
    }
    if (o.capacity.maxConcurrent !== undefined) positive(label, 'capacity.maxConcurrent', o.capacity.maxConcurrent);
  }
  if (o.randomFailures) {
    const { rate } = o.randomFailures;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw new TypeError(`${label}: \`randomFailures.rate\` must be a number in [0, 1], got ${String(rate)}.`);
    }
  }
  const latency = o.latencyMs;
  if (typeof latency === 'number') positive(label, 'latencyMs', latency, true);
  else if (latency !== undefined) {
    positive(label, 'latencyMs.min', latency.min, true);
    positive(label, 'latencyMs.max', latency.max, true);
    if (latency.max < latency.min) throw new TypeError(`${label}: \`latencyMs.max\` must be ≥ \`latencyMs.min\`.`);
    const { slowShare, slowMs } = latency;
    if (slowShare !== undefined || slowMs !== undefined) {
      if (typeof slowShare !== 'number' || !(slowShare >= 0 && slowShare <= 1)) {
        throw new TypeError(`${label}: \`latencyMs.slowShare\` must be a number in [0, 1] (with \`latencyMs.slowMs\`), got ${String(slowShare)}.`);
      }
      positive(label, 'latencyMs.slowMs', slowMs, true);
    }
  }
}

