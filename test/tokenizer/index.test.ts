import { describe, expect, it } from 'vitest';
import { countTokens, encodingFor, openaiPrices, tokenizer } from '../../src/tokenizer/index.js';
import { pricesFrom } from '../../src/tokenizer/prices.js';
import messagesFixture from '../tokens/fixtures/cookbook-messages.json' with { type: 'json' };

describe('openai-resilient/tokens', () => {
  it('tokenizer counts in both encodings; countTokens counts a request as the client does', () => {
    expect(tokenizer.countText('hello world', 'o200k_base')).toBe(2);
    expect(tokenizer.countText('hello world', 'cl100k_base')).toBe(2);
    expect(tokenizer.countText('お誕生日おめでとう', 'o200k_base')).toBe(8);
    expect(tokenizer.countText('お誕生日おめでとう', 'cl100k_base')).toBe(9);
    expect(countTokens({ model: 'gpt-4o', messages: messagesFixture.messages, max_tokens: 1 }, 'gpt-4o')).toEqual({ input: 124, maxOutput: 1, exact: true });
    expect(encodingFor('gpt-4')).toBe('cl100k_base');
  });

  it('openaiPrices: per-million input, cached input and output of the models gpt-tokenizer prices; none at zero by omission', () => {
    expect(Object.keys(openaiPrices).length).toBeGreaterThan(10);
    for (const [model, price] of Object.entries(openaiPrices)) {
      expect(typeof price.input, model).toBe('number');
      expect(typeof price.output, model).toBe('number');
    }
    expect(Object.isFrozen(openaiPrices)).toBe(true);
  });

  it('pricesFrom: price_data.main mapped to ModelPrice; a model without input and output prices is left out', () => {
    const prices = pricesFrom({
      a: { price_data: { main: { input: 2, cached_input: 0.5, output: 8 }, batch: { input: 1, output: 4 } } },
      b: { price_data: { main: { input: 1 } } },
      c: { name: 'c' },
      d: { price_data: { main: { input: 3, output: 6 } } },
    });
    expect(prices).toEqual({ a: { input: 2, cachedInput: 0.5, output: 8 }, d: { input: 3, output: 6 } });
  });
});
