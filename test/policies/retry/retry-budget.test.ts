import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { FakeClock, faults } from '../../../src/testing/index.js';
import { EventBus } from '../../../src/events/event-bus.js';
import { RetryBudget } from '../../../src/policies/retry/retry-budget.js';
import type { SharedBackend } from '../../../src/shared/shared-backend.js';
import { SharedLink } from '../../../src/shared/shared-link.js';
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

describe('retry budget: shared by processes', () => {
  /** A backend that keeps budgets only, answering `retry` (or never, for `undefined`). */
  function budgetLink(retry: boolean | undefined) {
    const clock = new FakeClock(1_000);
    const calls: string[] = [];
    const backend = {
      name: 'memory', ready: true, timeout: 100, retryInterval: 1_000,
      budgetCalls: async (key: string, count: number) => void calls.push(`${key} +${count}`),
      budgetRetry: (key: string) => {
        calls.push(`${key} retry`);
        return retry === undefined ? new Promise<boolean>(() => undefined) : Promise.resolve(retry);
      },
    } as unknown as SharedBackend;
    const link = new SharedLink(backend, clock, new EventBus());
    return { clock, link, calls, budget: new RetryBudget({ ratio: 0, minRetries: 1, window: 60_000 }, clock, link) };
  }

  it("counts calls and takes retries from the account's shared budget, following its word", async () => {
    const { budget, calls } = budgetLink(false);
    expect(budget.isShared).toBe(true);
    budget.recordCall('acct');
    // This process's own budget has a retry left; the shared one, spent by other processes, has none.
    expect(await budget.tryRetryShared('acct')).toBe(false);
    expect(calls).toEqual(['acct +1', 'acct retry']);
  });

  it('decides on its own counts when the shared state does not answer in time', async () => {
    const { budget, clock, link } = budgetLink(undefined);
    const decision = budget.tryRetryShared('acct');
    await clock.until((timers) => timers.some((timer) => timer.delay === 100));
    await clock.advance(100);
    expect(await decision).toBe(true);
    expect(link.stats()).toMatchObject({ available: false, localDecisions: 1 });
    // Meanwhile (retryInterval) it is not asked; its own budget is spent.
    expect(await budget.tryRetryShared('acct')).toBe(false);
  });
});
