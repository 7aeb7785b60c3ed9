import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { resilient } from '../../src/index.js';
import { resolveTokens } from '../../src/tokens/resolve-tokens-options.js';
import { tokenizer } from './support.js';

describe('resolveTokens', () => {
  it("'auto' by default; 'estimate', 'auto' and a tokenizer as given", () => {
    expect(resolveTokens(undefined)).toBe('auto');
    expect(resolveTokens({})).toBe('auto');
    expect(resolveTokens({ tokenizer: 'estimate' })).toBe('estimate');
    expect(resolveTokens({ tokenizer: 'auto' })).toBe('auto');
    expect(resolveTokens({ tokenizer })).toBe(tokenizer);
  });

  it('a TypeError naming the option for anything else', () => {
    expect(() => resolveTokens({ tokenizer: 'exact' })).toThrow(/`tokens.tokenizer` must be 'auto', 'estimate' or a tokenizer/);
    expect(() => resolveTokens({ tokenizer: {} })).toThrow(TypeError);
    expect(() => resolveTokens({ tokeniser: 'auto' })).toThrow(/unknown option `tokens.tokeniser`/);
    expect(() => resolveTokens('estimate')).toThrow(/`tokens` must be an object/);
  });

  it('resilient() validates it at construction', () => {
    expect(() => resilient(new OpenAI({ apiKey: 'sk-test' }), { tokens: { tokenizer: 'exact' as 'auto' } })).toThrow(/`tokens.tokenizer`/);
  });
});
