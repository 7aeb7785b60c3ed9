import { ResilienceError } from './resilience-error.js';

/**
 * The call's `timeout.total` ran out: during an attempt, or while waiting to retry. The request in
 * flight was aborted; `cause` is the last upstream error, if an attempt had failed before.
 */
export class DeadlineExceededError extends ResilienceError {
  override readonly name = 'DeadlineExceededError';
  readonly kind = 'deadline_exceeded' as const;
  /** The total budget that ran out, in milliseconds. */
  readonly timeout: number;
  /** Attempts started before the deadline. */
  readonly attempts: number;

  constructor(timeout: number, attempts: number, cause?: unknown) {
    super(`Request exceeded its total deadline of ${timeout} ms after ${attempts} attempt(s).`, { cause });
    this.timeout = timeout;
    this.attempts = attempts;
  }
}
