import { describe, expect, it } from 'vitest';
import type { RateLimitWaitEvent } from '../../../src/events/event-map.js';
import { countTokens } from '../../../src/tokenizer/index.js';
import { estimateRequestTokens } from '../../../src/tokens/estimate-tokens.js';
import { chatCompletion, faults } from '../../../src/testing/index.js';
import { chatParams, harness } from '../../support/harness.js';

const MODEL = chatParams.model;
// Japanese text: about one token per character, where the estimate assumes four characters a token.
const params = { ...chatParams, messages: [{ role: 'user' as const, content: 'お誕生日おめでとう。'.repeat(10) }] };

describe('rate limiter: reservations counted exactly', () => {
  it('reserves the exact count of the prompt plus max_tokens (gpt-tokenizer installed, tokens: auto)', async () => {
    const first = { ...params, max_tokens: 300 };
    const { input } = countTokens(first, MODEL);
    const estimated = estimateRequestTokens(first).input;
    expect(input).toBeGreaterThan(estimated + 50);
    // 600 tokens per minute, 10 a second: the first reserves input + 300; the second (input + 300 again)
    // waits for what the bucket lacks, at 10 a second. The first's usage confirms its reservation.
    const { server, clock, ai } = await harness({ rateLimit: { tokensPerMinute: 600, learn: false } });
    const waits: RateLimitWaitEvent[] = [];
    ai.resilience.on('rateLimitWait', (event) => waits.push(event));
    server.enqueue(faults.ok(chatCompletion({ id: 'chatcmpl-1', model: MODEL, promptTokens: input, completionTokens: 300 })));
    await ai.chat.completions.create(first);
    const second = ai.chat.completions.create({ ...params, max_tokens: 300 });
    const lacking = 2 * (input + 300) - 600;
    const delay = lacking * 100;
    await clock.until((timers) => timers.some((timer) => timer.delay === delay));
    expect(waits).toEqual([{ model: MODEL, tenant: undefined, delay, reason: 'tokens', trafficClass: 'default' }]);
    await clock.advance(delay);
    await second;
    expect(server.requests).toHaveLength(2);
  });

  it("tokens: { tokenizer: 'estimate' } reserves the estimate, as before", async () => {
    const first = { ...params, max_tokens: 300 };
    const estimated = estimateRequestTokens(first).input;
    const { server, clock, ai } = await harness({ rateLimit: { tokensPerMinute: 600, learn: false }, tokens: { tokenizer: 'estimate' } });
    const waits: RateLimitWaitEvent[] = [];
    ai.resilience.on('rateLimitWait', (event) => waits.push(event));
    server.enqueue(faults.ok(chatCompletion({ id: 'chatcmpl-1', model: MODEL, promptTokens: estimated, completionTokens: 300 })));
    await ai.chat.completions.create(first);
    const second = ai.chat.completions.create({ ...params, max_tokens: 300 });
    const delay = (2 * (estimated + 300) - 600) * 100;
    await clock.until((timers) => timers.some((timer) => timer.delay === delay));
    expect(waits.map((wait) => wait.delay)).toEqual([delay]);
    await clock.advance(delay);
    await second;
  });
});
