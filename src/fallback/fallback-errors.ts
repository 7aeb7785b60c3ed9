import type { ErrorKind } from '../errors/error-kind.js';

/** One fallback step that failed too. */
export interface FallbackFailure {
  /** The model asked for (a model step, or the model sent to a fallback client). */
  readonly model: string | undefined;
  /** The index in `fallback.clients`, for a client step. */
  readonly client: number | undefined;
  readonly kind: ErrorKind;
  readonly error: unknown;
}

const FAILURES = Symbol.for('openai-resilient.fallbackFailures');

/**
 * Attaches the failed fallback steps to the primary's error (which the caller receives, still the SDK's
 * own error). Read them with {@link fallbackFailuresOf}; `error.fallbackFailures` holds them too.
 */
export function attachFallbackFailures(error: unknown, failures: readonly FallbackFailure[]): void {
  if (failures.length === 0 || typeof error !== 'object' || error === null || !Object.isExtensible(error)) return;
  Object.defineProperty(error, FAILURES, { value: failures, configurable: true });
  Object.defineProperty(error, 'fallbackFailures', { value: failures, configurable: true, enumerable: false });
}

/** The fallback steps that failed after the primary did, in order (`[]` when none were tried). */
export function fallbackFailuresOf(error: unknown): readonly FallbackFailure[] {
  return (typeof error === 'object' && error !== null && (error as Record<symbol, FallbackFailure[]>)[FAILURES]) || [];
}
