import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import type { GiveUpEvent, RetryEvent } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

async function firstRetryDelay(fault: ReturnType<typeof faults.rateLimited>) {
  const { server, clock, ai } = await harness();
  server.enqueue(fault);
  const retries: RetryEvent[] = [];
  ai.resilience.on('retry', (event) => retries.push(event));
  await drive(clock, ai.chat.completions.create(chatParams));
  expect(server.requests).toHaveLength(2);
  return retries[0]!;
}

describe('server retry hints', () => {
  it('honours retry-after-ms', async () => {
    const retry = await firstRetryDelay(faults.rateLimited({ retryAfterMs: 1234 }));
    expect(retry).toMatchObject({ delay: 1234, delaySource: 'retry-after-ms', kind: 'rate_limited', status: 429 });
  });

  it('honours retry-after in seconds', async () => {
    const retry = await firstRetryDelay(faults.rateLimited({ retryAfterSeconds: 7 }));
    expect(retry).toMatchObject({ delay: 7000, delaySource: 'retry-after' });
  });

  it('honours retry-after as an HTTP date', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.rateLimited({ retryAfterDate: new Date(clock.now() + 9000) }));
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    await drive(clock, ai.chat.completions.create(chatParams));
    // HTTP dates have whole-second precision.
    expect(retries[0]!.delaySource).toBe('retry-after');
    expect(retries[0]!.delay).toBeGreaterThan(8000);
    expect(retries[0]!.delay).toBeLessThanOrEqual(9000);
  });

  it('prefers retry-after-ms over retry-after', async () => {
    const retry = await firstRetryDelay(faults.rateLimited({ retryAfterMs: 300, retryAfterSeconds: 30 }));
    expect(retry).toMatchObject({ delay: 300, delaySource: 'retry-after-ms' });
  });

  it('falls back to x-ratelimit-reset-* for the limit that was hit', async () => {
    const requests = await firstRetryDelay(faults.rateLimited({ type: 'requests', resetRequests: '1.5s', resetTokens: '6m0s' }));
    expect(requests).toMatchObject({ delay: 1500, delaySource: 'x-ratelimit-reset-requests' });
    const tokens = await firstRetryDelay(faults.rateLimited({ type: 'tokens', resetRequests: '1.5s', resetTokens: '45s' }));
    expect(tokens).toMatchObject({ delay: 45_000, delaySource: 'x-ratelimit-reset-tokens' });
  });

  it('uses backoff when a 429 carries no hint', async () => {
    const retry = await firstRetryDelay(faults.rateLimited({ noRetryHeaders: true }));
    expect(retry).toMatchObject({ delay: 500, delaySource: 'backoff' });
  });

  it('fails at once with the upstream error when the hint exceeds maxRetryAfter', async () => {
    const { server, clock, ai } = await harness({ retry: { maxRetryAfter: 10_000 } });
    server.enqueue(faults.rateLimited({ retryAfterSeconds: 11 }));
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('giveUp', (event) => giveUps.push(event));
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(server.requests).toHaveLength(1);
    expect(giveUps[0]).toMatchObject({ reason: 'retry_after_exceeds_max', delay: 11_000 });
    expect(clock.pending()).toEqual([]);
  });

  it('does not start a retry whose wait cannot fit in the total budget', async () => {
    const { server, ai } = await harness({ timeout: { total: 5000 } });
    server.enqueue(faults.rateLimited({ retryAfterMs: 5000 }));
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('giveUp', (event) => giveUps.push(event));
    const error = await rejectionOf(ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(server.requests).toHaveLength(1);
    expect(giveUps[0]).toMatchObject({ reason: 'deadline', delay: 5000, kind: 'rate_limited' });
  });

  it('server hints apply to other retryable statuses too (503 with retry-after)', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.overloaded({ headers: { 'retry-after': '3' } }));
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    await drive(clock, ai.chat.completions.create(chatParams));
    expect(retries[0]).toMatchObject({ delay: 3000, kind: 'overloaded' });
  });
});

describe('backoff', () => {
  it('grows exponentially to maxDelay, and jitter stays within [half, all] of it', async () => {
    const { server, clock, ai } = await harness({ retry: { maxRetries: 5, initialDelay: 1000, maxDelay: 5000 } });
    server.enqueue(...Array.from({ length: 6 }, () => faults.serverError(500)));
    const delays: number[] = [];
    ai.resilience.on('retry', (event) => delays.push(event.delay));
    await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(delays).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});
