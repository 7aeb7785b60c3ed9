import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../../src/testing/index.js';
import {
  CircuitOpenError,
  isResilienceError,
  resilient,
  type CircuitOpenEvent,
  type GiveUpEvent,
  type RetryEvent,
} from '../../../src/index.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { chatParams, drive, harness, rejectionOf, until } from '../../support/harness.js';

const breaker = { consecutiveFailures: 3, halfOpenAfter: 10_000, failureRatio: 0.5, minimumCalls: 10, window: 60_000 };
const noRetry = { maxRetries: 0 };
const call = (ai: OpenAI, model = 'gpt-4.1-mini') => ai.chat.completions.create({ ...chatParams, model });

async function tripped(options: Record<string, unknown> = {}) {
  const h = await harness({ circuitBreaker: { ...breaker, ...options }, retry: noRetry });
  const opened: CircuitOpenEvent[] = [];
  h.ai.resilience.on('circuitOpen', (event) => opened.push(event));
  h.server.enqueue(faults.serverError(500), faults.overloaded(), faults.reset());
  for (let i = 0; i < 3; i++) await rejectionOf(call(h.ai));
  return { ...h, opened };
}

describe('circuit breaker', () => {
  it('opens on consecutive upstream failures, then fails fast without a request', async () => {
    const { server, clock, ai, opened } = await tripped();
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ key: 'gpt-4.1-mini', reason: 'consecutive_failures', retryAfter: 10_000 });
    expect(ai.resilience.circuits()).toEqual({ 'gpt-4.1-mini': 'open' });

    const error = await rejectionOf(call(ai));
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(isResilienceError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'CircuitOpenError', kind: 'circuit_open', key: 'gpt-4.1-mini', retryAfter: 10_000 });
    expect(error.retryAt).toBe(clock.now() + 10_000);
    expect(error.cause).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(server.requests).toHaveLength(3);
  });

  it('keeps models apart: a failing model never blocks another', async () => {
    const { server, ai } = await tripped();
    await rejectionOf(call(ai));
    const other = await call(ai, 'gpt-4.1');
    expect(other.model).toBe('gpt-4.1');
    expect(server.requests).toHaveLength(4);
    expect(ai.resilience.circuits()).toEqual({ 'gpt-4.1-mini': 'open', 'gpt-4.1': 'closed' });
  });

  it('after halfOpenAfter one probe goes through; a call made meanwhile waits for it, and its success closes the circuit', async () => {
    const { server, clock, ai } = await tripped();
    const transitions: string[] = [];
    ai.resilience.on('circuitHalfOpen', () => transitions.push('half-open'));
    ai.resilience.on('circuitClose', () => transitions.push('closed'));
    await clock.advance(10_000);
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('half_open');
    server.enqueue(faults.delay(20));
    const probe = call(ai);
    await server.waitForRequests(4);
    // The second call is not sent while the probe runs: it waits for its verdict, then goes.
    const waiting = call(ai);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(server.requests).toHaveLength(4);
    expect((await probe).object).toBe('chat.completion');
    expect((await waiting).object).toBe('chat.completion');
    expect(transitions).toEqual(['half-open', 'closed']);
    expect(server.requests).toHaveLength(5);
  });

  it('with waitForProbe: 0, a call made while the probe runs fails at once', async () => {
    const { server, clock, ai } = await tripped({ waitForProbe: 0 });
    await clock.advance(10_000);
    server.enqueue(faults.delay(20));
    const probe = call(ai);
    const refused = await rejectionOf(call(ai));
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(refused.retryAfter).toBe(0);
    expect((await probe).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(4);
  });

  it('a probe that is a stream closes the circuit at its first chunk, read or not', async () => {
    const { server, clock, ai } = await tripped();
    await clock.advance(10_000);
    server.enqueue(faults.stream({ chunks: 3 }));
    // The caller keeps the stream and never reads it (an early return, an exception before the loop).
    const unread = await drive(clock, ai.chat.completions.create({ ...chatParams, stream: true }));
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('closed');
    expect((await call(ai)).object).toBe('chat.completion');
    unread.controller.abort();
  });

  it('a failed probe reopens it for as long again, or twice as long up to maxHalfOpenAfter', async () => {
    const constant = await tripped();
    await constant.clock.advance(10_000);
    constant.server.enqueue(faults.serverError(502));
    await rejectionOf(call(constant.ai));
    expect(constant.opened.map((event) => [event.reason, event.retryAfter])).toEqual([
      ['consecutive_failures', 10_000],
      ['probe_failed', 10_000],
    ]);

    const growing = await tripped({ maxHalfOpenAfter: 30_000 });
    for (const pause of [10_000, 20_000]) {
      await growing.clock.advance(pause);
      growing.server.enqueue(faults.serverError(502));
      await rejectionOf(call(growing.ai));
    }
    expect(growing.opened.map((event) => event.retryAfter)).toEqual([10_000, 20_000, 30_000]);
    expect((await rejectionOf(call(growing.ai))).retryAfter).toBe(30_000);
    expect(growing.server.requests).toHaveLength(5);
  });

  it('4xx, rate limits, quota errors and aborts neither open it nor close it', async () => {
    const { server, ai } = await harness({ circuitBreaker: breaker, retry: noRetry });
    server.enqueue(faults.badRequest(), faults.rateLimited({ retryAfterMs: 1 }), faults.insufficientQuota(), faults.notFound(), faults.unauthorized());
    for (let i = 0; i < 5; i++) await rejectionOf(call(ai));
    await rejectionOf(ai.chat.completions.create(chatParams, { signal: AbortSignal.abort() }));
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('closed');
    // Nor do they count towards the consecutive failures: two real ones still leave it closed.
    server.enqueue(faults.serverError(500), faults.serverError(500));
    for (let i = 0; i < 2; i++) await rejectionOf(call(ai));
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('closed');
  });

  it('an uncounted probe outcome leaves it half-open for the next probe', async () => {
    const { server, clock, ai } = await tripped();
    await clock.advance(10_000);
    server.enqueue(faults.badRequest());
    expect(await rejectionOf(call(ai))).toBeInstanceOf(OpenAI.BadRequestError);
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('half_open');
    expect((await call(ai)).object).toBe('chat.completion');
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('closed');
  });

  it('opens on the failure ratio over the window once minimumCalls is reached', async () => {
    const { server, ai } = await harness({ circuitBreaker: { ...breaker, consecutiveFailures: 100 }, retry: noRetry });
    const opened: CircuitOpenEvent[] = [];
    ai.resilience.on('circuitOpen', (event) => opened.push(event));
    for (let i = 0; i < 10; i++) server.enqueue(i % 2 === 1 ? faults.serverError(500) : faults.ok());
    for (let i = 0; i < 9; i++) await call(ai).catch(() => undefined);
    expect(opened).toHaveLength(0);
    await call(ai).catch(() => undefined);
    expect(opened).toEqual([expect.objectContaining({ reason: 'failure_ratio' })]);
    expect(server.requests).toHaveLength(10);
  });

  describe("a call's own retries", () => {
    /** 5 failed attempts in a row open the circuit for 10 s, doubling up to 120 s. */
    async function defaultBreaker(options: { circuitBreaker?: object; retry?: object; timeout?: object } = {}) {
      const circuitBreaker = { halfOpenAfter: 10_000, maxHalfOpenAfter: 120_000, ...options.circuitBreaker };
      const h = await harness({ retry: { maxRetries: 5 }, ...options, circuitBreaker });
      const retries: RetryEvent[] = [];
      const giveUps: GiveUpEvent[] = [];
      const opened: CircuitOpenEvent[] = [];
      h.ai.resilience.on('retry', (event) => retries.push(event));
      h.ai.resilience.on('giveUp', (event) => giveUps.push(event));
      h.ai.resilience.on('circuitOpen', (event) => opened.push(event));
      return { ...h, retries, giveUps, opened };
    }

    it('count towards its circuit, but maxRetries: 5 still makes 5 retries: the one due while open waits for the probe and goes as it', async () => {
      const { server, clock, ai, retries, opened } = await defaultBreaker();
      server.enqueue(...Array.from({ length: 5 }, () => faults.serverError(500)));
      const completion = await drive(clock, call(ai));
      expect(completion.object).toBe('chat.completion');
      expect(server.requests).toHaveLength(6);
      expect(opened).toEqual([expect.objectContaining({ reason: 'consecutive_failures', retryAfter: 10_000 })]);
      // The fifth retry's backoff (8 s) ends before the circuit's pause: it waits the pause out instead.
      expect(retries.map((event) => [event.delay, event.delaySource])).toEqual([
        [500, 'backoff'], [1_000, 'backoff'], [2_000, 'backoff'], [4_000, 'backoff'], [10_000, 'circuit'],
      ]);
      expect(ai.resilience.circuits()).toEqual({ 'gpt-4.1-mini': 'closed' });
    });

    it('against a model that stays down, a call makes all its attempts and fails with the upstream error', async () => {
      const { server, clock, ai, giveUps, opened } = await defaultBreaker({ retry: { maxRetries: 7 } });
      server.enqueue(...Array.from({ length: 8 }, () => faults.serverError(500)));
      expect(await rejectionOf(drive(clock, call(ai)))).toBeInstanceOf(OpenAI.InternalServerError);
      expect(server.requests).toHaveLength(8);
      // Each retry due while the circuit is open is its probe; each failed probe reopens it for twice as long.
      expect(opened.map((event) => [event.reason, event.retryAfter])).toEqual([
        ['consecutive_failures', 10_000], ['probe_failed', 20_000], ['probe_failed', 40_000], ['probe_failed', 80_000],
      ]);
      expect(giveUps).toEqual([expect.objectContaining({ reason: 'retries_exhausted', attempt: 8 })]);
    });

    it('retries due while it is open all wait: the first to go is the probe, the others go once it succeeds', async () => {
      const { server, clock, ai, giveUps, retries } = await defaultBreaker({ circuitBreaker: { consecutiveFailures: 2 }, retry: { maxRetries: 2 } });
      server.enqueue(faults.serverError(500), faults.serverError(502));
      const calls = Promise.allSettled([call(ai), call(ai)]);
      // Both first attempts fail before any time passes; the second failure opens the circuit.
      await until(() => retries.length === 2);
      expect(retries.map((event) => [event.delay, event.delaySource])).toEqual([[500, 'backoff'], [10_000, 'circuit']]);
      // The retry due after 500 ms finds the circuit open: it waits for the probe due at 10 s.
      await clock.advance(500);
      await clock.until((timers) => timers.some((timer) => timer.at === clock.now() + 9_500 && timer.delay === 9_500));
      server.enqueue(faults.delay(20));
      await clock.advance(9_500);
      const results = await calls;
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(giveUps).toEqual([]);
      // One probe, then the waiting retry: no request while the circuit was open, none in a crowd.
      expect(server.requests).toHaveLength(4);
      expect(ai.resilience.stats().total.retries).toBe(2);
    });

    it('a failed probe keeps the other waiting retry waiting for the next probe, which it then is', async () => {
      const { server, clock, ai, opened } = await defaultBreaker({ circuitBreaker: { consecutiveFailures: 2 }, retry: { maxRetries: 1 } });
      server.enqueue(faults.serverError(500), faults.serverError(502));
      const calls = Promise.allSettled([call(ai), call(ai)]);
      await until(() => opened.length === 1);
      await clock.advance(500);
      await clock.until((timers) => timers.filter((timer) => timer.at === clock.now() + 9_500).length === 2);
      // At 10 s one retry probes and fails (the circuit reopens for 20 s); the other keeps waiting.
      server.enqueue(faults.serverError(503));
      await clock.advance(9_500);
      await until(() => opened.length === 2);
      expect(opened[1]).toMatchObject({ reason: 'probe_failed', retryAfter: 20_000 });
      expect(server.requests).toHaveLength(3);
      await clock.until((timers) => timers.some((timer) => timer.at === clock.now() + 20_000));
      await clock.advance(20_000);
      const results = await calls;
      expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(server.requests).toHaveLength(4);
    });

    it('a retry whose circuit other calls opened while it waited waits for the probe too', async () => {
      const { server, clock, ai, retries } = await defaultBreaker({ circuitBreaker: { consecutiveFailures: 2 }, retry: { maxRetries: 2 } });
      server.enqueue(faults.serverError(500));
      const first = call(ai);
      await until(() => retries.length === 1);
      // Another call, which does not retry, fails too: the circuit opens while the first call waits.
      server.enqueue(faults.serverError(500));
      await rejectionOf(ai.chat.completions.create(chatParams, { maxRetries: 0 }));
      expect(ai.resilience.circuits()).toEqual({ 'gpt-4.1-mini': 'open' });
      await clock.advance(500);
      await clock.until((timers) => timers.some((timer) => timer.delay === 9_500));
      expect(server.requests).toHaveLength(2);
      await clock.advance(9_500);
      const completion = await first;
      expect(completion.object).toBe('chat.completion');
      expect(server.requests).toHaveLength(3);
      expect(retries.map((event) => [event.attempt, event.delaySource])).toEqual([[1, 'backoff']]);
      expect(ai.resilience.stats().total.retries).toBe(1);
    });

    it('a retry does not wait for the circuit longer than retry.maxRetryAfter, nor past timeout.total', async () => {
      const long = await defaultBreaker({ circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 90_000 } });
      long.server.enqueue(faults.serverError(500));
      expect(await rejectionOf(drive(long.clock, call(long.ai)))).toBeInstanceOf(OpenAI.InternalServerError);
      expect(long.server.requests).toHaveLength(1);
      expect(long.giveUps).toEqual([expect.objectContaining({ reason: 'circuit_open', attempt: 1 })]);

      const short = await defaultBreaker({ circuitBreaker: { consecutiveFailures: 1 }, timeout: { total: 5_000 } });
      short.server.enqueue(faults.serverError(500));
      expect(await rejectionOf(drive(short.clock, call(short.ai)))).toBeInstanceOf(OpenAI.InternalServerError);
      expect(short.server.requests).toHaveLength(1);
      expect(short.giveUps).toEqual([expect.objectContaining({ reason: 'circuit_open' })]);
    });
  });

  it('exports its state and restores it in another client (a cold start keeps failing fast)', async () => {
    const { server, ai } = await tripped();
    const state = JSON.parse(JSON.stringify(ai.resilience.exportState()));
    const clock = new FakeClock(1_700_000_000_000);
    const restarted = resilient(new OpenAI({ apiKey: 'sk-test', baseURL: server.url }), { clock, circuitBreaker: breaker });
    restarted.resilience.restoreState(state);
    expect(await rejectionOf(call(restarted))).toBeInstanceOf(CircuitOpenError);
    expect(server.requests).toHaveLength(3);
    expect(() => restarted.resilience.restoreState({} as never)).toThrow(TypeError);
  });

  it('groups by a custom key', async () => {
    const { server, ai } = await harness({ circuitBreaker: { ...breaker, key: ({ baseURL }) => baseURL }, retry: noRetry });
    server.enqueue(faults.serverError(500), faults.serverError(500), faults.serverError(500));
    for (const model of ['a', 'b', 'c']) await rejectionOf(call(ai, model));
    expect(await rejectionOf(call(ai, 'd'))).toMatchObject({ key: server.url });
  });

  it('is on by default and can be switched off', async () => {
    const defaults = resilient(new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' }));
    expect(defaults.resilience.circuits()).toEqual({});
    const { server, ai } = await harness({ circuitBreaker: false, retry: noRetry });
    server.enqueue(...Array.from({ length: 8 }, () => faults.serverError(500)));
    for (let i = 0; i < 8; i++) await rejectionOf(call(ai));
    expect(server.requests).toHaveLength(8);
    expect(ai.resilience.circuits()).toEqual({});
  });
});
