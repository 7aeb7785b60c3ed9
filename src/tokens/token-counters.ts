import { CountMemo } from './count-memo.js';
import type { TokenizerEncoding } from './encodings.js';
import { encodingFor } from './encodings.js';
import { estimateRequestTokens, estimatingCounter } from './estimate-tokens.js';
import { loadEncoding } from './load-encoding.js';
import { countRequestTokens } from './request-tokens.js';
import type { RequestTokens, TokenCounter } from './token-counter.js';
import { tokenizerFromEncodings, type EncodingModule, type Tokenizer } from './tokenizer.js';
import type { TokenizerChoice } from './tokens-options.js';

/** Loads one encoding's module (a seam for tests; `gpt-tokenizer` by default). */
export type EncodingLoader = (encoding: TokenizerEncoding) => Promise<EncodingModule>;

/** The counter for the `tokens.tokenizer` option: one per client. */
export function createTokenCounter(choice: TokenizerChoice, load: EncodingLoader = loadEncoding): TokenCounter {
  if (choice === 'estimate') return estimatingCounter;
  if (choice === 'auto') return lazyCounter(load);
  return exactCounter(choice);
}

/**
 * Counts with `tokenizer`; a tokenizer that throws leaves that count to the estimate. A call's body is
 * counted once per model (see {@link CountMemo}), however many of the pre-flight, the attempts'
 * reservations and the budgets ask.
 */
export function exactCounter(tokenizer: Tokenizer): TokenCounter {
  const memo = new CountMemo();
  return {
    count(body, model) {
      const known = memo.get(body, model);
      if (known) return Promise.resolve(known);
      let tokens: RequestTokens;
      try {
        tokens = countRequestTokens(body, model, tokenizer);
      } catch {
        return Promise.resolve(estimateRequestTokens(body));
      }
      memo.set(body, model, tokens);
      return Promise.resolve(tokens);
    },
  };
}

/**
 * `'auto'`: nothing is loaded until the first count; then the encoding that count needs is imported once
 * (the count waits for it) and every later count in it is exact. An encoding that fails to load is
 * estimated from then on: the failure is kept, never thrown, never an unhandled rejection.
 */
function lazyCounter(load: EncodingLoader): TokenCounter {
  const modules: Partial<Record<TokenizerEncoding, EncodingModule>> = {};
  const loading = new Map<TokenizerEncoding, Promise<EncodingModule | undefined>>();
  // Reads `modules` at each count: an encoding is used once it has loaded.
  const tokenizer = exactCounter(tokenizerFromEncodings(modules as Record<TokenizerEncoding, EncodingModule>));
  const ready = (encoding: TokenizerEncoding) => {
    let pending = loading.get(encoding);
    if (!pending) {
      pending = Promise.resolve()
        .then(() => load(encoding))
        .then((module) => (modules[encoding] = module), () => undefined);
      loading.set(encoding, pending);
    }
    return pending;
  };
  return {
    async count(body, model) {
      const encoding = encodingFor(model);
      if (!modules[encoding] && !(await ready(encoding))) return estimateRequestTokens(body);
      return tokenizer.count(body, model);
    },
  };
}
