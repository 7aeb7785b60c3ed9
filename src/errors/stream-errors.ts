import { ResilienceError } from './resilience-error.js';

/**
 * A stream went silent for longer than `timeout.idle` after it had started: the connection was aborted
 * and the caller's iteration throws this. Nothing already delivered is replayed.
 */
export class StreamIdleTimeoutError extends ResilienceError {
  override readonly name = 'StreamIdleTimeoutError';
  readonly kind = 'timeout' as const;
  /** Events delivered before the stream stalled. */
  readonly chunks: number;
  /** The idle limit that ran out, in milliseconds. */
  readonly idle: number;

  constructor(chunks: number, idle: number) {
    super(`Stream stalled: no data for ${idle} ms after ${chunks} chunk(s); the connection was aborted.`);
    this.chunks = chunks;
    this.idle = idle;
  }
}

/**
 * A stream ended without its terminal event (`[DONE]`, or the Responses API's `response.completed`), so
 * what was received may be only part of the answer. Thrown by the caller's iteration unless
 * `streaming.onTruncated` is `'end'`.
 */
export class StreamTruncatedError extends ResilienceError {
  override readonly name = 'StreamTruncatedError';
  readonly kind = 'connection' as const;
  /** Events delivered before the stream ended. */
  readonly chunks: number;

  constructor(chunks: number) {
    super(`Stream ended after ${chunks} chunk(s) without its terminal event: the answer is incomplete.`);
    this.chunks = chunks;
  }
}

/**
 * A stream was abandoned: nothing moved on it for `timeout.idle` while its caller was not reading (no read,
 * and no data from the upstream, because the upstream was silent or had filled what the guard reads ahead
 * of the caller), or it was garbage-collected before its end. Its connection was closed and everything
 * it held (bulkhead slot, rate-limit reservation, timers) released. A later read still gets every chunk
 * received before, then throws this.
 */
export class StreamAbandonedError extends ResilienceError {
  override readonly name = 'StreamAbandonedError';
  readonly kind = 'aborted' as const;
  /** Events received before it was abandoned. */
  readonly chunks: number;
  /** `unread`: nothing moved on it for `timeout.idle`; `collected`: it was garbage-collected unfinished. */
  readonly reason: 'unread' | 'collected';

  constructor(chunks: number, reason: 'unread' | 'collected', idle?: number) {
    super(
      reason === 'unread'
        ? `Stream abandoned: nothing moved on it for ${idle} ms (no read, no chunk from the upstream) after ${chunks} chunk(s); the connection was closed.`
        : `Stream abandoned: garbage-collected after ${chunks} chunk(s) before its end; the connection was closed.`,
    );
    this.chunks = chunks;
    this.reason = reason;
  }
}

/**
 * A background response (Responses API, `background: true`) was cancelled server-side while its stream was
 * being resumed (`POST /responses/{id}/cancel`, by this or another process): it will not complete. Its
 * stream ends with this error, which carries what had arrived (`partialOutputOf`). Not retried, and not
 * counted by the circuit breaker: nothing failed upstream.
 */
export class ResponseCancelledError extends ResilienceError {
  override readonly name = 'ResponseCancelledError';
  readonly kind = 'aborted' as const;
  /** The cancelled response's id. */
  readonly responseId: string;

  constructor(responseId: string) {
    super(`Response ${responseId} was cancelled server-side: its stream ends here.`);
    this.responseId = responseId;
  }
}
