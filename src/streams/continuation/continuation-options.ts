import type { PartialOutput } from '../partial-output.js';

/**
 * How a continuation request asks for the rest of a partial assistant answer, by provider:
 * - `'prefix'`: the partial answer as a last assistant message with `prefix: true` (Mistral; DeepSeek on
 *   its beta endpoint, `https://api.deepseek.com/beta`);
 * - `'continue_final_message'`: the partial answer as a last assistant message, with
 *   `continue_final_message: true` and `add_generation_prompt: false` (vLLM and servers built on its
 *   chat template handling);
 * - `'prefill'`: the partial answer as a last assistant message and nothing else (assistant prefill, as
 *   OpenRouter passes it to providers that continue a trailing assistant message);
 * - `'instruction'`: the partial answer as an assistant message, then a user message asking to continue
 *   it without repeating it (what LiteLLM does). Approximate: the model writes a new message, which may
 *   repeat or reword the end of the partial answer. Any provider; none continues it exactly.
 *
 * OpenAI's Chat Completions API has none of them: a trailing assistant message gets a new reply.
 */
export type ContinuationStrategy = 'prefix' | 'continue_final_message' | 'prefill' | 'instruction';

/**
 * Builds a continuation request of your own: `body` is the original request's body, `partial` what the
 * caller received (its `text` is the partial answer). Return the body to send (`stream: true` is kept),
 * or `undefined` not to continue. It is called only where a continuation can be faithful (see
 * {@link ContinuationOption}).
 */
export type ContinuationBuilder = (
  body: Readonly<Record<string, unknown>>,
  partial: PartialOutput,
) => Record<string, unknown> | undefined;

/**
 * Continue a Chat Completions stream that fails mid-answer with a new request for the rest, spliced into
 * the caller's stream after what it received (opt-in: it costs a request and the prompt's tokens again).
 * A strategy ({@link ContinuationStrategy}) for the provider, or a {@link ContinuationBuilder}; `false`
 * never continues.
 *
 * Never continued (the stream ends with its error, which carries the partial output): a stream with a
 * tool call begun, a refusal, several choices (`n > 1`), `logprobs`, structured output
 * (`response_format` `json_object` or `json_schema`), audio output, a finished choice, or no room left
 * under `max_completion_tokens` / `max_tokens`.
 * @default false
 * @example streaming: { continuation: 'prefix' } // Mistral, DeepSeek (beta endpoint)
 */
export type ContinuationOption = ContinuationStrategy | ContinuationBuilder | false;

/** `streaming.continuation` after validation; `undefined` when off. */
export interface ContinuationSetting {
  /** The strategy, `'custom'` for a builder of the caller's. */
  readonly strategy: ContinuationStrategy | 'custom';
  /** The caller's builder, for `'custom'`. */
  readonly builder: ContinuationBuilder | undefined;
}
