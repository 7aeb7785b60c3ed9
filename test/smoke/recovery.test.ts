import { getEventListeners } from 'node:events';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults, type Fault } from '../../src/testing/index.js';
import { resilient, DeadlineExceededError, isResilienceError, ResilienceError, type GiveUpEvent, type RetryEvent } from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { chatParams, drive, harness, rejectionOf, until } from '../support/harness.js';

// Smoke suite: run against openai 5, 6 and 7 by .ci/sdk-matrix.sh (and on the devDependency by `npm test`).

async function retriesOf(fault: Fault) {
  const { server, clock, ai } = await harness();
  server.enqueue(fault);
  const retries: RetryEvent[] = [];
  ai.resilience.on('retry', (event) => retries.push(event));
  const completion = await drive(clock, ai.chat.completions.create(chatParams));
  expect(completion.object).toBe('chat.completion');
  expect(server.requests).toHaveLength(2);
  return retries;
}

describe('smoke: retried failures', () => {
  it('500 is retried with backoff', async () => {
    expect(await retriesOf(faults.serverError(500))).toEqual([expect.objectContaining({ kind: 'server_error', status: 500, delay: 500 })]);
  });

  it('each attempt says which retry it is in x-stainless-retry-count, from 0', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500), faults.serverError(502));
    await drive(clock, ai.chat.completions.create(chatParams));
    expect(server.requests.map((request) => request.headers['x-stainless-retry-count'])).toEqual(['0', '1', '2']);
  });

  it('503 is retried with 4× the backoff', async () => {
    expect(await retriesOf(faults.overloaded())).toEqual([expect.objectContaining({ kind: 'overloaded', status: 503, delay: 2000 })]);
  });

  it('429 waits exactly retry-after-ms', async () => {
    expect(await retriesOf(faults.rateLimited({ retryAfterMs: 1234 }))).toEqual([
      expect.objectContaining({ kind: 'rate_limited', status: 429, delay: 1234, delaySource: 'retry-after-ms' }),
    ]);
  });

  it('429 waits retry-after seconds', async () => {
    expect(await retriesOf(faults.rateLimited({ retryAfterSeconds: 7 }))).toEqual([
      expect.objectContaining({ delay: 7000, delaySource: 'retry-after' }),
    ]);
  });

  it('a connection reset is retried', async () => {
    expect(await retriesOf(faults.reset())).toEqual([expect.objectContaining({ kind: 'connection' })]);
  });

  it('x-should-retry: true makes a 400 retryable', async () => {
    expect(await retriesOf(faults.badRequest({ headers: { 'x-should-retry': 'true' } }))).toEqual([expect.objectContaining({ status: 400 })]);
  });

  it('x-should-retry: false makes a 500 fail at once', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500, { shouldRetry: false }));
    expect(await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)))).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server.requests).toHaveLength(1);
  });

  it('when retries give up, the caller gets the SDK error with status, headers and request id', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(502), faults.serverError(502), faults.serverError(502));
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(isResilienceError(error)).toBe(false);
    expect(error.status).toBe(502);
    expect(error.headers.get('x-request-id')).toBe(server.requests[2]!.requestId);
    expect(error.requestID).toBe(server.requests[2]!.requestId);
    expect(server.requests).toHaveLength(3);
  });
});

describe('smoke: failures that fail at once, as the SDK error', () => {
  it.each<[string, () => Fault, abstract new (...args: any[]) => Error, string]>([
    ['400', () => faults.badRequest(), OpenAI.BadRequestError, 'bad_request'],
    ['400 context_length_exceeded', () => faults.contextLengthExceeded(), OpenAI.BadRequestError, 'context_length_exceeded'],
    ['401', () => faults.unauthorized(), OpenAI.AuthenticationError, 'authentication'],
    ['403', () => faults.forbidden(), OpenAI.PermissionDeniedError, 'permission_denied'],
    ['404', () => faults.notFound(), OpenAI.NotFoundError, 'not_found'],
    ['422', () => faults.unprocessable(), OpenAI.UnprocessableEntityError, 'unprocessable'],
    ['429 insufficient_quota', () => faults.insufficientQuota(), OpenAI.RateLimitError, 'quota_exhausted'],
  ])('%s', async (_name, fault, errorClass, kind) => {
    const { server, clock, ai } = await harness();
    server.enqueue(fault(), fault(), fault());
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('giveUp', (event) => giveUps.push(event));
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(errorClass);
    expect(error.constructor).toBe(errorClass);
    expect(server.requests).toHaveLength(1);
    expect(giveUps).toEqual([expect.objectContaining({ kind, reason: 'not_retryable', error })]);
  });
});

describe('smoke: credentials', () => {
  it('a 401 is retried once with the key refreshCredentials returns', async () => {
    let calls = 0;
    const { server, ai } = await harness({ refreshCredentials: async () => (calls++, 'sk-fresh') });
    server.enqueue(faults.unauthorized());
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    expect((await ai.chat.completions.create(chatParams)).object).toBe('chat.completion');
    expect(server.requests.map((request) => request.headers['authorization'])).toEqual(['Bearer sk-test-key', 'Bearer sk-fresh']);
    expect(calls).toBe(1);
    expect(retries).toEqual([expect.objectContaining({ kind: 'authentication', delay: 0, delaySource: 'credentials' })]);
    await ai.chat.completions.create(chatParams);
    expect(server.requests[2]!.headers['authorization']).toBe('Bearer sk-fresh');
  });

  it("the client's own apiKey function is used, and asked again after a 401", async () => {
    const { server } = await harness();
    let issued = 0;
    const ai = resilient(new OpenAI({ baseURL: server.url, apiKey: async () => `sk-rotated-${++issued}` }), {
      clock: new FakeClock(0),
      circuitBreaker: false,
      rateLimit: false,
    });
    server.enqueue(faults.unauthorized());
    await ai.chat.completions.create(chatParams);
    expect(server.requests.map((request) => request.headers['authorization'])).toEqual(['Bearer sk-rotated-1', 'Bearer sk-rotated-2']);
  });
});

describe('smoke: timeouts', () => {
  it('timeout.attempt aborts a stalled attempt and retries it', async () => {
    const { server, clock, ai } = await harness({ timeout: { attempt: 10_000 } });
    server.enqueue(faults.stall());
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    const call = ai.chat.completions.create(chatParams);
    await until(() => server.requests.length === 1);
    await clock.advance(10_000);
    expect((await drive(clock, call)).object).toBe('chat.completion');
    expect(retries.map((event) => event.kind)).toEqual(['timeout']);
    await until(() => server.openRequests === 0);
  });

  it('every attempt timing out gives the SDK timeout error', async () => {
    const { server, clock, ai } = await harness({ retry: { maxRetries: 0 }, timeout: { attempt: 2000 } });
    server.enqueue(faults.stall());
    const outcome = rejectionOf(ai.chat.completions.create(chatParams));
    await until(() => server.requests.length === 1);
    await clock.advance(2000);
    const error = await outcome;
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(error.message).toContain('2000 ms');
    await until(() => server.openRequests === 0);
  });

  it('a stalled body after the headers is covered by the attempt timeout', async () => {
    const { server, clock, ai } = await harness({ timeout: { attempt: 3000 } });
    server.enqueue(faults.stallBody());
    const call = ai.chat.completions.create(chatParams);
    await until(() => server.requests.length === 1);
    await clock.advance(3000);
    await drive(clock, call, 1000);
    expect(server.requests).toHaveLength(2);
  });

  it('timeout.total rejects with DeadlineExceededError (an OpenAIError) and aborts the request in flight', async () => {
    const { server, clock, ai } = await harness({ timeout: { total: 30_000 } });
    server.enqueue(faults.serverError(500), faults.stall());
    const outcome = rejectionOf(ai.chat.completions.create(chatParams));
    await drive(clock, Promise.race([outcome, until(() => server.requests.length === 2)]), 1000);
    await clock.advance(30_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toBeInstanceOf(ResilienceError);
    expect(error).toBeInstanceOf(OpenAI.OpenAIError);
    expect(error).toMatchObject({ name: 'DeadlineExceededError', kind: 'deadline_exceeded', timeout: 30_000, attempts: 2 });
    expect(error.cause).toBeInstanceOf(OpenAI.InternalServerError);
    await until(() => server.openRequests === 0);
    expect(clock.pending()).toEqual([]);
  });
});

describe('smoke: caller abort', () => {
  it('a signal already aborted sends nothing and rejects with APIUserAbortError', async () => {
    const { server, ai } = await harness();
    expect(await rejectionOf(ai.chat.completions.create(chatParams, { signal: AbortSignal.abort() }))).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(server.requests).toHaveLength(0);
  });

  it('an abort during a retry wait ends it at once', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.overloaded());
    const controller = new AbortController();
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('giveUp', (event) => giveUps.push(event));
    const call = ai.chat.completions.create(chatParams, { signal: controller.signal });
    await clock.until((timers) => timers.some((timer) => timer.delay === 2000));
    controller.abort();
    const error = await rejectionOf(call);
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(isResilienceError(error)).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect(clock.pending()).toEqual([]);
    expect(giveUps[0]).toMatchObject({ kind: 'aborted', reason: 'aborted' });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('an abort in flight aborts the request, reported as an abort, not a timeout', async () => {
    const { server, ai } = await harness({ timeout: { attempt: 1000 } });
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const call = ai.chat.completions.create(chatParams, { signal: controller.signal });
    await until(() => server.openRequests === 1);
    controller.abort();
    expect(await rejectionOf(call)).toBeInstanceOf(OpenAI.APIUserAbortError);
    await until(() => server.openRequests === 0);
    expect(server.requests).toHaveLength(1);
  });
});
