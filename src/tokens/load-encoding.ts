import type { TokenizerEncoding } from './encodings.js';
import type { EncodingModule } from './tokenizer.js';

/**
 * `gpt-tokenizer`'s module for one encoding, imported on demand. The specifier is held in a variable so
 * that bundlers do not follow it: the main entry does not grow, and does not fail to build, without
 * `gpt-tokenizer`. Rejects when it is not installed (or, in a browser, not resolvable).
 */
export async function loadEncoding(encoding: TokenizerEncoding): Promise<EncodingModule> {
  const specifier = `gpt-tokenizer/encoding/${encoding}`;
  const loaded = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as Partial<EncodingModule>;
  if (typeof loaded.countTokens !== 'function') throw new TypeError(`${specifier} has no countTokens()`);
  return loaded as EncodingModule;
}
