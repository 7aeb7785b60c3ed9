/**
 * Options of the circuit breaker. Every duration is at most 2_147_483_647 ms (about 24.8 days, the longest a
 * timer can wait), every count at most 1_000_000; beyond a bound, `resilient()` throws a `TypeError` naming
 * the option.
 */

/** What a breaker key is computed from. */
export interface BreakerKeyInput {
  /** The request's `model`, when its body has one. */
  readonly model: string | undefined;
  readonly method: string;
  readonly path: string;
  /** The client's base URL. */
  readonly baseURL: string;
}

/**
 * Per-key circuit breaker (one circuit per model by default). Only failures that say the upstream is
 * unhealthy count: `server_error`, `overloaded`, `timeout`, `connection`, `malformed_response`. A 4xx,
 * a 429, a quota error or an abort neither opens nor closes it.
 */
export interface CircuitBreakerOptions {
  /** Opens after this many counted failures in a row (at most 1_000_000). @default 5 */
  readonly consecutiveFailures?: number | undefined;
  /** Opens when at least this fraction (0 to 1) of the outcomes in `window` failed... @default 0.5 */
  readonly failureRatio?: number | undefined;
  /** ...and there were at least this many outcomes (at most 1_000_000). @default 10 */
  readonly minimumCalls?: number | undefined;
  /** The sliding window for `failureRatio`, in milliseconds. @default 60_000 */
  readonly window?: number | undefined;
  /**
   * How long the circuit stays open before it lets a probe through, in milliseconds: a model that stays
   * down gets at most one request this often, and one that recovers is found within 1.2 times it (see
   * `jitter`), plus the probe's own time.
   * @default 1_000
   */
  readonly halfOpenAfter?: number | undefined;
  /**
   * The longest open pause, in milliseconds: above `halfOpenAfter`, the pause doubles each time a probe
   * fails, up to this.
   * @default halfOpenAfter (the pause does not grow)
   */
  readonly maxHalfOpenAfter?: number | undefined;
  /**
   * Draws each open pause between 1 and 1.2 times its value, so that circuits opened together (other
   * models, other processes) do not probe together.
   * @default true
   */
  readonly jitter?: boolean | undefined;
  /** Probes allowed at once while half-open (at most 1_000_000). @default 1 */
  readonly halfOpenProbes?: number | undefined;
  /**
   * A call that finds its circuit open waits, instead of failing at once, for a probe due within this many
   * milliseconds: when the circuit lets requests through, the first waiting call is the probe and the
   * others wait for its verdict (however long the probe takes, within `timeout.total`). A success lets them
   * go; a failure fails each with `CircuitOpenError`, unless another probe is due within this time of its
   * arrival. A retry that falls due while the circuit is open waits the same way, for a probe due within
   * `retry.maxRetryAfter`. A call that a fallback can serve, and a hedge, never wait. `0`: fail at once.
   * @default 2_000
   */
  readonly waitForProbe?: number | undefined;
  /**
   * Calls that may wait for one circuit at once (at most 1_000_000); more fail at once with
   * `CircuitOpenError`.
   * @default 1_000
   */
  readonly maxQueued?: number | undefined;
  /**
   * Groups requests into circuits.
   * @default the request's model (requests without one share the key `"(no model)"`)
   * @example `({ baseURL }) => baseURL` for one circuit per endpoint
   */
  readonly key?: ((request: BreakerKeyInput) => string) | undefined;
}
