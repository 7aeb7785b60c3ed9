import { describe, expect, it } from 'vitest';
import { countTokens, encodingFor, tokenizer } from '../../src/tokenizer/index.js';
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
});
