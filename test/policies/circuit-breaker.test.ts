import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import {
  CircuitOpenError,
  isResilienceError,
  resilient,
  type CircuitOpenEvent,
  type GiveUpEvent,
  type RetryEvent,
} from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { chatParams, drive, harness, rejectionOf, until } from '../support/harness.js';

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

  it('after halfOpenAfter one probe goes through; its success closes the circuit', async () => {
    const { server, clock, ai } = await tripped();
    const transitions: string[] = [];
    ai.resilience.on('circuitHalfOpen', () => transitions.push('half-open'));
    ai.resilience.on('circuitClose', () => transitions.push('closed'));
    await clock.advance(10_000);
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('half_open');
    server.enqueue(faults.delay(20));
    const probe = call(ai);
    const refused = await rejectionOf(call(ai));
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect((await probe).object).toBe('chat.completion');
    expect(transitions).toEqual(['half-open', 'closed']);
    await call(ai);
    expect(server.requests).toHaveLength(5);
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

  it('a failed probe reopens it for twice as long', async () => {
    const { server, clock, ai, opened } = await tripped();
    await clock.advance(10_000);
    server.enqueue(faults.serverError(502));
    await rejectionOf(call(ai));
    expect(opened.map((event) => [event.reason, event.retryAfter])).toEqual([
      ['consecutive_failures', 10_000],
      ['probe_failed', 20_000],
    ]);
    expect((await rejectionOf(call(ai))).retryAfter).toBe(20_000);
    expect(server.requests).toHaveLength(4);
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
    /** The defaults: 5 failed attempts in a row open the circuit for 10 s. */
    async function defaultBreaker(options: Record<string, unknown> = {}) {
      const h = await harness({ circuitBreaker: {}, retry: { maxRetries: 5 }, ...options });
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

    it('only as many retries wait for the circuit as it has probes; another due meanwhile ends at once with its upstream error', async () => {
      const { server, clock, ai, giveUps, retries } = await defaultBreaker({ circuitBreaker: { consecutiveFailures: 2 }, retry: { maxRetries: 2 } });
      server.enqueue(faults.serverError(500), faults.serverError(502));
      const calls = Promise.allSettled([call(ai), call(ai)]);
      // Both first attempts fail before any time passes.
      await until(() => retries.length === 2);
      expect(retries.map((event) => [event.delay, event.delaySource])).toEqual([[500, 'backoff'], [10_000, 'circuit']]);
      const results = await drive(clock, calls);
      // The second failure opened the circuit: that call's retry waits for the probe (and succeeds); the
      // other call's retry, due 500 ms later while the circuit is open, is refused.
      expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
      const rejected = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(OpenAI.InternalServerError);
      expect(giveUps).toEqual([expect.objectContaining({ reason: 'circuit_open', attempt: 2 })]);
      expect(server.requests).toHaveLength(3);
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
      const completion = await drive(clock, first);
      expect(completion.object).toBe('chat.completion');
      expect(server.requests).toHaveLength(3);
      expect(retries.map((event) => [event.attempt, event.delaySource])).toEqual([[1, 'backoff'], [1, 'circuit']]);
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
