import { describe, expect, it } from 'vitest';
import { encodingFor } from '../../src/tokens/encodings.js';

describe('encodingFor', () => {
  it('o200k_base for gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o-series, chatgpt-4o and gpt-oss', () => {
    for (const model of ['gpt-4o', 'gpt-4o-mini-2024-07-18', 'gpt-4.1-nano', 'gpt-4.5-preview', 'gpt-5.2', 'o1', 'o3-mini', 'o4-mini', 'chatgpt-4o-latest', 'gpt-oss-120b']) {
      expect(encodingFor(model), model).toBe('o200k_base');
    }
  });

  it('cl100k_base for gpt-4, gpt-4-turbo, gpt-3.5 and the embeddings models', () => {
    for (const model of ['gpt-4', 'gpt-4-0613', 'gpt-4-turbo', 'gpt-3.5-turbo', 'text-embedding-3-small', 'text-embedding-ada-002', 'ft:gpt-3.5-turbo:acme::abc']) {
      expect(encodingFor(model), model).toBe('cl100k_base');
    }
  });

  it('o200k_base for an unknown model or none', () => {
    expect(encodingFor('my-local-model')).toBe('o200k_base');
    expect(encodingFor(undefined)).toBe('o200k_base');
  });
});
