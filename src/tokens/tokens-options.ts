import type { Tokenizer } from './tokenizer.js';

/** How requests are counted before they are sent: option `tokens` of `resilient()`. See docs/tokens.md. */
export interface TokensOptions {
  /**
   * What counts a request's tokens for the rate limiter's reservations, the `contextWindows` pre-flight
   * and the budgets:
   * - `'auto'`: `gpt-tokenizer` when it is installed, loaded with a dynamic `import()` on the first count
   *   (which waits for it, once); the estimate (about 4 characters per token) when it cannot be loaded;
   * - `'estimate'`: always the estimate; `gpt-tokenizer` is never loaded;
   * - a {@link Tokenizer}: this one, e.g. `tokenizer` from `openai-resilient/tokens` (for bundlers and
   *   browsers where a dynamic `import()` of a bare name does not resolve).
   * @default 'auto'
   * @example `{ tokenizer: 'estimate' }`
   */
  readonly tokenizer?: 'auto' | 'estimate' | Tokenizer | undefined;
}

/** What counts the tokens, once resolved. */
export type TokenizerChoice = 'auto' | 'estimate' | Tokenizer;
