/**
 * Which of OpenAI's byte-pair encodings a model's tokenizer uses.
 *
 * @module
 */

/** The encodings a {@link Tokenizer} counts in: `o200k_base` (GPT-4o and later), `cl100k_base` (GPT-4, GPT-3.5, embeddings). */
export type TokenizerEncoding = 'o200k_base' | 'cl100k_base';

/** Model name prefixes that use `cl100k_base`; checked after {@link O200K}. */
const CL100K = ['gpt-4', 'gpt-3.5', 'text-embedding-3-', 'text-embedding-ada-002'];
/** Model name prefixes that use `o200k_base` (before `gpt-4`, which `gpt-4o` and `gpt-4.1` also start with). */
const O200K = ['gpt-4o', 'gpt-4.1', 'gpt-4.5', 'gpt-5', 'o1', 'o3', 'o4', 'chatgpt-4o', 'gpt-oss'];

/**
 * The encoding of `model`: `o200k_base` for gpt-4o*, gpt-4.1*, gpt-4.5*, gpt-5*, o1/o3/o4*, chatgpt-4o* and
 * gpt-oss*; `cl100k_base` for gpt-4 (not "o"), gpt-3.5*, text-embedding-3-* and text-embedding-ada-002.
 * An unknown model (a fine-tune `ft:<base>:...` is read as its base) counts in `o200k_base`, the encoding
 * of every model OpenAI released since May 2024.
 */
export function encodingFor(model: string | undefined): TokenizerEncoding {
  if (model === undefined) return 'o200k_base';
  const name = model.startsWith('ft:') ? model.slice(3) : model;
  if (O200K.some((prefix) => name.startsWith(prefix))) return 'o200k_base';
  if (CL100K.some((prefix) => name.startsWith(prefix))) return 'cl100k_base';
  return 'o200k_base';
}
