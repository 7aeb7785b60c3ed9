import type { ErrorKind } from '../classify/error-kind.js';
import type { RetryHint } from '../classify/retry-hint.js';
import type { GiveUpReason } from '../pipeline/retry-decision.js';

/** Fields every request event carries. */
export interface RequestEventBase {
  /** The request's `model`, when its body has one. */
  readonly model: string | undefined;
  /** HTTP method, upper case. */
  readonly method: string;
  /** API path, e.g. `/chat/completions`. */
  readonly path: string;
}

/** A failed attempt will be retried after `delay` ms. Fired before the wait. */
export interface RetryEvent extends RequestEventBase {
  /** The attempt that failed, from 1. The next request is attempt `attempt + 1`. */
  readonly attempt: number;
  /** How long the call waits before the next attempt, in milliseconds. */
  readonly delay: number;
  /** Where the delay came from: a server header, or the backoff. */
  readonly delaySource: RetryHint['source'] | 'backoff';
  readonly kind: ErrorKind;
  /** HTTP status of the failure, if the server answered. */
  readonly status: number | undefined;
  readonly error: unknown;
}

/** A call failed for good: its error is on its way to the caller. Fired once per failed call. */
export interface GiveUpEvent extends RequestEventBase {
  /** Attempts made, from 1. */
  readonly attempt: number;
  readonly kind: ErrorKind;
  readonly reason: GiveUpReason;
  /** The wait that was refused, for `retry_after_exceeds_max` and `deadline`. */
  readonly delay: number | undefined;
  readonly status: number | undefined;
  /** The error the caller receives. */
  readonly error: unknown;
}

/** A listener threw. The call it observed was not affected. */
export interface ListenerErrorEvent {
  readonly event: string;
  readonly error: unknown;
}

/** Every event `ai.resilience.on()` accepts, with its payload. */
export interface ResilienceEvents {
  retry: RetryEvent;
  giveUp: GiveUpEvent;
  listenerError: ListenerErrorEvent;
}

export type ResilienceEventName = keyof ResilienceEvents;
export type ResilienceListener<E extends ResilienceEventName> = (payload: ResilienceEvents[E]) => void;
