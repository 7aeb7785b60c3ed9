import type { SseEvent } from '../responses/sse-scanner.js';

/** Why a committed stream's upstream failed: its connection was reset, it ended early, it stalled, or it sent an `error` event. */
export type UpstreamFailure = 'reset' | 'truncated' | 'stall' | 'error_event';

/**
 * Replaces a committed stream's upstream after it fails mid-stream: a background Responses stream
 * resumed from its last sequence number, or a chat stream continued (opt-in). While one is set, the
 * guard hands the caller whole events only (see `alignEvents`), so that a cut in the middle of an event
 * never leaves half of it in the SDK's parser, and an `error` event after the first chunk is held back
 * and recovered from rather than raised.
 */
export interface StreamRecovery {
  /** Sees every event handed to the caller, in order (a resume learns its cursor from them). */
  readonly seen: (event: SseEvent) => void;
  /**
   * The upstream failed. `error` is what the caller would otherwise get; it carries what the caller received
   * so far (`partialOutputOf(error)`). Resolves to a reader of whole events (the guard reads them one at a
   * time) that continue the stream exactly after what the caller received, or `undefined` to end the stream
   * with `error`; a rejection ends it with the rejection. `signal` aborts when the stream ends meanwhile (its caller stopped it).
   */
  readonly recover: (
    error: unknown,
    failure: UpstreamFailure,
    signal: AbortSignal,
  ) => Promise<ReadableStreamDefaultReader<Uint8Array> | undefined>;
}
