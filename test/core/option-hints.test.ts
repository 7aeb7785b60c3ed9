import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { resilient } from '../../src/index.js';

const client = () => new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });

/** The message of the TypeError `resilient(client, options)` throws. */
function messageFor(options: unknown): string {
  try {
    resilient(client(), options as never);
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  throw new Error('expected resilient() to throw');
}

describe('options written as the SDK (or another library) would: the TypeError says what was meant', () => {
  it.each<[string, unknown, string]>([
    ['timeout: 5000 (the SDK option)', { timeout: 5000 }, "`timeout` must be an object, got 5000: the SDK's `timeout` is per attempt: write `timeout: { attempt: 5000 }`"],
    ['retry: 3', { retry: 3 }, '`retry` must be an object, got 3: for 3 retries write `retry: { maxRetries: 3 }`'],
    ['retry: true', { retry: true }, '`retry` is on by default: leave it out, give its options, or `false` to turn it off'],
    ['circuitBreaker: true', { circuitBreaker: true }, '`circuitBreaker` is on by default'],
    ['maxRetries at the top', { maxRetries: 3 }, 'unknown option `maxRetries`: write `retry: { maxRetries: 3 }` (or set it on the client: `new OpenAI({ maxRetries: 3 })` carries over)'],
    ['retries at the top', { retries: 3 }, 'unknown option `retries`: did you mean `retry: { maxRetries }`?'],
    ['timeoutMs', { timeoutMs: 30_000 }, 'unknown option `timeoutMs`: write `timeout: { attempt: 30000 }`'],
    ['baseURL (a client option)', { baseURL: 'https://example.com/v1' }, 'unknown option `baseURL`: `baseURL` is an option of the OpenAI client: `resilient(new OpenAI({ baseURL }))`'],
    ['apiKey (a client option)', { apiKey: 'sk-…' }, '`apiKey` is an option of the OpenAI client'],
    ["cockatiel's retry.maxAttempts", { retry: { maxAttempts: 3 } }, 'unknown option `retry.maxAttempts`: did you mean `retry.maxRetries`?'],
    ['retry.timeout', { retry: { timeout: 1000 } }, 'did you mean `timeout: { attempt } (beside `retry`, not inside it)`?'],
    ['timeout.request', { timeout: { request: 3 } }, 'unknown option `timeout.request`: did you mean `timeout.attempt`?'],
    ["opossum's circuitBreaker.resetTimeout", { circuitBreaker: { resetTimeout: 30_000 } }, 'did you mean `circuitBreaker.halfOpenAfter`?'],
    ['bulkhead.concurrency', { bulkhead: { concurrency: 8 } }, 'did you mean `bulkhead.maxConcurrent`?'],
    ['rateLimit.rpm', { rateLimit: { rpm: 500 } }, 'did you mean `rateLimit.requestsPerMinute`?'],
  ])('%s', (_name, options, expected) => {
    const message = messageFor(options);
    expect(message).toContain(expected);
    expect(message).toMatch(/^openai-resilient: /);
  });

  it('still lists the options there are', () => {
    expect(messageFor({ maxRetries: 3 })).toMatch(/; expected one of `retry`, `timeout`, /);
  });

  it('adds nothing when there is nothing likely to say', () => {
    expect(messageFor({ timeout: 'soon' })).toBe('openai-resilient: `timeout` must be an object, got "soon".');
    expect(messageFor({ retry: { jitter: 'yes' } })).toBe('openai-resilient: `retry.jitter` must be a boolean, got "yes".');
  });
});
