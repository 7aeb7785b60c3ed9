import { OpenAIError } from 'openai';
import type { LibraryErrorKind, UpstreamErrorKind } from './error-kind.js';

const BRAND = Symbol.for('openai-resilient.ResilienceError');

/**
 * Base class of every failure this library originates (a deadline, an open circuit, a full bulkhead, a
 * stalled stream...). Upstream failures are never wrapped: the caller receives the SDK's own error.
 *
 * It extends the SDK's `OpenAIError`, so `catch (e) { if (e instanceof OpenAI.OpenAIError) ... }` covers
 * it, and SDK helpers (`chat.completions.stream()`, `runTools()`, `responses.stream()`) pass it through
 * instead of wrapping it. `cause` holds the last upstream error, when there was one.
 *
 * The `OpenAIError` it extends is that of the wrapped client's own copy of the SDK: under `require()`
 * (the SDK's CommonJS copy, while this package imports its ESM copy) or with a second copy of `openai`,
 * an error of ours that reaches you is built on your copy's `OpenAIError`, and `instanceof` of this
 * package's classes (`DeadlineExceededError`, `ResilienceError`...) still holds. `instanceof
 * ResilienceError` and {@link isResilienceError} also recognise an error of another copy of this package.
 */
export abstract class ResilienceError extends OpenAIError {
  /** The error kind, as {@link classify} reports it (`aborted` for a stream its caller abandoned). */
  abstract readonly kind: LibraryErrorKind | UpstreamErrorKind | 'aborted';

  static {
    // Not a `static [Symbol.hasInstance]()` member: that would show in the published types.
    Object.defineProperty(this, Symbol.hasInstance, { value: isInstance, configurable: true, writable: true });
  }

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for any {@link ResilienceError}, also one thrown by another copy of this package. */
export function isResilienceError(error: unknown): error is ResilienceError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * `value instanceof C` for `ResilienceError` and its subclasses. An error of ours re-based on another SDK
 * copy's `OpenAIError` (`errors/sdk-copies.ts`) has prototypes that copy ours, `constructor` included, so
 * `C` is found by its prototypes' `constructor`; `ResilienceError` itself recognises the brand, as
 * {@link isResilienceError} does.
 */
function isInstance(this: abstract new (...args: never[]) => unknown, value: unknown): boolean {
  if (!isResilienceError(value)) return Function.prototype[Symbol.hasInstance].call(this, value);
  if (this === ResilienceError) return true;
  for (let proto: object | null = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if (Object.hasOwn(proto, 'constructor') && (proto as { constructor: unknown }).constructor === this) return true;
  }
  return false;
}
