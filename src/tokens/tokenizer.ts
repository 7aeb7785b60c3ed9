import type { TokenizerEncoding } from './encodings.js';

/**
 * Counts the tokens of a text the way OpenAI's models split it. `openai-resilient/tokens` exports one
 * built on `gpt-tokenizer` (`tokenizer`); any object of this shape works (pass it as `tokens.tokenizer`).
 */
export interface Tokenizer {
  /** Tokens of `text` in `encoding`. Special-token strings such as `<|endoftext|>` count as plain text. */
  countText(text: string, encoding: TokenizerEncoding): number;
}

/** What one of `gpt-tokenizer`'s encoding modules (`gpt-tokenizer/encoding/o200k_base`) offers us. */
export interface EncodingModule {
  countTokens(text: string, options?: { disallowedSpecial?: Set<string> }): number;
}

/** No special token is refused: a prompt that contains `<|endoftext|>` is text, as the API counts it. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

/** A {@link Tokenizer} over `gpt-tokenizer`'s per-encoding modules. */
export function tokenizerFromEncodings(encodings: Readonly<Record<TokenizerEncoding, EncodingModule>>): Tokenizer {
  return {
    // Only a text that may hold a special token takes the (slower) path that reads it as text.
    countText: (text, encoding) => (text === '' ? 0 : encodings[encoding].countTokens(text, text.includes('<|') ? AS_TEXT : undefined)),
  };
}
