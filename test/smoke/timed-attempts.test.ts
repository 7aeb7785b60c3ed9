import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { DeadlineExceededError, systemClock, type AttemptEndEvent, type ResilienceOptions, type TimeoutEvent } from '../../src/index.js';
import { chatParams, harness, rejectionOf, until } from '../support/harness.js';

// Smoke suite: run against openai 5, 6 and 7 by .ci/sdk-matrix.sh (and on the devDependency by `npm test`).
// A call that only time can abort is sent without a signal (src/pipeline/attempt-abort.ts): the SDK's own
// `timeout` bounds it until the headers, the SDK's request controller after. That path runs on the system
// clock only, so these tests use short real limits (tens of milliseconds) instead of the fake clock.

async function onSystemClock(options: ResilienceOptions) {
  const { server, ai, raw } = await harness({ ...options, clock: systemClock, retry: { initialDelay: 1, ...(options.retry || {}) } });
  const timeouts: TimeoutEvent[] = [];
  ai.resilience.on('timeout', (event) => timeouts.push(event));
  return { server, ai, raw, timeouts };
}

describe('smoke: a call only time can abort', () => {
  it('tells the server the same timeout as a bare call does (x-stainless-timeout)', async () => {
    const { server, ai, raw } = await onSystemClock({});
    server.enqueue(faults.ok(), faults.ok(), faults.ok(), faults.ok());
    await raw.chat.completions.create(chatParams);
    await ai.chat.completions.create(chatParams);
    await raw.chat.completions.create(chatParams, { timeout: 5_000 });
    await ai.chat.completions.create(chatParams, { timeout: 5_000 });
    const sent = server.requests.map((request) => request.headers['x-stainless-timeout']);
    expect(sent[1]).toBe(sent[0]);
    expect(sent.slice(2)).toEqual(['5', '5']);
  });

  it('times out an attempt whose headers do not come, and retries it', async () => {
    const { server, ai, timeouts } = await onSystemClock({ timeout: { attempt: 250 } });
    server.enqueue(faults.stall());
    const completion = await ai.chat.completions.create(chatParams);
    expect(completion.object).toBe('chat.completion');
    expect(server.requests).toHaveLength(2);
    expect(timeouts).toMatchObject([{ timeout: 'attempt', limit: 250 }]);
    await until(() => server.openRequests === 0);
  });

  it('times out a body that stalls after the headers, and closes its connection', async () => {
    const { server, ai, timeouts } = await onSystemClock({ retry: { maxRetries: 0 }, timeout: { attempt: 60 } });
    server.enqueue(faults.stallBody());
    const error = await rejectionOf(ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(error.message).toBe('Request timed out after 60 ms.');
    expect(timeouts).toMatchObject([{ timeout: 'attempt', limit: 60 }]);
    await until(() => server.openRequests === 0);
  });

  it('times out a stream whose first chunk does not come', async () => {
    const { server, ai, timeouts } = await onSystemClock({ retry: { maxRetries: 0 }, timeout: { firstChunk: 60 } });
    server.enqueue(faults.stream({ stallBeforeFirstChunk: true }));
    const error = await rejectionOf(ai.chat.completions.create({ ...chatParams, stream: true }));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(error.message).toBe('No stream chunk after 60 ms.');
    expect(timeouts).toMatchObject([{ timeout: 'first_chunk', limit: 60 }]);
    await until(() => server.openRequests === 0);
  });

  it('ends at the total deadline while waiting for headers, with DeadlineExceededError', async () => {
    const { server, ai, timeouts } = await onSystemClock({ timeout: { attempt: 10_000, total: 300 } });
    server.enqueue(faults.serverError(500), faults.stall());
    const error = await rejectionOf(ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ timeout: 300, attempts: 2 });
    expect((error as DeadlineExceededError).cause).toBeInstanceOf(OpenAI.InternalServerError);
    expect(timeouts).toMatchObject([{ timeout: 'total', limit: 300 }]);
    await until(() => server.openRequests === 0);
  });

  it('reports an attempt ended by the deadline as aborted, not as an upstream timeout the breaker counts', async () => {
    const { server, ai } = await onSystemClock({ timeout: { attempt: 10_000, total: 100 }, circuitBreaker: { consecutiveFailures: 1 } });
    const ends: AttemptEndEvent[] = [];
    ai.resilience.on('attemptEnd', (event) => ends.push(event));
    server.enqueue(faults.stall());
    expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(DeadlineExceededError);
    expect(ends.map((event) => event.kind)).toEqual(['aborted']);
    expect(ai.resilience.circuits()).toEqual({ 'gpt-4.1-mini': 'closed' });
    await until(() => server.openRequests === 0);
  });

  it('ends at the total deadline while reading a body', async () => {
    const { server, ai, timeouts } = await onSystemClock({ timeout: { attempt: 10_000, total: 200 } });
    server.enqueue(faults.stallBody());
    const error = await rejectionOf(ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(timeouts.map((event) => event.timeout)).toEqual(['total']);
    expect(server.requests).toHaveLength(1);
    await until(() => server.openRequests === 0);
  });
});
