/**
 * What a stream had delivered when it failed, assembled: read it with {@link partialOutputOf}.
 *
 * `text`, `refusal` and `toolCalls` are those of the first choice (index 0), the only one unless a chat
 * request asked for `n > 1`; `choices` holds every choice. A Responses stream has one choice: its output
 * text (the `output_text` of its message items, in order), its refusal and its function calls.
 */
export interface PartialOutput {
  /** The API the stream came from: Chat Completions (and legacy Completions), or Responses. */
  readonly api: 'chat.completions' | 'responses';
  /** The completion's id (`chatcmpl-...`), or the response's (`resp_...`), when an event carried it. */
  readonly id: string | undefined;
  /** The model named by the stream's events. */
  readonly model: string | undefined;
  /**
   * Chat: the completion's `created` (Unix seconds), when a chunk carried it; `undefined` for Responses
   * (its `created_at` is in the response object).
   */
  readonly created: number | undefined;
  /** Chat: the completion's `system_fingerprint`, when a chunk carried one; `undefined` for Responses. */
  readonly systemFingerprint: string | undefined;
  /** The first choice's text so far. */
  readonly text: string;
  /** The first choice's refusal so far; `undefined` when the model sent none. */
  readonly refusal: string | undefined;
  /** The first choice's tool calls (Responses: function calls), as far as their arguments arrived. */
  readonly toolCalls: readonly PartialToolCall[];
  /** Every choice received, by `index`. */
  readonly choices: readonly PartialChoice[];
  /**
   * Responses: the `sequence_number` of the last event received (what `starting_after` would resume
   * after); `undefined` for chat.
   */
  readonly sequenceNumber: number | undefined;
  /** The token usage the stream reported before it failed (rare: it comes last), as the API sent it. */
  readonly usage: Readonly<Record<string, unknown>> | undefined;
  /** Events received before the failure (as the error's `chunks`). */
  readonly chunks: number;
}

/** One choice of a {@link PartialOutput}. */
export interface PartialChoice {
  readonly index: number;
  /** Its text so far (`''` when none arrived). */
  readonly text: string;
  /** Its refusal so far; `undefined` when the model sent none. */
  readonly refusal: string | undefined;
  readonly toolCalls: readonly PartialToolCall[];
  /** Chat: the choice's `finish_reason`, when it arrived before the failure. */
  readonly finishReason: string | undefined;
}

/** A tool call as far as it arrived. */
export interface PartialToolCall {
  /** Chat: the tool call's `index` in its choice; Responses: its `output_index`. */
  readonly index: number;
  /** The call's id (chat `id`, Responses `call_id`), when it arrived. */
  readonly id: string | undefined;
  /** The function's name, when it arrived. */
  readonly name: string | undefined;
  /** The arguments received so far (JSON text, whole only when `complete`). */
  readonly arguments: string;
  /**
   * Whether every argument arrived. Chat: a later tool call of the same choice began (tool calls stream one
   * after the other), or the choice finished (`finish_reason` `tool_calls`, `stop`; not `length`, which
   * cuts the arguments short); Responses: its `response.function_call_arguments.done` arrived, or its
   * `response.output_item.done` with a status other than `incomplete`.
   */
  readonly complete: boolean;
}

const PARTIAL = Symbol.for('openai-resilient.partialOutput');

/**
 * What a stream had delivered when it failed after its first chunk: its text per choice, its tool calls as
 * far as their arguments arrived, its refusal, id, last sequence number and usage. `undefined` for an error
 * that is not such a failure (or a stream of another API: images, Assistants).
 *
 * It reads every error a committed stream fails with: `StreamTruncatedError`, `StreamIdleTimeoutError`,
 * `StreamAbandonedError`, the SDK's `APIConnectionError` of a reset and `APIError` of an SSE error event,
 * as thrown by `for await` and by the SDK's helpers (`chat.completions.stream()`, `responses.stream()`),
 * and the `error` of `callEnd` (a `response.failed` after output, which the caller receives as an event,
 * included). It works across copies of this package and of the SDK (ESM and CommonJS).
 */
export function partialOutputOf(error: unknown): PartialOutput | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const own = (error as Record<symbol, unknown>)[PARTIAL];
  if (own !== undefined) return own as PartialOutput;
  // The SDK raises an SSE error event as its own `APIError`, with the response's headers: they carry it.
  const headers = (error as { headers?: unknown }).headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  return ((headers as Record<symbol, unknown>)[PARTIAL] as PartialOutput | undefined) ?? undefined;
}

/** Makes {@link partialOutputOf} of `target` answer `assemble()` (called when asked, and memoized by it). */
export function attachPartialOutput(target: unknown, assemble: () => PartialOutput | undefined): void {
  if (typeof target !== 'object' || target === null || !Object.isExtensible(target)) return;
  if (Object.hasOwn(target, PARTIAL)) return;
  Object.defineProperty(target, PARTIAL, { get: assemble, configurable: true, enumerable: false });
}
