import { describe, expect, it } from 'vitest';
import { FakeClock, faults } from '../../src/testing/index.js';
import { CircuitOpenError, RateLimitTimeoutError } from '../../src/index.js';
import { chatParams, drive, rejectionOf, until } from '../support/harness.js';
import { answerGate, memberPool, type MemberPool } from '../support/pool-members.js';

/** Pauses member `index` for `ms` with a 429 that says only when to come back (the call itself goes elsewhere). */
function pauseNext(h: MemberPool, index: number, ms: number): void {
  h.servers[index]!.enqueue(faults.rateLimited({ retryAfterMs: ms, noRetryHeaders: true }));
}

describe('pool: when no member can take a call now', () => {
  it('waits for the member that is ready first, then sends to it', async () => {
    const h = await memberPool([{}, {}], { rateLimit: {}, pool: { routing: 'ordered' }, retry: { maxRetries: 0 } });
    pauseNext(h, 0, 20_000);
    pauseNext(h, 1, 8_000);
    await rejectionOf(drive(h.clock, h.ai.chat.completions.create(chatParams)));
    await rejectionOf(drive(h.clock, h.ai.chat.completions.create(chatParams)));
    expect(h.received()).toEqual([1, 1]);
    // m0 is paused for 20 s, m1 for 8 s: the call waits for m1, sending nothing meanwhile.
    const started = h.clock.now();
    const call = h.ai.chat.completions.create(chatParams);
    await h.clock.until((timers) => timers.some((timer) => timer.delay === 8_000));
    expect(h.received()).toEqual([1, 1]);
    await h.clock.advance(8_000);
    await call;
    expect(h.clock.now() - started).toBe(8_000);
    expect(h.received()).toEqual([1, 2]);
  });

  it('fails at once with RateLimitTimeoutError, sending nothing, when the first member ready is past the deadline', async () => {
    const h = await memberPool([{}, {}], { rateLimit: {}, retry: { maxRetries: 0 }, timeout: { total: 5_000 } });
    pauseNext(h, 0, 30_000);
    pauseNext(h, 1, 30_000);
    await rejectionOf(drive(h.clock, h.ai.chat.completions.create(chatParams)));
    await rejectionOf(drive(h.clock, h.ai.chat.completions.create(chatParams)));
    expect(h.received()).toEqual([1, 1]);
    const error = await rejectionOf(h.ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(RateLimitTimeoutError);
    expect(h.received()).toEqual([1, 1]);
  });

  it('fails with CircuitOpenError when every member\'s circuit is open past the deadline', async () => {
    const h = await memberPool([{}, {}], {
      circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 60_000 },
      retry: { maxRetries: 1 },
      timeout: { total: 10_000 },
    });
    h.servers[0]!.enqueue(faults.serverError(500));
    h.servers[1]!.enqueue(faults.serverError(500));
    await rejectionOf(drive(h.clock, h.ai.chat.completions.create(chatParams)));
    expect(h.ai.resilience.circuits()).toEqual({ 'm0/gpt-4.1-mini': 'open', 'm1/gpt-4.1-mini': 'open' });
    const error = await rejectionOf(h.ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(h.received()).toEqual([1, 1]);
  });

  it('goes to a fallback model at once rather than waiting for an open member', async () => {
    const h = await memberPool([{}, {}], {
      circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 60_000 },
      retry: { maxRetries: 1 },
      fallback: { models: { 'gpt-4.1-mini': ['gpt-4.1-nano'] } },
    });
    h.servers[0]!.enqueue(faults.serverError(500));
    h.servers[1]!.enqueue(faults.serverError(500));
    // Both members fail: the pool is exhausted, and the fallback model is routed over the members.
    const completion = await drive(h.clock, h.ai.chat.completions.create(chatParams));
    expect(completion.model).toBe('gpt-4.1-nano');
    const started = h.clock.now();
    const next = await drive(h.clock, h.ai.chat.completions.create(chatParams));
    expect(next.model).toBe('gpt-4.1-nano');
    expect(h.clock.now()).toBe(started);
  });

  it('waits for room when every member is full, and goes as soon as an attempt ends', async () => {
    const h = await memberPool([{ maxConcurrent: 1 }, { maxConcurrent: 1 }]);
    h.servers[0]!.enqueue(faults.delay(100));
    h.servers[1]!.enqueue(faults.delay(100));
    const calls = Array.from({ length: 3 }, () => h.ai.chat.completions.create(chatParams));
    await Promise.all(calls);
    expect(h.received().reduce((a, b) => a + b)).toBe(3);
    expect(h.ai.resilience.stats().members!['m0']!.inFlight).toBe(0);
  });
});

describe('pool: a member whose circuit opens while a call waits for its rate limits', () => {
  it('does not get the call: another member takes it', async () => {
    const gate = answerGate();
    const clock = new FakeClock(1_700_000_000_000);
    // Accounts of 60 requests a minute, a second's worth at a time, said in their x-ratelimit-* headers.
    const server = { capacity: { requestsPerMinute: 60, clock } };
    const breaker = { consecutiveFailures: 1, halfOpenAfter: 60_000 };
    const h = await memberPool(
      [{ fetch: gate.fetch, maxConcurrent: 1, server }, { server }],
      { rateLimit: {}, circuitBreaker: breaker, pool: { routing: 'ordered' } },
      clock,
    );
    // m0 holds a call (it is full); m1 answers one and has spent its second's request.
    gate.shut();
    const held = h.ai.chat.completions.create(chatParams);
    await until(() => h.received()[0] === 1);
    await drive(h.clock, h.ai.chat.completions.create(chatParams));
    expect(h.received()).toEqual([1, 1]);
    // The next call can only wait for m1's rate limits.
    const waiting = h.ai.chat.completions.create(chatParams);
    await h.clock.until((timers) => timers.some((timer) => timer.delay > 0 && timer.delay <= 1_000));
    // Meanwhile m1's circuit opens (as another process found, adopted from its exported state), and m0 has room again.
    const other = await memberPool([{ models: ['other-model'] }, {}], { circuitBreaker: breaker, retry: { maxRetries: 0 } }, h.clock);
    other.servers[1]!.enqueue(faults.serverError(500));
    await rejectionOf(other.ai.chat.completions.create(chatParams));
    h.ai.resilience.restoreState(other.ai.resilience.exportState());
    expect(h.ai.resilience.circuits()['m1/gpt-4.1-mini']).toBe('open');
    gate.open();
    await held;
    await h.clock.advance(1_000);
    await waiting;
    expect(h.received()).toEqual([2, 1]);
  });
});
