import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { RateLimitTimeoutError } from '../../../src/errors/rate-limit-timeout-error.js';
import { EventBus } from '../../../src/events/event-bus.js';
import type { RateLimitWaitEvent } from '../../../src/events/event-map.js';
import { classify, isResilienceError, resilient } from '../../../src/index.js';
import { abortableOf } from '../../../src/core/abort-scope.js';
import { PROBE_WAIT } from '../../../src/policies/rate-limit/model-probe.js';
import { RateLimiter, type RateLimitSettings } from '../../../src/policies/rate-limit/rate-limiter.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { chatCompletion, faults } from '../../../src/testing/index.js';
import { chatParams, harness, rejectionOf, until, type Harness } from '../../support/harness.js';

const MODEL = chatParams.model;

/** A few real milliseconds, for "nothing more was sent" checks against the real-time fault server. */
const settleReal = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

function recordWaits(ai: Harness['ai']): RateLimitWaitEvent[] {
  const waits: RateLimitWaitEvent[] = [];
  ai.resilience.on('rateLimitWait', (event) => waits.push(event));
  return waits;
}

/** Waits until a timer of each of the given delays is pending on the clock (the rate-limit sleeps). */
function sleepsPending(clock: FakeClock, delays: number[]): Promise<void> {
  return clock.until((timers) => delays.every((delay) => timers.some((timer) => timer.delay === delay)));
}

describe('rate limiter: configured limits', () => {
  // These tests are about configured limits alone (`learn: false`): the server's x-ratelimit-remaining-*
  // headers, when learned, say what may go instead (see 'limits learned from headers').
  it('requestsPerMinute: 60 sends one request at once and paces the others a second apart', async () => {
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 60, learn: false } });
    const waits = recordWaits(ai);
    const calls = [0, 1, 2].map(() => ai.chat.completions.create(chatParams));
    await sleepsPending(clock, [1000, 2000]);
    expect(waits.map((event) => [event.reason, event.delay]).sort()).toEqual([
      ['requests', 1000],
      ['requests', 2000],
    ]);
    expect(waits.every((event) => event.model === MODEL && event.tenant === undefined)).toBe(true);

    await until(() => server.requests.length === 1);
    await settleReal();
    expect(server.requests).toHaveLength(1);
    await clock.advance(999);
    await settleReal();
    expect(server.requests).toHaveLength(1);
    await clock.advance(1);
    await until(() => server.requests.length === 2);
    await clock.advance(999);
    await settleReal();
    expect(server.requests).toHaveLength(2);
    await clock.advance(1);
    const results = await Promise.all(calls);
    expect(results.map((result) => result.object)).toEqual(['chat.completion', 'chat.completion', 'chat.completion']);
    expect(server.requests).toHaveLength(3);
    expect(clock.pending()).toEqual([]);
  });

  it('per-model limits override the defaults, and models are paced separately', async () => {
    const { server, clock, ai } = await harness({
      rateLimit: { requestsPerMinute: 60, models: { 'fast-model': { requestsPerMinute: 6000 } }, learn: false },
    });
    const waits = recordWaits(ai);
    const fast = await Promise.all([0, 1, 2].map(() => ai.chat.completions.create({ ...chatParams, model: 'fast-model' })));
    expect(fast).toHaveLength(3);
    const slow = [0, 1].map(() => ai.chat.completions.create(chatParams));
    await sleepsPending(clock, [1000]);
    expect(waits).toEqual([{ model: MODEL, tenant: undefined, delay: 1000, reason: 'requests', trafficClass: 'default' }]);
    await clock.advance(1000);
    await Promise.all(slow);
    expect(server.requests).toHaveLength(5);
  });

  it('tokensPerMinute: the bucket holds the whole minute; a request beyond what is left waits for tokens, counting max_tokens', async () => {
    // 600 tokens per minute: 10 per second, holding 600. Counted by the estimate (exact-reservation.test.ts counts exactly).
    const { server, clock, ai } = await harness({ rateLimit: { tokensPerMinute: 600, learn: false }, tokens: { tokenizer: 'estimate' } });
    const waits = recordWaits(ai);
    // 'user' + 'Say ok' is 10 characters: 3 tokens, plus max_tokens. The first takes 503 of the 600 at once;
    // the second needs 103 of the 97 left: 6 beyond the bucket, 600 ms at 10 per second. (The first's
    // usage says it used all 503: its answer gives nothing back.)
    server.enqueue(faults.ok(chatCompletion({ id: 'chatcmpl-1', model: MODEL, promptTokens: 3, completionTokens: 500 })));
    const first = ai.chat.completions.create({ ...chatParams, max_tokens: 500 });
    const second = ai.chat.completions.create({ ...chatParams, max_tokens: 100 });
    await sleepsPending(clock, [600]);
    expect(waits).toEqual([{ model: MODEL, tenant: undefined, delay: 600, reason: 'tokens', trafficClass: 'default' }]);
    expect((await first).object).toBe('chat.completion');
    await settleReal();
    expect(server.requests).toHaveLength(1);
    await clock.advance(599);
    await settleReal();
    expect(server.requests).toHaveLength(1);
    await clock.advance(1);
    expect((await second).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(2);
  });

  it('tokensPerMinute: a request needing half a minute of tokens goes at once on an idle client, even under a short timeout.total', async () => {
    // 30 000 per minute (500 per second): OpenAI accepts a max_tokens of 16 384 at once, and so does the limiter.
    const { server, ai } = await harness({ rateLimit: { tokensPerMinute: 30_000, learn: false }, timeout: { total: 10_000 } });
    const waits = recordWaits(ai);
    const result = await ai.chat.completions.create({ ...chatParams, max_tokens: 16_384 });
    expect(result.object).toBe('chat.completion');
    expect(waits).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('tokensPerMinute: a small request fits in the bucket and goes at once', async () => {
    const { server, ai } = await harness({ rateLimit: { tokensPerMinute: 600, learn: false } });
    const waits = recordWaits(ai);
    server.enqueue(faults.ok(chatCompletion({ id: 'chatcmpl-1', model: MODEL, promptTokens: 2, completionTokens: 1 })));
    await ai.chat.completions.create(chatParams);
    expect(waits).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('corrects the estimate with the usage of the response', async () => {
    const { server, clock, ai } = await harness({ rateLimit: { tokensPerMinute: 600, learn: false }, tokens: { tokenizer: 'estimate' } });
    const waits = recordWaits(ai);
    // Estimated 3 tokens, but the response says 1 103 were used: 1 100 more than reserved.
    server.enqueue(faults.ok(chatCompletion({ id: 'chatcmpl-1', model: MODEL, promptTokens: 1_100, completionTokens: 3 })));
    await ai.chat.completions.create(chatParams);
    expect(waits).toEqual([]);
    const next = ai.chat.completions.create(chatParams);
    // Level 600 - 1 103 - 3 = -506 tokens at 10 per second.
    await sleepsPending(clock, [50_600]);
    expect(waits).toEqual([{ model: MODEL, tenant: undefined, delay: 50_600, reason: 'tokens', trafficClass: 'default' }]);
    await clock.advance(50_600);
    await next;
    expect(server.requests).toHaveLength(2);
  });

  it('a wait that cannot fit in timeout.total rejects at once with RateLimitTimeoutError, without a request', async () => {
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 60, learn: false }, timeout: { total: 1500 } });
    const waits = recordWaits(ai);
    const start = clock.now();
    const first = ai.chat.completions.create(chatParams);
    const second = ai.chat.completions.create(chatParams); // waits 1000 ms: fits in 1500
    const third = rejectionOf(ai.chat.completions.create(chatParams)); // would wait 2000 ms
    const error = await third;
    expect(clock.now()).toBe(start);
    expect(error).toBeInstanceOf(RateLimitTimeoutError);
    expect(isResilienceError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'RateLimitTimeoutError', kind: 'rate_limit_timeout', model: MODEL, wait: 2000 });
    expect(classify(error)).toMatchObject({ kind: 'rate_limit_timeout', action: 'fail' });
    expect(waits.map((event) => event.delay)).toContain(1000);

    await first;
    await sleepsPending(clock, [1000]);
    await clock.advance(1000);
    await second;
    expect(server.requests).toHaveLength(2);
    // The rejected call gave its reservation back: a call now waits one interval, not two (which
    // would not fit in its own deadline).
    const fourth = ai.chat.completions.create(chatParams);
    await sleepsPending(clock, [1000]);
    await clock.advance(1000);
    await fourth;
    expect(server.requests).toHaveLength(3);
  });

  it('rejects with RateLimitTimeoutError when more than maxQueued calls wait for one model', async () => {
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 60, maxQueued: 1, learn: false } });
    const first = ai.chat.completions.create(chatParams);
    const second = ai.chat.completions.create(chatParams);
    const error = await rejectionOf(ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(RateLimitTimeoutError);
    expect(error).toMatchObject({ kind: 'rate_limit_timeout', wait: undefined });
    await first;
    await sleepsPending(clock, [1000]);
    await clock.advance(1000);
    await second;
    expect(server.requests).toHaveLength(2);
  });

  it('an aborted wait rejects with APIUserAbortError and gives its reservation back', async () => {
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 60, learn: false } });
    const waits = recordWaits(ai);
    await ai.chat.completions.create(chatParams);
    const controller = new AbortController();
    const aborted = rejectionOf(ai.chat.completions.create(chatParams, { signal: controller.signal }));
    await sleepsPending(clock, [1000]);
    controller.abort();
    const error = await aborted;
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(isResilienceError(error)).toBe(false);

    const next = ai.chat.completions.create(chatParams);
    await until(() => waits.length === 2);
    // Without the refund it would wait 2000 ms.
    expect(waits.map((event) => event.delay)).toEqual([1000, 1000]);
    await clock.advance(1000);
    await next;
    expect(server.requests).toHaveLength(2);
    expect(clock.pending()).toEqual([]);
  });
});

describe('rate limiter: pause after a 429', () => {
  it('holds every call for the model until the reset the server gave, and then paces them', async () => {
    // 600 per minute: one request per 100 ms.
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 600 } });
    const waits = recordWaits(ai);
    server.enqueue(faults.rateLimited({ retryAfterMs: 5000, noRetryHeaders: true }));
    const first = ai.chat.completions.create(chatParams);
    await clock.until((timers) => timers.some((timer) => timer.delay === 5000)); // the retry wait
    const second = ai.chat.completions.create(chatParams);
    // The bucket is held empty during the pause: the second goes one refill interval after it ends.
    await sleepsPending(clock, [5100]);
    expect(waits).toEqual([{ model: MODEL, tenant: undefined, delay: 5100, reason: 'paused', trafficClass: 'default' }]);

    await settleReal();
    expect(server.requests).toHaveLength(1);
    await clock.advance(5099);
    await settleReal();
    expect(server.requests).toHaveLength(1);
    await clock.advance(1);
    expect((await second).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(2);
    // The first call's retry (due at the pause's end) came after the second had reserved: it goes next.
    await clock.advance(100);
    expect((await first).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(3);
  });

  it('releases the calls held by a pause at the model rate after it, not all at the instant it ends', async () => {
    // 600 per minute: one request per 100 ms, ten at once.
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 600, learn: false } });
    const waits = recordWaits(ai);
    server.enqueue(faults.rateLimited({ retryAfterMs: 5000, noRetryHeaders: true }));
    const first = ai.chat.completions.create(chatParams);
    await clock.until((timers) => timers.some((timer) => timer.delay === 5000)); // paused for 5 s

    const held = Array.from({ length: 40 }, () => ai.chat.completions.create(chatParams));
    await until(() => waits.length === 40);
    expect(waits.map((event) => event.delay)).toEqual(Array.from({ length: 40 }, (_, i) => 5000 + 100 * (i + 1)));
    expect(waits.every((event) => event.reason === 'paused')).toBe(true);

    await clock.advance(5000);
    await settleReal();
    expect(server.requests).toHaveLength(1);
    await clock.advance(1000);
    await until(() => server.requests.length === 11);
    await settleReal();
    expect(server.requests).toHaveLength(11);
    // The first call's retry, due at the pause's end, queued behind the 40: at 5 s + 41 × 100 ms.
    await clock.advance(3100);
    await Promise.all([first, ...held]);
    expect(server.requests).toHaveLength(42);
    expect(clock.pending()).toEqual([]);
  });

  it('other models are not paused', async () => {
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 600 } });
    server.enqueue(faults.rateLimited({ retryAfterMs: 5000, noRetryHeaders: true }));
    const first = ai.chat.completions.create(chatParams);
    await clock.until((timers) => timers.some((timer) => timer.delay === 5000));
    await ai.chat.completions.create({ ...chatParams, model: 'gpt-4o' });
    expect(server.requests).toHaveLength(2);
    await clock.advance(5100); // the pause, then one refill interval of the held bucket
    await first;
    expect(server.requests).toHaveLength(3);
  });
});

describe('rate limiter: limits learned from headers', () => {
  it('a response announcing few remaining requests makes the next rapid calls wait', async () => {
    const { server, clock, ai } = await harness({ rateLimit: {} });
    const waits = recordWaits(ai);
    const left = (remaining: number) => faults.ok(undefined, { 'x-ratelimit-limit-requests': '120', 'x-ratelimit-remaining-requests': String(remaining) });
    server.enqueue(left(1), left(0), left(0));
    await ai.chat.completions.create(chatParams);
    expect(waits).toEqual([]);

    // 120 per minute: one every 500 ms; one request left now.
    const calls = [0, 1].map(() => ai.chat.completions.create(chatParams));
    await sleepsPending(clock, [500]);
    expect(waits).toEqual([{ model: MODEL, tenant: undefined, delay: 500, reason: 'requests', trafficClass: 'default' }]);
    await until(() => server.requests.length === 2);
    await settleReal();
    expect(server.requests).toHaveLength(2);
    await clock.advance(500);
    await Promise.all(calls);
    expect(server.requests).toHaveLength(3);
  });

  it("a configured limit goes one second's worth at a time until the server's headers say more is left, then into that headroom", async () => {
    // 60 a minute configured; the server says 499 of 500 are left with every answer.
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 60 } });
    const waits = recordWaits(ai);
    const calls = Array.from({ length: 5 }, () => ai.chat.completions.create(chatParams));
    // Before any answer: one at once, the others a second apart.
    await sleepsPending(clock, [1000, 2000, 3000, 4000]);
    expect(waits.map((event) => event.delay)).toEqual([1000, 2000, 3000, 4000]);
    // The answers widen the burst: all five go without the clock moving, within what the server said.
    expect(await Promise.all(calls)).toHaveLength(5);
    expect(server.requests).toHaveLength(5);
    expect(ai.resilience.stats().models[MODEL]!.rateLimit).toMatchObject({ requestsPerMinute: 60, pacing: { requests: 'server' } });
    expect(clock.pending()).toEqual([]);
  });

  it('learning can be switched off', async () => {
    const { server, ai } = await harness({ rateLimit: { learn: false } });
    const waits = recordWaits(ai);
    server.enqueue(faults.ok(undefined, { 'x-ratelimit-limit-requests': '120', 'x-ratelimit-remaining-requests': '0' }));
    await ai.chat.completions.create(chatParams);
    await Promise.all([0, 1, 2].map(() => ai.chat.completions.create(chatParams)));
    expect(waits).toEqual([]);
    expect(server.requests).toHaveLength(4);
  });

  it('the first call to an unknown model is a probe: the others wait for its headers, without requests', async () => {
    const { server, clock, ai } = await harness({ rateLimit: {} });
    const waits = recordWaits(ai);
    server.enqueue(faults.delay(200));
    const calls = [0, 1, 2].map(() => ai.chat.completions.create(chatParams));
    await until(() => server.requests.length === 1);
    await clock.until((timers) => timers.filter((timer) => timer.delay === PROBE_WAIT).length === 2);
    await settleReal();
    expect(server.requests).toHaveLength(1);

    const results = await Promise.all(calls);
    expect(results).toHaveLength(3);
    expect(server.requests).toHaveLength(3);
    // The followers were sent only once the probe's (delayed) response had arrived.
    expect(server.requests[1]!.receivedAt - server.requests[0]!.receivedAt).toBeGreaterThanOrEqual(190);
    // The default headers leave plenty of capacity: nobody had to wait for it.
    expect(waits).toEqual([]);
    expect(clock.pending()).toEqual([]);
  });

  it('a stalled probe holds the others for at most PROBE_WAIT', async () => {
    const { server, clock, ai } = await harness({ rateLimit: {} });
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const probe = rejectionOf(ai.chat.completions.create(chatParams, { signal: controller.signal }));
    await until(() => server.requests.length === 1);
    const follower = ai.chat.completions.create(chatParams);
    await clock.until((timers) => timers.some((timer) => timer.delay === PROBE_WAIT));
    await clock.advance(PROBE_WAIT - 1);
    await settleReal();
    expect(server.requests).toHaveLength(1);
    await clock.advance(1);
    expect((await follower).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(2);
    controller.abort();
    expect(await probe).toBeInstanceOf(OpenAI.APIUserAbortError);
  });

  it('a headerless upstream is not paced: after the probe, concurrent calls all go at once', async () => {
    const upstream = await headerlessUpstream();
    try {
      const clock = new FakeClock(1_700_000_000_000);
      const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: upstream.url, maxRetries: 0 }), {
        clock,
        rateLimit: {},
        circuitBreaker: false,
        bulkhead: false,
        retry: { jitter: false, budget: false },
      });
      const waits: RateLimitWaitEvent[] = [];
      ai.resilience.on('rateLimitWait', (event) => waits.push(event));
      expect((await ai.chat.completions.create(chatParams)).object).toBe('chat.completion');

      upstream.hold = true;
      const calls = [0, 1, 2, 3].map(() => ai.chat.completions.create(chatParams));
      // All four reach the upstream at once, without the fake clock moving.
      await until(() => upstream.held.length === 4);
      expect(clock.pending().some((timer) => timer.delay === PROBE_WAIT)).toBe(false);
      upstream.release();
      const results = await Promise.all(calls);
      expect(results).toHaveLength(4);
      expect(upstream.received).toBe(5);
      expect(waits).toEqual([]);
    } finally {
      await upstream.close();
    }
  });
});

describe('rate limiter: tenants', () => {
  it('tenantShare paces one tenant at its share of the rate without slowing another', async () => {
    // 120 per minute for the model (burst 2); each tenant 60 per minute (burst 1).
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 120, tenantShare: 0.5, learn: false } });
    const waits = recordWaits(ai);
    const a = ai.resilience.forTenant('a');
    const b = ai.resilience.forTenant('b');

    await a.chat.completions.create(chatParams);
    const a2 = a.chat.completions.create(chatParams);
    await sleepsPending(clock, [1000]);
    // The model would allow it in 500 ms; the tenant's share in 1000 ms.
    expect(waits).toEqual([{ model: MODEL, tenant: 'a', delay: 1000, reason: 'tenant', trafficClass: 'default' }]);

    await clock.advance(500);
    await b.chat.completions.create(chatParams);
    expect(waits).toHaveLength(1);
    expect(server.requests).toHaveLength(2);

    await clock.advance(499);
    await settleReal();
    expect(server.requests).toHaveLength(2);
    await clock.advance(1);
    await a2;
    expect(server.requests).toHaveLength(3);
  });

  it("a tenant's backlog beyond its share does not hold back another tenant's call", async () => {
    // 60 per minute for the model (1 per second); each tenant may use half (1 per 2 s).
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 60, tenantShare: 0.5, learn: false } });
    const waits = recordWaits(ai);
    const a = ai.resilience.forTenant('a');
    const b = ai.resilience.forTenant('b');

    // Tenant a sends 10 at once: one goes, its share lets the others out one per 2 s (over 18 s).
    const burst = Array.from({ length: 10 }, () => a.chat.completions.create(chatParams));
    await until(() => waits.length === 9);
    expect(waits.map((event) => [event.tenant, event.reason, event.delay])).toEqual(
      Array.from({ length: 9 }, (_, i) => ['a', 'tenant', 2000 * (i + 1)]),
    );
    // Tenant b's single call waits only for the model's next second: a's backlog booked none of it.
    const bCall = b.chat.completions.create(chatParams);
    await until(() => waits.length === 10);
    expect(waits[9]).toEqual({ model: MODEL, tenant: 'b', delay: 1000, reason: 'requests', trafficClass: 'default' });
    await clock.advance(1000);
    await bCall;
    expect(server.requests).toHaveLength(2);

    await clock.advance(17_000);
    await Promise.all(burst);
    expect(server.requests).toHaveLength(11);
    expect(clock.pending()).toEqual([]);
  });

  it('a call waiting for its tenant share holds no model capacity, and an abort gives the share back', async () => {
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 60, tenantShare: 0.5, learn: false } });
    const waits = recordWaits(ai);
    const a = ai.resilience.forTenant('a');
    await a.chat.completions.create(chatParams);
    const controller = new AbortController();
    const waiting = rejectionOf(a.chat.completions.create(chatParams, { signal: controller.signal }));
    await sleepsPending(clock, [2000]);

    // At 1 s the model has refilled one request: a call of no tenant takes it at once.
    await clock.advance(1000);
    await ai.chat.completions.create(chatParams);
    controller.abort();
    expect(await waiting).toBeInstanceOf(OpenAI.APIUserAbortError);

    // At 2 s the tenant's share, given back, lets its next call go at once.
    await clock.advance(1000);
    await a.chat.completions.create(chatParams);
    expect(waits).toEqual([{ model: MODEL, tenant: 'a', delay: 2000, reason: 'tenant', trafficClass: 'default' }]);
    expect(server.requests).toHaveLength(3);
  });

  it('without tenantShare a tenant may use the whole rate', async () => {
    const { clock, ai } = await harness({ rateLimit: { requestsPerMinute: 120, learn: false } });
    const waits = recordWaits(ai);
    const a = ai.resilience.forTenant('a');
    await a.chat.completions.create(chatParams);
    await a.chat.completions.create(chatParams);
    const third = a.chat.completions.create(chatParams);
    await sleepsPending(clock, [500]);
    expect(waits).toEqual([{ model: MODEL, tenant: 'a', delay: 500, reason: 'requests', trafficClass: 'default' }]);
    await clock.advance(500);
    await third;
  });
});

describe('RateLimiter (unit)', () => {
  const settings = (overrides: Partial<RateLimitSettings> = {}): RateLimitSettings => ({
    defaults: { tokensPerMinute: 6_000 },
    models: {},
    learn: false,
    maxQueued: 10,
    tenantShare: 1,
    maxPause: 60_000,
    ...overrides,
  });

  it('settle gives back an over-estimate and charges an under-estimate', async () => {
    const clock = new FakeClock(0);
    const events = new EventBus();
    const waits: RateLimitWaitEvent[] = [];
    events.on('rateLimitWait', (event) => waits.push(event));
    // 100 tokens per second, holding 6 000.
    const limiter = new RateLimiter(settings(), clock, events);
    const call = abortableOf(new AbortController().signal);

    const first = await limiter.acquire('m', () => 6_000, undefined, call, undefined);
    expect(first).toMatchObject({ model: 'm', tokens: 6_000, probe: false });
    limiter.settle(first, 5_940); // 60 given back
    const second = await limiter.acquire('m', () => 60, undefined, call, undefined);
    expect(waits).toEqual([]);

    limiter.settle(second, 160); // 100 more than reserved
    limiter.settle(second, undefined); // no usage: nothing changes
    const third = limiter.acquire('m', () => 10, undefined, call, undefined);
    await clock.until((timers) => timers.length === 1);
    expect(waits).toEqual([{ model: 'm', tenant: undefined, delay: 1_100, reason: 'tokens', trafficClass: 'default' }]);
    await clock.advance(1_100);
    expect(await third).toMatchObject({ model: 'm', tokens: 10, probe: false });
  });

  it('does not estimate tokens when no token limit is known', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter(settings({ defaults: { requestsPerMinute: 60 } }), clock, new EventBus());
    let estimated = 0;
    const reservation = await limiter.acquire('m', () => ++estimated, undefined, abortableOf(new AbortController().signal), undefined);
    expect(reservation.tokens).toBe(0);
    expect(estimated).toBe(0);
  });

  it('cancel returns a reservation whose request was never sent', async () => {
    const clock = new FakeClock(0);
    const events = new EventBus();
    const waits: RateLimitWaitEvent[] = [];
    events.on('rateLimitWait', (event) => waits.push(event));
    const limiter = new RateLimiter(settings({ defaults: { requestsPerMinute: 60 } }), clock, events);
    const call = abortableOf(new AbortController().signal);
    const reservation = await limiter.acquire('m', () => 1, undefined, call, undefined);
    limiter.cancel(reservation);
    await limiter.acquire('m', () => 1, undefined, call, undefined);
    expect(waits).toEqual([]);
  });

  it('cancel also gives back the tenant share', async () => {
    const clock = new FakeClock(0);
    const events = new EventBus();
    const waits: RateLimitWaitEvent[] = [];
    events.on('rateLimitWait', (event) => waits.push(event));
    const limiter = new RateLimiter(settings({ defaults: { requestsPerMinute: 120 }, tenantShare: 0.5 }), clock, events);
    const call = abortableOf(new AbortController().signal);
    limiter.cancel(await limiter.acquire('m', () => 1, 'a', call, undefined));
    await limiter.acquire('m', () => 1, 'a', call, undefined);
    expect(waits).toEqual([]);
  });

  it('a probe that got no response does not stop the next call from probing', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter(settings({ defaults: {}, learn: true }), clock, new EventBus());
    const call = abortableOf(new AbortController().signal);
    const first = await limiter.acquire('m', () => 1, undefined, call, undefined);
    expect(first.probe).toBe(true);
    limiter.finish(first, false);
    expect((await limiter.acquire('m', () => 1, undefined, call, undefined)).probe).toBe(true);
  });

  it('announces no wait that it refuses at once', async () => {
    const clock = new FakeClock(0);
    const events = new EventBus();
    const waits: RateLimitWaitEvent[] = [];
    events.on('rateLimitWait', (event) => waits.push(event));
    const limiter = new RateLimiter(settings({ defaults: { requestsPerMinute: 30 } }), clock, events);
    const call = abortableOf(new AbortController().signal);
    await limiter.acquire('m', () => 1, undefined, call, undefined);
    await expect(limiter.acquire('m', () => 1, undefined, call, 1_500)).rejects.toBeInstanceOf(RateLimitTimeoutError);
    expect(waits).toEqual([]);
    // The refused reservation was given back: at t = 2 s the next call goes without waiting.
    await clock.advance(2_000);
    await limiter.acquire('m', () => 1, undefined, call, undefined);
    expect(waits).toEqual([]);
  });

  it('a pause moves callers already waiting back by the time it holds the buckets, keeping their spacing', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter(settings({ defaults: { requestsPerMinute: 600 } }), clock, new EventBus());
    const call = abortableOf(new AbortController().signal);
    for (let i = 0; i < 10; i++) await limiter.acquire('m', () => 1, undefined, call, undefined); // the bucket's ten
    const admittedAt: number[] = [];
    const waiting = Array.from({ length: 5 }, () => limiter.acquire('m', () => 1, undefined, call, undefined).then(() => admittedAt.push(clock.now())));
    await clock.until((timers) => timers.length === 5); // due at 100, 200, ... 500 ms
    await clock.advance(50);
    limiter.pause('m', 1_000); // a 429 at 50 ms: no refill until 1 050 ms
    await clock.advance(2_000);
    await Promise.all(waiting);
    expect(admittedAt).toEqual([1_100, 1_200, 1_300, 1_400, 1_500]);
  });

  it('learns limits from headers and reports them', () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter(settings({ defaults: {}, learn: true }), clock, new EventBus());
    expect(limiter.limits('m')).toEqual({});
    limiter.learn('m', new Headers({ 'x-ratelimit-limit-requests': '500', 'x-ratelimit-limit-tokens': '30000' }));
    expect(limiter.limits('m')).toEqual({ requestsPerMinute: 500, tokensPerMinute: 30_000, pacing: { requests: 'configured', tokens: 'configured' } });
    limiter.learn('m', { 'x-ratelimit-limit-requests': '1000' });
    expect(limiter.limits('m')).toMatchObject({ requestsPerMinute: 1_000 });
    limiter.pause('m', 2_000);
    expect(limiter.limits('m')).toMatchObject({ pausedUntil: 2_000 });
  });
});

interface HeaderlessUpstream {
  url: string;
  /** Hold responses instead of answering at once. */
  hold: boolean;
  held: Array<() => void>;
  received: number;
  release(): void;
  close(): Promise<void>;
}

/**
 * An OpenAI-compatible upstream that sends no `x-ratelimit-*` headers (as many compatible providers
 * do). The fault server adds its default rate-limit headers to every success, so it cannot play this.
 */
async function headerlessUpstream(): Promise<HeaderlessUpstream> {
  const upstream: HeaderlessUpstream = {
    url: '',
    hold: false,
    held: [],
    received: 0,
    release() {
      for (const answer of upstream.held.splice(0)) answer();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      upstream.received++;
      const answer = () => {
        const body = JSON.stringify(chatCompletion({ id: `chatcmpl-${upstream.received}`, model: MODEL }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
      };
      if (upstream.hold) upstream.held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return upstream;
}
