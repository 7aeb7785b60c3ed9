import type { IBackoff } from 'cockatiel';
import type { Classification } from '../classify/classify.js';
import type { RetryHint } from '../classify/retry-hint.js';
import type { GiveUpReason } from '../events/event-map.js';
import type { RetryBackoffContext } from '../policies/retry/retry-options.js';
import type { ResolvedOptions } from './resolved-options.js';

export type RetryDecision =
  | { readonly retry: true; readonly delay: number; readonly source: RetryHint['source'] | 'backoff' }
  | { readonly retry: false; readonly reason: GiveUpReason; readonly delay?: number };

export interface RetryState {
  /** Number of the attempt that just failed, from 1. */
  readonly attempt: number;
  readonly maxRetries: number;
  readonly replayable: boolean;
  /** Milliseconds left of the total budget, `undefined` when unbounded. */
  readonly remaining: number | undefined;
  readonly error: unknown;
  /** The call's signal, handed to backoffs as cockatiel does. */
  readonly signal: AbortSignal;
  /** The backoff returned for the previous retry of this call, for stateful cockatiel backoffs. */
  readonly previousBackoff: IBackoff<RetryBackoffContext> | undefined;
}

/**
 * Decides whether and when to try again. A server hint wins over backoff; a hint beyond
 * `maxRetryAfter`, or any wait that would overrun the total budget, ends the call instead of sleeping.
 */
export function decideRetry(
  classification: Classification,
  state: RetryState,
  retry: ResolvedOptions['retry'],
): RetryDecision & { backoff?: IBackoff<RetryBackoffContext> } {
  if (classification.action !== 'retry') return { retry: false, reason: 'not_retryable' };
  if (!state.replayable) return { retry: false, reason: 'non_replayable_body' };
  if (state.attempt > state.maxRetries) return { retry: false, reason: 'retries_exhausted' };

  const { hint } = classification;
  if (hint && hint.delay > retry.maxRetryAfter) {
    return { retry: false, reason: 'retry_after_exceeds_max', delay: hint.delay };
  }
  let delay: number;
  let source: RetryHint['source'] | 'backoff';
  let backoff: IBackoff<RetryBackoffContext> | undefined;
  if (hint) {
    delay = hint.delay;
    source = hint.source;
  } else {
    const context: RetryBackoffContext = {
      attempt: state.attempt,
      kind: classification.kind,
      result: { error: state.error },
      signal: state.signal,
    };
    backoff = (state.previousBackoff ?? retry.backoff).next(context);
    delay = Math.max(0, backoff.duration);
    source = 'backoff';
  }
  if (state.remaining !== undefined && delay >= state.remaining) {
    return { retry: false, reason: 'deadline', delay };
  }
  return { retry: true, delay, source, backoff };
}
