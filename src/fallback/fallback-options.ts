import type { OpenAI } from 'openai';
import type { OpenAIClientLike } from '../core/sdk-internals.js';
import type { ErrorKind } from '../errors/error-kind.js';

/** The request a last-resort {@link FallbackOptions.value} answers. */
export interface FallbackRequest {
  readonly method: string;
  /** API path, e.g. `/chat/completions`. */
  readonly path: string;
  readonly model: string | undefined;
  readonly stream: boolean;
  /** The request body as the SDK sends it (for `/chat/completions`, `ChatCompletionCreateParams`). */
  readonly body: unknown;
}

/**
 * What a last-resort fallback may return: a body of the method's own type (a `ChatCompletion` for
 * `chat.completions.create`, a `Response` for `responses.create`, ...), or `undefined` to let the error
 * through. For `stream: true` chat completions, a `ChatCompletion` is replayed as a stream of chunks.
 */
export type FallbackValue = (
  request: FallbackRequest,
  error: unknown,
) =>
  | OpenAI.Chat.ChatCompletion
  | OpenAI.Responses.Response
  | OpenAI.CreateEmbeddingResponse
  | Record<string, unknown>
  | undefined
  | Promise<OpenAI.Chat.ChatCompletion | OpenAI.Responses.Response | OpenAI.CreateEmbeddingResponse | Record<string, unknown> | undefined>;

/** Another client to fall back to, optionally with the model name it knows the model by. */
export interface FallbackClient {
  /** A client (wrapped with `resilient()` if it is not already, with default options). */
  readonly client: OpenAIClientLike;
  /** The model to ask it for: a name, or a mapping from the primary's model. @default the same model */
  readonly model?: string | ((model: string | undefined) => string | undefined) | undefined;
}

/**
 * Where a call goes when the primary's recovery gives up with a failure another model or provider can
 * fix (see docs/fallback.md for the table). Targets are tried in order: `models` (or, for
 * `context_length_exceeded`, only `contextWindow`), then `clients`, then `value`.
 */
export interface FallbackOptions {
  /** Other models on the same client, per primary model. @default {} */
  readonly models?: Readonly<Record<string, readonly string[]>> | undefined;
  /** Larger-context models, used only for `context_length_exceeded`. @default {} */
  readonly contextWindow?: Readonly<Record<string, readonly string[]>> | undefined;
  /** Other providers or accounts, tried in order after `models`. @default [] */
  readonly clients?: readonly (OpenAIClientLike | FallbackClient)[] | undefined;
  /**
   * Kinds that fall back besides the default ones (see `FALLBACK_KINDS` and docs/fallback.md), such as
   * `'budget_exceeded'`: a call its budget refuses then goes to the fallback targets (whose own budgets
   * apply to them).
   * @default [] (only the default kinds)
   * @example `['budget_exceeded']`
   */
  readonly on?: readonly ErrorKind[] | undefined;
  /** A last-resort answer, used only after every other target failed. @default none */
  readonly value?: FallbackValue | undefined;
}
