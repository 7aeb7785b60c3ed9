import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../../src/testing/index.js';
import { systemClock, type BudgetExhaustedEvent, type GiveUpEvent } from '../../../src/index.js';
import { chatParams, drive, harness, rejectionOf } from '../../support/harness.js';

describe('retry budget', () => {
  it('bounds a retry storm: 60 concurrent calls against a server that only fails', async () => {
    const { server, ai } = await harness({
      clock: systemClock,
      retry: { maxRetries: 3, initialDelay: 1, maxDelay: 2, budget: 0.2 },
    });
    server.enqueue(...Array.from({ length: 300 }, () => faults.serverError(500)));
    const exhausted: BudgetExhaustedEvent[] = [];
    ai.resilience.on('budgetExhausted', (event) => exhausted.push(event));
    const results = await Promise.allSettled(Array.from({ length: 60 }, () => ai.chat.completions.create(chatParams)));
    expect(results.every((result) => result.status === 'rejected' && result.reason instanceof OpenAI.InternalServerError)).toBe(true);
    // 60 first attempts + at most 10 (floor) + 0.2 × 60 retries, instead of up to 60 × 4 = 240.
    expect(server.requests.length).toBeLessThanOrEqual(82);
    expect(server.requests.length / 60).toBeLessThan(1.4);
    expect(exhausted.length).toBeGreaterThan(0);
    expect(exhausted[0]).toMatchObject({ kind: 'server_error', model: 'gpt-4.1-mini' });
  });

  it('lets a quiet client retry (the floor)', async () => {
    const { server, clock, ai } = await harness({ retry: { budget: 0.2 } });
    server.enqueue(faults.serverError(500), faults.serverError(500));
    expect((await drive(clock, ai.chat.completions.create(chatParams))).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(3);
  });

  it('a spent budget returns the failure at once, with a giveUp reason', async () => {
    const { server, clock, ai } = await harness({ retry: { budget: { ratio: 0, minRetries: 1, window: 60_000 } } });
    server.enqueue(faults.serverError(500), faults.serverError(500), faults.serverError(500));
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('giveUp', (event) => giveUps.push(event));
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server.requests).toHaveLength(2);
    expect(giveUps[0]).toMatchObject({ reason: 'budget_exhausted', attempt: 2 });
  });

  it('recovers as the window slides', async () => {
    const { server, clock, ai } = await harness({ retry: { budget: { ratio: 0, minRetries: 1, window: 10_000 } } });
    server.enqueue(faults.serverError(500));
    await drive(clock, ai.chat.completions.create(chatParams));
    server.enqueue(faults.serverError(500));
    await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    await clock.advance(11_000);
    server.enqueue(faults.serverError(500));
    expect((await drive(clock, ai.chat.completions.create(chatParams))).object).toBe('chat.completion');
  });

  it('does not charge rate-limited retries that the rate limiter paces', async () => {
    const paced = await harness({ rateLimit: {}, retry: { budget: { ratio: 0, minRetries: 0, window: 60_000 } } });
    paced.server.enqueue(faults.rateLimited({ retryAfterMs: 100, limitRequests: 6000 }));
    await drive(paced.clock, paced.ai.chat.completions.create(chatParams));
    expect(paced.server.requests).toHaveLength(2);

    const unpaced = await harness({ retry: { budget: { ratio: 0, minRetries: 0, window: 60_000 } } });
    unpaced.server.enqueue(faults.rateLimited({ retryAfterMs: 100, limitRequests: 6000 }));
    await rejectionOf(drive(unpaced.clock, unpaced.ai.chat.completions.create(chatParams)));
    expect(unpaced.server.requests).toHaveLength(1);
  });
});
