import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { resilient, type RateLimitWaitEvent } from '../../src/index.js';
import { PROBE_WAIT } from '../../src/policies/rate-limit/model-probe.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { faults } from '../../src/testing/index.js';
import { chatParams, harness, rejectionOf, until } from '../support/harness.js';
import { heldUpstream, rateLimitBody } from '../support/held-upstream.js';

/** A few real milliseconds, for "nothing more was sent" checks against real sockets. */
const settleReal = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

describe('rate limiter: the first call to a model answered with a 429 and a reset', () => {
  it('no call is sent before the reset: neither those that waited for it nor those made during the pause; then one probe goes first', async () => {
    const { server, clock, ai } = await harness({ rateLimit: {}, retry: { maxRetries: 0 } });
    const waits: RateLimitWaitEvent[] = [];
    ai.resilience.on('rateLimitWait', (event) => waits.push(event));
    // A 429 that teaches no limit (only `retry-after`), as many compatible servers send it.
    server.enqueue(faults.rateLimited({ retryAfterSeconds: 2, noRetryHeaders: true }));
    const first = rejectionOf(ai.chat.completions.create(chatParams));
    const waited = [0, 1].map(() => ai.chat.completions.create(chatParams));
    expect(await first).toBeInstanceOf(OpenAI.RateLimitError);
    const during = ai.chat.completions.create(chatParams);
    await until(() => waits.length === 3);
    expect(waits.map((event) => [event.reason, event.delay])).toEqual([
      ['paused', 2000],
      ['paused', 2000],
      ['paused', 2000],
    ]);
    await settleReal();
    expect(server.requests).toHaveLength(1);
    await clock.advance(1999);
    await settleReal();
    expect(server.requests).toHaveLength(1);

    // At the reset one call goes alone; the others follow its answer (held 200 ms in real time).
    server.enqueue(faults.delay(200));
    await clock.advance(1);
    const results = await Promise.all([...waited, during]);
    expect(results.map((result) => result.object)).toEqual(['chat.completion', 'chat.completion', 'chat.completion']);
    expect(server.requests).toHaveLength(4);
    expect(server.requests[2]!.receivedAt - server.requests[1]!.receivedAt).toBeGreaterThanOrEqual(190);
    expect(clock.pending()).toEqual([]);
  });

  it('a 429 received in time but read after PROBE_WAIT fired (a busy event loop) still holds the calls that waited for it', async () => {
    const upstream = await heldUpstream();
    const clock = new FakeClock(1_700_000_000_000);
    const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: upstream.url, maxRetries: 0 }), {
      clock,
      rateLimit: {},
      circuitBreaker: false,
      bulkhead: false,
      retry: { maxRetries: 0, jitter: false, budget: false },
    });
    upstream.hold = true;
    const first = rejectionOf(ai.chat.completions.create(chatParams));
    await until(() => upstream.held.length === 1);
    const waiting = ai.chat.completions.create(chatParams);
    await clock.until((timers) => timers.some((timer) => timer.delay === PROBE_WAIT));

    // The 429 is written into the socket and, before the loop reads it, the waiter's PROBE_WAIT falls due:
    // what a loaded machine does when the loop runs late.
    upstream.hold = false;
    upstream.held[0]!.answer(429, { 'retry-after': '2' }, rateLimitBody());
    await clock.advance(PROBE_WAIT);
    expect(await first).toBeInstanceOf(OpenAI.RateLimitError);
    await settleReal();
    expect(upstream.received).toHaveLength(1);

    // The pause of 2 s runs from when the 429 was read (PROBE_WAIT later on this clock).
    await clock.advance(1999);
    await settleReal();
    expect(upstream.received).toHaveLength(1);
    await clock.advance(1);
    expect((await waiting).object).toBe('chat.completion');
    expect(upstream.received).toHaveLength(2);
  });
});
