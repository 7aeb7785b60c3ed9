import { ResilienceError } from './resilience-error.js';

/**
 * Pre-flight: the request's tokens (its prompt, counted exactly when a tokenizer is available, plus its
 * output bound) exceed the context window configured for its model, so it was not sent (it would certainly fail with a 400 `context_length_exceeded`). With a `contextWindow`
 * fallback configured, the call goes there instead and this error is not seen.
 */
export class ContextWindowExceededError extends ResilienceError {
  override readonly name = 'ContextWindowExceededError';
  readonly kind = 'context_length_exceeded' as const;
  readonly model: string;
  /**
   * The count: the prompt's tokens (by `gpt-tokenizer` when available, else prompt text / 4) plus the
   * requested output tokens. Named for the estimate it was before exact counting.
   */
  readonly estimatedTokens: number;
  /** The configured context window of `model`. */
  readonly contextWindow: number;

  constructor(model: string, estimatedTokens: number, contextWindow: number) {
    super(`Request for "${model}" is counted at ${estimatedTokens} tokens, over its ${contextWindow}-token context window; not sent.`);
    this.model = model;
    this.estimatedTokens = estimatedTokens;
    this.contextWindow = contextWindow;
  }
}
