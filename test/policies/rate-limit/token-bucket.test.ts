import { describe, expect, it } from 'vitest';
import { estimateTokens, usedTokens } from '../../../src/tokens/estimate-tokens.js';
import { TokenBucket } from '../../../src/policies/rate-limit/token-bucket.js';

describe('TokenBucket', () => {
  it('starts full and refills continuously at perMinute / 60_000 per millisecond', () => {
    const bucket = new TokenBucket(600, 10, 0); // 10 per second
    expect(bucket.perMinute).toBe(600);
    expect(bucket.capacity).toBe(10);
    expect(bucket.level(0)).toBe(10);
    expect(bucket.reserve(10, 0)).toBe(0);
    expect(bucket.level(0)).toBe(0);
    expect(bucket.level(250)).toBeCloseTo(2.5, 9);
    expect(bucket.level(700)).toBeCloseTo(7, 9);
  });

  it('never holds more than its capacity, however long it was idle', () => {
    const bucket = new TokenBucket(600, 10, 0);
    bucket.reserve(4, 0);
    expect(bucket.level(3_600_000)).toBe(10);
    expect(bucket.reserve(10, 3_600_000)).toBe(0);
    expect(bucket.reserve(1, 3_600_000)).toBe(100);
  });

  it('has a capacity of at least one token', () => {
    const bucket = new TokenBucket(3, 0.05, 0);
    expect(bucket.capacity).toBe(1);
    expect(bucket.reserve(1, 0)).toBe(0);
    // 3 per minute: one token every 20 s.
    expect(bucket.reserve(1, 0)).toBe(20_000);
  });

  it('reserves into debt and returns the wait until the debt is repaid, serving callers in arrival order', () => {
    const bucket = new TokenBucket(60, 1, 0); // 1 per second, burst 1
    expect(bucket.reserve(1, 0)).toBe(0);
    expect(bucket.reserve(1, 0)).toBe(1_000);
    expect(bucket.reserve(1, 0)).toBe(2_000);
    expect(bucket.level(0)).toBe(-2);
    // Half a second later the debt is 1.5 tokens: a new caller waits 2.5 s.
    expect(bucket.reserve(1, 500)).toBe(2_500);
    // Waits are whole milliseconds, rounded up (never early).
    expect(new TokenBucket(60, 1, 0).reserve(1.0005, 0)).toBe(1);
  });

  it('refunds what was reserved but not used, never above capacity', () => {
    const bucket = new TokenBucket(60, 1, 0);
    bucket.reserve(1, 0);
    bucket.reserve(1, 0);
    bucket.refund(1, 0);
    expect(bucket.level(0)).toBe(0);
    expect(bucket.reserve(1, 0)).toBe(1_000);
    bucket.refund(1, 0);
    bucket.refund(5, 0);
    expect(bucket.level(0)).toBe(1);
  });

  it('clampTo lowers the level to what the server says is left, and never raises it', () => {
    const bucket = new TokenBucket(600, 10, 0);
    bucket.clampTo(3, 0);
    expect(bucket.level(0)).toBe(3);
    bucket.clampTo(8, 0);
    expect(bucket.level(0)).toBe(3);
    bucket.clampTo(0, 0);
    expect(bucket.reserve(1, 0)).toBe(100);
    // The clamp applies after refilling up to `now`.
    const refilled = new TokenBucket(600, 10, 0);
    refilled.reserve(10, 0);
    refilled.clampTo(5, 1_000); // 10 refilled by then: clamped to 5
    expect(refilled.level(1_000)).toBe(5);
  });

  it('setLimit adopts a new rate and capacity, keeping the level within it', () => {
    const bucket = new TokenBucket(600, 10, 0);
    bucket.setLimit(60, 1, 0);
    expect(bucket.perMinute).toBe(60);
    expect(bucket.capacity).toBe(1);
    expect(bucket.level(0)).toBe(1);
    expect(bucket.reserve(1, 0)).toBe(0);
    expect(bucket.reserve(1, 0)).toBe(1_000);
    // Raising the limit does not grant the new capacity at once: it refills at the new rate.
    bucket.setLimit(6_000, 100, 0);
    expect(bucket.level(0)).toBe(-1);
    expect(bucket.level(20)).toBeCloseTo(1, 9);
    expect(bucket.level(10_000)).toBe(100);
  });

  it('setLimit refills at the old rate up to the change', () => {
    const bucket = new TokenBucket(60, 10, 0);
    bucket.reserve(10, 0);
    bucket.setLimit(6_000, 10, 1_000); // 1 token at the old rate
    expect(bucket.level(1_000)).toBeCloseTo(1, 9);
  });

  it('holdEmptyUntil empties the bucket, keeps its debt and refills only after the hold', () => {
    const bucket = new TokenBucket(600, 10, 0); // 1 per 100 ms
    bucket.holdEmptyUntil(1_000, 0);
    expect(bucket.level(500)).toBe(0);
    expect(bucket.reserve(1, 500)).toBe(600); // the rest of the hold, then one refill interval
    expect(bucket.reserve(1, 500)).toBe(700);
    expect(bucket.level(1_200)).toBe(0);

    bucket.reserve(3, 1_200); // 3 in debt
    bucket.holdEmptyUntil(2_000, 1_200);
    expect(bucket.level(2_000)).toBe(-3);
    expect(bucket.reserve(1, 2_000)).toBe(400);
  });

  it('ignores a clock that goes backwards', () => {
    const bucket = new TokenBucket(60, 1, 1_000);
    bucket.reserve(1, 1_000);
    expect(bucket.level(0)).toBe(0);
    expect(bucket.level(1_500)).toBeCloseTo(0.5, 9);
  });
});

describe('estimateTokens', () => {
  const message = (content: unknown) => ({ model: 'm', messages: [{ role: 'user', content }] });

  it('counts about four characters per token over the text fields', () => {
    // 'user' (4) + 40 characters = 44 characters = 11 tokens.
    expect(estimateTokens(message('abcd'.repeat(10)))).toBe(11);
    expect(estimateTokens({ model: 'm', input: 'x'.repeat(400) })).toBe(100);
    expect(estimateTokens({ model: 'm', input: ['x'.repeat(200), 'y'.repeat(200)] })).toBe(100);
    expect(estimateTokens({ model: 'm', prompt: 'x'.repeat(40) })).toBe(10);
    expect(estimateTokens({ model: 'm', instructions: 'x'.repeat(40), input: 'y'.repeat(40) })).toBe(20);
    expect(estimateTokens({ model: 'm', tools: [{ type: 'function', function: { name: 'f'.repeat(32) } }] })).toBe(10);
  });

  it('does not count the model name or other settings', () => {
    expect(estimateTokens({ model: 'x'.repeat(400), temperature: 0.5, user: 'y'.repeat(400) })).toBe(1);
  });

  it('adds the requested output limit, as OpenAI counts max_tokens up front', () => {
    const base = estimateTokens(message('abcd'.repeat(10)));
    expect(estimateTokens({ ...message('abcd'.repeat(10)), max_tokens: 100 })).toBe(base + 100);
    expect(estimateTokens({ ...message('abcd'.repeat(10)), max_completion_tokens: 50 })).toBe(base + 50);
    expect(estimateTokens({ model: 'm', input: 'x'.repeat(400), max_output_tokens: 1_000 })).toBe(1_100);
    // max_completion_tokens wins over the deprecated max_tokens.
    expect(estimateTokens({ ...message('abcd'.repeat(10)), max_completion_tokens: 50, max_tokens: 500 })).toBe(base + 50);
    // A limit that is not a positive number adds nothing.
    expect(estimateTokens({ ...message('abcd'.repeat(10)), max_tokens: null })).toBe(base);
    expect(estimateTokens({ ...message('abcd'.repeat(10)), max_tokens: -5 })).toBe(base);
  });

  it('does not count base64 data: URLs or image, audio and file fields', () => {
    const huge = 'data:image/png;base64,' + 'A'.repeat(400_000);
    const withImage = (url: string) =>
      message([
        { type: 'text', text: 'abcd' },
        { type: 'image_url', image_url: { url, detail: 'high' } },
      ]);
    expect(estimateTokens(withImage(huge))).toBe(estimateTokens(withImage('data:,')));
    expect(estimateTokens(withImage(huge))).toBeLessThan(10);
    // A bare data: URL string anywhere is not text.
    expect(estimateTokens({ model: 'm', input: huge })).toBe(1);
    // Responses API input images and files, audio input.
    const responsesInput = {
      model: 'm',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'abcd' },
            { type: 'input_image', image_url: 'https://example.com/' + 'x'.repeat(4_000) },
            { type: 'input_file', file_data: 'B'.repeat(40_000), file_id: 'file-' + 'x'.repeat(400) },
            { type: 'input_audio', input_audio: { data: 'C'.repeat(40_000), format: 'wav' } },
          ],
        },
      ],
    };
    expect(estimateTokens(responsesInput)).toBeLessThan(20);
  });

  it('is at least 1, also for bodies that are not objects', () => {
    expect(estimateTokens(undefined)).toBe(1);
    expect(estimateTokens(null)).toBe(1);
    expect(estimateTokens('a long string body')).toBe(1);
    expect(estimateTokens({})).toBe(1);
  });

  it('stops at a bounded depth', () => {
    let deep: unknown = 'x'.repeat(4_000);
    for (let i = 0; i < 20; i++) deep = { nested: deep };
    expect(estimateTokens({ model: 'm', input: deep })).toBe(1);
  });
});

describe('usedTokens', () => {
  it('reads total_tokens of Chat Completions, Responses and Embeddings usage', () => {
    expect(usedTokens({ usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } })).toBe(15);
    expect(usedTokens({ usage: { input_tokens: 10, output_tokens: 7, total_tokens: 17 } })).toBe(17);
    expect(usedTokens({ object: 'list', usage: { prompt_tokens: 8, total_tokens: 8 } })).toBe(8);
  });

  it('adds up the parts when total_tokens is missing', () => {
    expect(usedTokens({ usage: { prompt_tokens: 3, completion_tokens: 4 } })).toBe(7);
    expect(usedTokens({ usage: { input_tokens: 5, output_tokens: 6 } })).toBe(11);
    expect(usedTokens({ usage: { prompt_tokens: 8 } })).toBe(8);
  });

  it('is undefined without a usable usage', () => {
    expect(usedTokens(undefined)).toBeUndefined();
    expect(usedTokens(null)).toBeUndefined();
    expect(usedTokens({})).toBeUndefined();
    expect(usedTokens({ usage: null })).toBeUndefined();
    expect(usedTokens({ usage: {} })).toBeUndefined();
    expect(usedTokens({ usage: { total_tokens: 'many' } })).toBeUndefined();
  });
});
