import type { Clock } from '../core/clock.js';
import type { StreamMode } from '../responses/event-role.js';
import type { SseEvent } from '../responses/sse-scanner.js';
import type { StreamRecovery } from './stream-recovery.js';
import type { ContinuationSetting } from './continuation/continuation-options.js';

/** Stream settings after defaults. */
export interface StreamGuardSettings {
  /** Longest silence once streaming, in ms; `undefined` for none. */
  readonly idle: number | undefined;
  /** What a stream that ends without its terminal event does. */
  readonly onTruncated: 'error' | 'end';
  /** How many times a background Responses stream is resumed (`0`: never). */
  readonly maxResumes: number;
  /** `streaming.continuation`, resolved; `undefined` when off (the default). */
  readonly continuation?: ContinuationSetting | undefined;
}

export interface StreamGuardHooks {
  readonly clock: Clock;
  /** Makes the SDK's own errors: a connection error, and the `APIError` of an SSE `error` event or `response.failed`. */
  readonly connectionError: (message: string, cause: unknown) => Error;
  readonly eventError: (event: SseEvent) => Error;
  /** An error of ours (`StreamIdleTimeoutError`...) re-based on the client's own SDK copy; others as they are. */
  readonly onSdkCopy: (error: unknown) => unknown;
  /** The error of a stream its caller stopped (`break`, abort, cancel): the SDK's `APIUserAbortError`. */
  readonly callerAbort: () => Error;
  readonly onStall: (chunks: number) => void;
  readonly onTruncated: (chunks: number) => void;
  /** The stream was abandoned: not read while nothing moved on it for `idle`, or garbage-collected. */
  readonly onAbandoned: (chunks: number, reason: 'unread' | 'collected') => void;
  /**
   * Called once when the stream's upstream part is over, however: its terminal event (the caller may not
   * have read it all yet), a failure, the caller stopping it, or abandonment. `error` says how it failed.
   */
  readonly onEnd: (error?: unknown) => void;
  /** Called once with `{ usage }` when an event reports the stream's token usage (see `usageOf` in stream-guard.ts). */
  readonly onUsage: (body: { usage: object }) => void;
  /**
   * The stream's usage was asked for by the budgets (`stream_options.include_usage`), not by the caller:
   * reported to `onUsage`, and hidden from the caller (`hidden-usage.ts`).
   */
  readonly hiddenUsage?: boolean | undefined;
  /** How the SDK reads this stream's events: which of them it raises as errors. */
  readonly streamMode: StreamMode;
  /** Called once with the Responses API's response id, from the stream's `response.created` event, when set. */
  readonly onResponseId?: ((id: string) => void) | undefined;
  /** Replaces the upstream when it fails after the first chunk (a background resume, a chat continuation), when set. */
  readonly recovery?: StreamRecovery | undefined;
}
