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
