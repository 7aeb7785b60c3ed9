import { fail, objectWithKeys } from '../core/validate.js';
import type { TokenizerChoice, TokensOptions } from './tokens-options.js';

/** Validates the `tokens` option (a `TypeError` naming it when it is wrong); `'auto'` by default. */
export function resolveTokens(value: unknown): TokenizerChoice {
  const options = objectWithKeys('tokens', value, ['tokenizer']) as TokensOptions | undefined;
  const tokenizer = options?.tokenizer;
  if (tokenizer === undefined) return 'auto';
  if (tokenizer === 'auto' || tokenizer === 'estimate') return tokenizer;
  if (typeof tokenizer === 'object' && tokenizer !== null && typeof tokenizer.countText === 'function') return tokenizer;
  return fail('tokens.tokenizer', "'auto', 'estimate' or a tokenizer (an object with `countText(text, encoding)`)", tokenizer);
}
