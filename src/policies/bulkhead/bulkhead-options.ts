/**
 * Options of the bulkhead. Every duration is at most 2_147_483_647 ms, every count at most 1_000_000; beyond
 * a bound, `resilient()` throws a `TypeError` naming the option.
 */

/** Caps concurrent upstream requests (an attempt holds a slot; a stream holds it until it ends). */
export interface BulkheadOptions {
  /** Requests in flight at once, across all models (at most 1_000_000). @default 100 */
  readonly maxConcurrent?: number | undefined;
  /**
   * Calls that may wait for a slot (at most 1_000_000). When full, a newcomer of a higher traffic class
   * takes the place of the newest lower-class waiter (which fails with `LoadShedError`); otherwise the
   * newcomer is rejected at once with `BulkheadFullError`.
   * @default 1_000
   */
  readonly maxQueued?: number | undefined;
  /** Longest wait for a slot, in milliseconds (`BulkheadTimeoutError`). @default 60_000 */
  readonly queueTimeout?: number | undefined;
  /**
   * Slots one tenant may hold at once (see `resilience.forTenant()`; at most 1_000_000). Calls made without
   * a tenant count as one tenant of their own. With shared state (`shared`) and a cap below
   * `maxConcurrent`, a tenant's calls in flight in every process count against it (calls without a
   * tenant, and the total, stay per process); in each process alone while the shared state is unavailable.
   * @default maxConcurrent
   */
  readonly maxConcurrentPerTenant?: number | undefined;
  /**
   * Anti-starvation between traffic classes (see `resilience.forClass()`): waiters are served higher class
   * first, but while a lower class waits and higher classes keep taking the slots, every
   * `lowerClassEvery`-th slot that comes free goes to the lower classes' longest waiter. A lower class so
   * keeps at least `1 / lowerClassEvery` of the slots under contention (its reserved minimum share), and
   * an interactive call gives up at most that much. From 2 to 1_000_000 (in effect strict priority).
   * @default 10
   */
  readonly lowerClassEvery?: number | undefined;
}
