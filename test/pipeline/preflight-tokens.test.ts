import { describe, expect, it } from 'vitest';
import { ContextWindowExceededError } from '../../src/index.js';
import { countTokens } from '../../src/tokenizer/index.js';
import { estimateTokens } from '../../src/tokens/estimate-tokens.js';
import { chatParams, harness, rejectionOf } from '../support/harness.js';

// About one token per character, where the estimate assumes four: the estimate lets it through, the count does not.
const request = { ...chatParams, model: 'small-model', messages: [{ role: 'user' as const, content: 'お誕生日おめでとう。'.repeat(40) }], max_tokens: 50 };

describe('pre-flight context window, counted exactly', () => {
  const { input, maxOutput } = countTokens(request, request.model);
  const counted = input + maxOutput!;
  const window = estimateTokens(request) + 10;

  it('the estimate is under the window and the exact count over it', () => {
    expect(estimateTokens(request)).toBeLessThan(window);
    expect(counted).toBeGreaterThan(window);
  });

  it('rejects with the exact count (prompt plus max_tokens), sending nothing', async () => {
    const { server, ai } = await harness({ contextWindows: { 'small-model': window } });
    const error = await rejectionOf(ai.chat.completions.create(request));
    expect(error).toBeInstanceOf(ContextWindowExceededError);
    expect(error).toMatchObject({ model: 'small-model', estimatedTokens: counted, contextWindow: window });
    expect(server.requests).toHaveLength(0);
  });

  it("with tokens: { tokenizer: 'estimate' } the same request goes (today's behaviour)", async () => {
    const { server, ai } = await harness({ contextWindows: { 'small-model': window }, tokens: { tokenizer: 'estimate' } });
    expect((await ai.chat.completions.create(request)).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(1);
  });

  it('a request whose exact count fits its window goes', async () => {
    const { server, ai } = await harness({ contextWindows: { 'small-model': counted } });
    expect((await ai.chat.completions.create(request)).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(1);
  });
});
