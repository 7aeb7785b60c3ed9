import type { IPolicy } from 'cockatiel';

/**
 * Time limits. Each bound aborts the request in flight (no orphaned requests). Each is at most
 * 2_147_483_647 ms (about 24.8 days, the longest a timer can wait).
 */
export interface TimeoutOptions {
  /**
   * Limit for one attempt, in milliseconds: until the whole body has arrived, or for `stream: true` until
   * the first chunk. An attempt that runs out is a `timeout` failure and is retried. `false` for none.
   * A body that goes silent is also cut sooner by `timeout.idle`.
   * A per-request `timeout` (the SDK's request option) overrides it for that request.
   * @default 600_000 (the SDK's own default), or the wrapped client's `timeout` when you set one on it
   */
  readonly attempt?: number | false | undefined;
  /**
   * For `stream: true`: the longest wait from sending to the first meaningful event (the Responses API's
   * `response.created` / `in_progress` do not count), in milliseconds. Running out is a failed attempt,
   * retried like any other. `false` for none.
   * @default `timeout.attempt` (600_000): a reasoning model may think for minutes before its first token
   */
  readonly firstChunk?: number | false | undefined;
  /**
   * The longest silence in a response body once its headers have arrived, in milliseconds:
   * - for a stream once started: the longest the caller waits for the next chunk (running out aborts the
   *   connection and the caller's iteration throws `StreamIdleTimeoutError`; time the caller spends between
   *   reads is never counted against the upstream), and the longest a stream may stand still, with no
   *   chunk from the upstream and no read by the caller, before it is ended as abandoned
   *   (`StreamAbandonedError`, `streamAbandoned` event);
   * - for any other answer (JSON, text), between two pieces of its body: running out closes the connection
   *   and fails the attempt with the SDK's `APIConnectionTimeoutError` (kind `timeout`), which is retried.
   *   Without it, a body that never comes is bounded only by `timeout.attempt`, or by Node's fetch giving
   *   up after 300 s.
   *
   * `false` for none.
   * @default 120_000 (long enough for hosted tools such as web search between events)
   */
  readonly idle?: number | false | undefined;
  /**
   * Limit for the whole call, attempts and waits included, in milliseconds. When it runs out the call
   * rejects with `DeadlineExceededError`; a retry whose wait would not fit is not started. `false` for none.
   * @default 900_000
   */
  readonly total?: number | false | undefined;
}

/**
 * Your own cockatiel policies, composed into the pipeline:
 * `total deadline → call policies → retry → attempt policies → attempt timeout → request`.
 */
export interface PolicyOptions {
  /** Policies around the whole call, inside the total deadline and outside retries. @default [] */
  readonly call?: readonly IPolicy<any, any>[] | undefined;
  /** Policies around each attempt, inside retries (a failure here is classified and may be retried). @default [] */
  readonly attempt?: readonly IPolicy<any, any>[] | undefined;
}
