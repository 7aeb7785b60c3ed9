/**
 * The vocabulary of `LimitBucket`: how it paces, a reservation's place in it, and the server's answer to
 * a reservation's request.
 *
 * @module
 */

/** How a bucket decides what may go now (`stats().models[model].rateLimit.pacing`). */
export type Pacing =
  /** Nothing heard from the server yet: one second's requests, a minute's tokens (`BURST_SECONDS`). */
  | 'configured'
  /** The server's `x-ratelimit-remaining-*` says what is left; bursts beyond one second grow as answers confirm them. */
  | 'server'
  /** A 429 came despite headroom: paced below the limit, in smaller bursts, whatever the headers say. */
  | 'fine';

/** A reservation's place in a bucket: its `start` moves up when a reservation before it is cancelled. */
export interface Ticket {
  start: number;
  readonly amount: number;
  /** Everything admitted up to and including it, once admitted: what was sent after it is counted from there. */
  sentMark?: number;
  /** Everything answered when it was admitted: what was sent before it and still in flight is counted from there. */
  answeredMark?: number;
  /** Its request is over (answered, failed, or never sent): no longer in flight. */
  ended?: boolean;
}

/** What the server answered to one request taken from a bucket. */
export interface BucketAnswer {
  /** Where the request was taken from this bucket (`reserve`), or `undefined` when it was not (sent before the bucket existed). */
  readonly start: number | undefined;
  /** What it took: 1 request, or its tokens. */
  readonly amount: number;
  /**
   * What was sent after it before this answer came, and what was sent before it but still unanswered when
   * it went (0 when unknown): the server may have counted some of either on the other side of this
   * request, as concurrent requests are not counted in the order they were reserved.
   */
  readonly sentAfter: number;
  readonly inFlightBefore: number;
  /** The server counted it (anything but a 429). */
  readonly counted: boolean;
  /** It succeeded: the pace it was sent at is confirmed. */
  readonly succeeded: boolean;
  /** Milliseconds since it was sent: the server has refilled that long since it counted it. */
  readonly elapsed: number;
}
