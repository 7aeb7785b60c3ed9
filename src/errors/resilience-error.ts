import { OpenAIError } from 'openai';
import type { LibraryErrorKind, UpstreamErrorKind } from '../classify/error-kind.js';

const BRAND = Symbol.for('openai-resilient.ResilienceError');

/**
 * Base class of every failure this library originates (a deadline, and later an open circuit or a full
 * bulkhead). Upstream failures are never wrapped: the caller receives the SDK's own error.
 *
 * It extends the SDK's `OpenAIError`, so `catch (e) { if (e instanceof OpenAI.OpenAIError) ... }` covers
 * it, and SDK helpers (`chat.completions.stream()`, `runTools()`, `responses.stream()`) pass it through
 * instead of wrapping it. `cause` holds the last upstream error, when there was one. Use
 * {@link isResilienceError} rather than `instanceof` when two copies of this package may be loaded.
 */
export abstract class ResilienceError extends OpenAIError {
  /** The error kind, as {@link classify} reports it. */
  abstract readonly kind: LibraryErrorKind | UpstreamErrorKind;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for any {@link ResilienceError}, also one thrown by another copy of this package. */
export function isResilienceError(error: unknown): error is ResilienceError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}
