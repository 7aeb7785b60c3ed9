/**
 * `openai-resilient/tokens`: exact token counting with `gpt-tokenizer` imported statically, for apps whose
 * bundler or browser cannot resolve the dynamic `import()` the main entry's `tokens: { tokenizer: 'auto' }`
 * makes. Needs `gpt-tokenizer` (an optional peer) installed.
 *
 * @example
 * ```ts
 * import { tokenizer } from 'openai-resilient/tokens';
 * const ai = resilient(new OpenAI(), { tokens: { tokenizer } });
 * ```
 *
 * @module
 */
import * as cl100k from 'gpt-tokenizer/encoding/cl100k_base';
import * as o200k from 'gpt-tokenizer/encoding/o200k_base';
import { countRequestTokens } from '../tokens/request-tokens.js';
import type { RequestTokens } from '../tokens/token-counter.js';
import { tokenizerFromEncodings, type Tokenizer } from '../tokens/tokenizer.js';

export { encodingFor, type TokenizerEncoding } from '../tokens/encodings.js';
export type { Tokenizer, RequestTokens };

/** OpenAI's tokenizer (`o200k_base` and `cl100k_base`, by `gpt-tokenizer`): pass it as `tokens.tokenizer`. */
export const tokenizer: Tokenizer = tokenizerFromEncodings({ o200k_base: o200k, cl100k_base: cl100k });

/**
 * Counts a request body (Chat Completions, Responses, Embeddings or Completions) for `model` as the client
 * does before sending it: the prompt's tokens and the output bound it sets.
 *
 * @example
 * ```ts
 * const { input, maxOutput } = countTokens({ model: 'gpt-4o', messages }, 'gpt-4o');
 * ```
 */
export function countTokens(body: unknown, model: string | undefined): RequestTokens {
  return countRequestTokens(body, model, tokenizer);
}
