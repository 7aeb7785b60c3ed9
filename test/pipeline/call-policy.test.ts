import OpenAI from 'openai';
import { bulkhead } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { DeadlineExceededError, resilient, type TimeoutEvent } from '../../src/index.js';
import { chatParams, harness, rejectionOf, until } from '../support/harness.js';

/** How `promise` settles, observed from the start (so an early rejection is never unhandled). */
function outcomeOf(promise: Promise<unknown>): { settled: boolean; error?: unknown; readonly done: Promise<void> } {
  const outcome: { settled: boolean; error?: unknown; done: Promise<void> } = { settled: false, done: Promise.resolve() };
  outcome.done = promise.then(
    () => void (outcome.settled = true),
    (error: unknown) => void Object.assign(outcome, { settled: true, error }),
  );
  return outcome;
}

describe('policies.call: a call waiting inside your cockatiel policy', () => {
  it('ends at its timeout.total while queued in a cockatiel bulkhead, without a request', async () => {
    const shared = bulkhead(1, 10);
    const { server, clock, raw } = await harness();
    const base = { clock, circuitBreaker: false, bulkhead: false, rateLimit: false, policies: { call: [shared] } } as const;
    const slow = resilient(raw, { ...base, timeout: { total: 100_000 } });
    const quick = resilient(raw, { ...base, timeout: { total: 1_000 } });
    const timeouts: TimeoutEvent[] = [];
    quick.resilience.on('timeout', (event) => timeouts.push(event));
    server.enqueue(faults.stall());
    const holder = outcomeOf(slow.chat.completions.create(chatParams));
    await until(() => server.requests.length === 1);
    const queued = outcomeOf(quick.chat.completions.create(chatParams));
    await clock.until((timers) => timers.some((timer) => timer.delay === 1_000));
    await clock.advance(1_000);
    await until(() => queued.settled);
    expect(queued.error).toBeInstanceOf(DeadlineExceededError);
    expect(timeouts).toMatchObject([{ timeout: 'total', limit: 1_000 }]);
    await clock.advance(100_000);
    await holder.done;
    // The queued call's turn came after it had ended: it sent nothing.
    expect(server.requests).toHaveLength(1);
  });

  it("ends at once on its caller's abort while queued", async () => {
    const { server, ai, clock } = await harness({ timeout: { total: 100_000 }, policies: { call: [bulkhead(1, 10)] } });
    server.enqueue(faults.stall());
    const holder = outcomeOf(ai.chat.completions.create(chatParams));
    await until(() => server.requests.length === 1);
    const controller = new AbortController();
    const queued = outcomeOf(ai.chat.completions.create(chatParams, { signal: controller.signal }));
    controller.abort();
    await until(() => queued.settled);
    expect(queued.error).toBeInstanceOf(OpenAI.APIUserAbortError);
    await clock.advance(100_000);
    await holder.done;
  });

  it('an already-aborted caller signal never enters the policy and arrives as APIUserAbortError', async () => {
    const { server, ai } = await harness({ policies: { call: [bulkhead(1, 10)] } });
    const error = await rejectionOf(ai.chat.completions.create(chatParams, { signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(server.requests).toHaveLength(0);
  });
});
