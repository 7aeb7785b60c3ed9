/** How streams end. */
export interface StreamingOptions {
  /**
   * A stream that ends without its terminal event (`[DONE]`, `response.completed`) is cut short:
   * `'error'` makes the caller's iteration throw `StreamTruncatedError`; `'end'` ends it quietly (a
   * `streamTruncated` event still fires).
   * @default 'error'
   */
  readonly onTruncated?: 'error' | 'end' | undefined;
  /**
   * How many times one background Responses stream (`background: true, stream: true`, or
   * `responses.retrieve(id, { stream: true })`) is resumed after it fails mid-stream (a reset, an early end,
   * a stall past `timeout.idle`, an `error` event): each resume asks for the events after the last one
   * received (`GET /responses/{id}?stream=true&starting_after=`), so the caller's stream goes on with none
   * missing and none twice. Each counts against the retry budget and passes the circuit breaker, the rate
   * limiter and the bulkhead like an attempt. `0` turns resuming off.
   * @default 3
   */
  readonly maxResumes?: number | undefined;
}
