/**
 * What a request will count against limits before it is sent: the tokens of its prompt and the output it
 * allows itself. Counted exactly when a tokenizer is available (`tokens` option), estimated otherwise.
 *
 * @module
 */

/** A request's tokens, as known before it is sent. */
export interface RequestTokens {
  /** Tokens of the prompt (messages, tools, instructions, Responses `input`, embeddings' input). */
  readonly input: number;
  /**
   * The most output the request allows itself (`max_completion_tokens`, `max_tokens` or
   * `max_output_tokens`), or `undefined` when it sets no bound.
   */
  readonly maxOutput: number | undefined;
  /** Whether `input` was counted by a tokenizer (else estimated at about 4 characters per token). */
  readonly exact: boolean;
}

/** Counts a request's tokens for a model (the model decides the tokenizer's encoding). */
export interface TokenCounter {
  /** Counts `body` (a request body as the SDK sends it) for `model`. Never rejects: falls back to an estimate. */
  count(body: unknown, model: string | undefined): Promise<RequestTokens>;
}
