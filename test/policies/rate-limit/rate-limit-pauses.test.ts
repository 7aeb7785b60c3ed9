import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { resilient, type RateLimitWaitEvent } from '../../../src/index.js';
import { PROBE_WAIT } from '../../../src/policies/rate-limit/model-probe.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { faults } from '../../../src/testing/index.js';
import { chatParams, harness, rejectionOf, until } from '../../support/harness.js';
import { heldUpstream, okBody, rateLimitBody } from '../../support/held-upstream.js';

const MODEL = chatParams.model;

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

describe('rate limiter: no pause outlives retry.maxRetryAfter', () => {
  for (const seconds of [10, 86_400]) {
    it(`a 429 asking for ${seconds} s fails that call at once, pauses the model for maxRetryAfter (2 s) only, and the pause ends with one probe`, async () => {
      const { server, clock, ai } = await harness({ rateLimit: {}, retry: { maxRetryAfter: 2000 } });
      const waits: RateLimitWaitEvent[] = [];
      ai.resilience.on('rateLimitWait', (event) => waits.push(event));
      const start = clock.now();
      server.enqueue(faults.rateLimited({ retryAfterSeconds: seconds, noRetryHeaders: true }));
      expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.RateLimitError);
      expect(clock.now()).toBe(start);
      expect(ai.resilience.stats().models[MODEL]!.rateLimit.pausedUntil).toBe(start + 2000);

      // Later calls wait out the 2 s (they are not refused for a wait of a day beyond timeout.total).
      const later = [0, 1, 2].map(() => ai.chat.completions.create(chatParams));
      await until(() => waits.length === 3);
      expect(waits.map((event) => [event.reason, event.delay])).toEqual([
        ['paused', 2000],
        ['paused', 2000],
        ['paused', 2000],
      ]);
      await clock.advance(1999);
      await settleReal();
      expect(server.requests).toHaveLength(1);

      // Then one call goes alone; the others follow its answer (held 200 ms in real time).
      server.enqueue(faults.delay(200));
      await clock.advance(1);
      const results = await Promise.all(later);
      expect(results.map((result) => result.object)).toEqual(['chat.completion', 'chat.completion', 'chat.completion']);
      expect(server.requests).toHaveLength(4);
      expect(server.requests[2]!.receivedAt - server.requests[1]!.receivedAt).toBeGreaterThanOrEqual(190);
      expect(clock.pending()).toEqual([]);
    });
  }

  it('a probe answered with another long 429 pauses the model again, cut short again; its success lets the others go', async () => {
    const { server, clock, ai } = await harness({ rateLimit: {}, retry: { maxRetryAfter: 2000 } });
    const waits: RateLimitWaitEvent[] = [];
    ai.resilience.on('rateLimitWait', (event) => waits.push(event));
    server.enqueue(faults.rateLimited({ retryAfterSeconds: 86_400, noRetryHeaders: true }));
    expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.RateLimitError);
    const later = [0, 1, 2].map((i) => ai.chat.completions.create({ ...chatParams, user: `call-${i}` }).then(
      (result) => result.object,
      (error: unknown) => (error as Error).constructor.name,
    ));
    await until(() => waits.length === 3);

    server.enqueue(faults.rateLimited({ retryAfterSeconds: 86_400, noRetryHeaders: true }));
    const probedAt = clock.now() + 2000;
    await clock.advance(2000);
    // The probe's 429 fails it at once and pauses the other two for 2 s more.
    await clock.until((timers) => timers.filter((timer) => timer.at === probedAt + 2000).length === 2);
    expect(ai.resilience.stats().models[MODEL]!.rateLimit.pausedUntil).toBe(probedAt + 2000);
    await settleReal();
    expect(server.requests).toHaveLength(2);
    await clock.advance(1999);
    await settleReal();
    expect(server.requests).toHaveLength(2);
    await clock.advance(1);
    expect((await Promise.all(later)).sort()).toEqual(['RateLimitError', 'chat.completion', 'chat.completion']);
    expect(server.requests).toHaveLength(4);
    expect(ai.resilience.stats().models[MODEL]!.rateLimit.pausedUntil).toBeUndefined();
  });

  it('a probe that ends without an answer (a 500) hands its place to the next call; the pause is still owed its probe', async () => {
    const { server, clock, ai } = await harness({ rateLimit: {}, retry: { maxRetries: 0, maxRetryAfter: 2000 } });
    server.enqueue(faults.rateLimited({ retryAfterSeconds: 86_400, noRetryHeaders: true }));
    expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.RateLimitError);
    const later = [0, 1, 2].map(() => ai.chat.completions.create(chatParams).then(
      (result) => result.object,
      (error: unknown) => (error as Error).constructor.name,
    ));
    await clock.until((timers) => timers.filter((timer) => timer.delay === 2000).length === 3);
    server.enqueue(faults.serverError(500), faults.delay(200));
    await clock.advance(2000);
    expect((await Promise.all(later)).sort()).toEqual(['InternalServerError', 'chat.completion', 'chat.completion']);
    expect(server.requests).toHaveLength(4);
    // The second probe went alone too: the last call followed its (delayed) answer.
    expect(server.requests[3]!.receivedAt - server.requests[2]!.receivedAt).toBeGreaterThanOrEqual(190);
  });

  describe('a pause from any header is cut to maxRetryAfter; what is not a duration pauses nothing', () => {
    const day = 86_400_000;
    const cases: Array<[string, (now: number) => Record<string, string>, number | undefined]> = [
      ['retry-after as an HTTP date a year away', (now) => ({ 'retry-after': new Date(now + 365 * day).toUTCString() }), 2000],
      ['retry-after of 10^20 seconds', () => ({ 'retry-after': '100000000000000000000' }), 2000],
      ['retry-after-ms of 10^15', () => ({ 'retry-after-ms': '1e15' }), 2000],
      ['x-ratelimit-reset-requests: 86400s', () => ({ 'x-ratelimit-reset-requests': '86400s' }), 2000],
      ['x-ratelimit-reset-requests: 1h30m', () => ({ 'x-ratelimit-reset-requests': '1h30m' }), 2000],
      ['x-ratelimit-reset-tokens of 240 hours', () => ({ 'x-ratelimit-reset-tokens': '240h0m0s' }), 2000],
      ['retry-after: 1.5 (within the cap: as given)', () => ({ 'retry-after': '1.5' }), 1500],
      ['retry-after: -5', () => ({ 'retry-after': '-5' }), undefined],
      ['retry-after: NaN', () => ({ 'retry-after': 'NaN' }), undefined],
      ['retry-after-ms: Infinity', () => ({ 'retry-after-ms': 'Infinity' }), undefined],
    ];
    for (const [name, headers, pause] of cases) {
      it(name, async () => {
        const upstream = await heldUpstream();
        const clock = new FakeClock(1_700_000_000_000);
        const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: upstream.url, maxRetries: 0 }), {
          clock, rateLimit: {}, circuitBreaker: false, bulkhead: false, retry: { maxRetries: 0, maxRetryAfter: 2000 },
        });
        upstream.respond = (request) => request.answer(429, headers(clock.now()), rateLimitBody());
        expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.RateLimitError);
        const { pausedUntil } = ai.resilience.stats().models[MODEL]!.rateLimit;
        expect(pausedUntil === undefined ? undefined : pausedUntil - clock.now()).toBe(pause);
        upstream.respond = (request) => request.answer(200, {}, okBody());
      });
    }
  });
});
