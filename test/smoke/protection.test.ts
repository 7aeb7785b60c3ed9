import OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { CircuitOpenError, fallbackFailuresOf, MemoryCacheStore, resilient, type CircuitOpenEvent, type FallbackEvent } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

// Smoke suite: run against openai 5, 6 and 7 by .ci/sdk-matrix.sh (and on the devDependency by `npm test`).

describe('smoke: circuit breaker', () => {
  it('opens on consecutive failures, then fails fast with CircuitOpenError without a request', async () => {
    const { server, clock, ai } = await harness({
      circuitBreaker: { consecutiveFailures: 3, halfOpenAfter: 10_000 },
      retry: { maxRetries: 0 },
    });
    const opened: CircuitOpenEvent[] = [];
    ai.resilience.on('circuitOpen', (event) => opened.push(event));
    server.enqueue(faults.serverError(500), faults.overloaded(), faults.reset());
    for (let i = 0; i < 3; i++) await rejectionOf(ai.chat.completions.create(chatParams));
    expect(opened).toEqual([expect.objectContaining({ key: 'gpt-4.1-mini', reason: 'consecutive_failures' })]);
    expect(ai.resilience.circuits()).toEqual({ 'gpt-4.1-mini': 'open' });

    const error = await rejectionOf(ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toBeInstanceOf(OpenAI.OpenAIError);
    expect(error.cause).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(error.retryAt).toBe(clock.now() + 10_000);
    expect(server.requests).toHaveLength(3);

    await clock.advance(10_000);
    expect((await ai.chat.completions.create(chatParams)).object).toBe('chat.completion');
    expect(ai.resilience.circuits()).toEqual({ 'gpt-4.1-mini': 'closed' });
  });
});

describe('smoke: cache', () => {
  it('answers an identical temperature-0 request from the cache, as the same completion', async () => {
    const { server, clock, ai } = await harness({ cache: true });
    const cached = { ...chatParams, temperature: 0 };
    const first = await ai.chat.completions.create(cached).withResponse();
    await clock.advance(500);
    const second = await ai.chat.completions.create(cached).withResponse();
    expect(server.requests).toHaveLength(1);
    expect(second.data).toEqual(first.data);
    expect(second.response.headers.get('x-openai-resilient-source')).toBe('cache');
    expect(second.request_id).toBe(first.request_id);
    expect(ai.resilience.stats().total.cache).toEqual({ hits: 1, misses: 1 });
  });

  it('replays a cached stream as an SDK Stream', async () => {
    const { server, ai } = await harness({ cache: true });
    const params = { ...chatParams, temperature: 0, stream: true as const };
    const text = async (stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) => {
      let out = '';
      for await (const chunk of stream) out += chunk.choices[0]?.delta?.content ?? '';
      return out;
    };
    const first = await text(await ai.chat.completions.create(params));
    const replay = await ai.chat.completions.create(params);
    expect(replay).toBeInstanceOf(Stream);
    expect(await text(replay)).toBe(first);
    expect(server.requests).toHaveLength(1);
  });

  it('never shares entries between clients with different apiKey functions', async () => {
    const { server, clock } = await harness();
    const store = new MemoryCacheStore({ maxEntries: 100, maxBytes: 1_000_000 });
    const make = (key: string) =>
      resilient(new OpenAI({ apiKey: async () => key, baseURL: server.url, maxRetries: 0 }), {
        clock, cache: { store }, retry: false, circuitBreaker: false, bulkhead: false, rateLimit: false,
      });
    const cached = { ...chatParams, temperature: 0 };
    const a = await make('sk-fn-a').chat.completions.create(cached);
    const b = await make('sk-fn-b').chat.completions.create(cached);
    expect(b.id).not.toBe(a.id);
    expect((await make('sk-fn-a').chat.completions.create(cached)).id).toBe(a.id);
    expect(server.requests.map((request) => request.headers['authorization'])).toEqual(['Bearer sk-fn-a', 'Bearer sk-fn-b']);
  });

  it('caches embeddings by default', async () => {
    const { server, ai } = await harness({ cache: true });
    const params = { model: 'text-embedding-3-small', input: 'hi' };
    const first = await ai.embeddings.create(params);
    expect(await ai.embeddings.create(params)).toEqual(first);
    expect(server.requests).toHaveLength(1);
  });
});

describe('smoke: fallback', () => {
  const primary = { ...chatParams, model: 'gpt-4.1' };
  const models = { 'gpt-4.1': ['gpt-4.1-mini'] };
  const modelsSent = (server: { requestsTo(path: string): Array<{ body: unknown }> }) =>
    server.requestsTo('/chat/completions').map((request) => (request.body as { model: string }).model);

  it('falls back to another model after retries give up', async () => {
    const { server, clock, ai } = await harness({ fallback: { models } });
    const events: FallbackEvent[] = [];
    ai.resilience.on('fallback', (event) => events.push(event));
    server.enqueue(faults.serverError(500), faults.serverError(500), faults.serverError(500));
    const completion = await drive(clock, ai.chat.completions.create(primary));
    expect(completion.model).toBe('gpt-4.1-mini');
    expect(modelsSent(server)).toEqual(['gpt-4.1', 'gpt-4.1', 'gpt-4.1', 'gpt-4.1-mini']);
    expect(events).toEqual([expect.objectContaining({ from: 'gpt-4.1', to: 'gpt-4.1-mini', reason: 'server_error' })]);
  });

  it('falls back at once on insufficient_quota, never on a bad request', async () => {
    const { server, clock, ai } = await harness({ fallback: { models } });
    server.enqueue(faults.insufficientQuota());
    expect((await drive(clock, ai.chat.completions.create(primary))).model).toBe('gpt-4.1-mini');
    server.enqueue(faults.badRequest());
    expect(await rejectionOf(ai.chat.completions.create(primary))).toBeInstanceOf(OpenAI.BadRequestError);
    expect(modelsSent(server)).toEqual(['gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1']);
  });

  it("when everything fails, the caller gets the primary's own error with the fallbacks' failures", async () => {
    const { server, clock, ai } = await harness({ fallback: { models }, retry: { maxRetries: 0 } });
    server.enqueue(faults.insufficientQuota(), faults.serverError(500));
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(primary)));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(fallbackFailuresOf(error).map((failure) => failure.error)).toEqual([expect.any(OpenAI.InternalServerError)]);
  });
});

describe('smoke: stats()', () => {
  it('counts calls, successes, failures by kind, retries and token usage', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500));
    const first = await drive(clock, ai.chat.completions.create(chatParams));
    server.enqueue(faults.badRequest());
    await rejectionOf(ai.chat.completions.create(chatParams));
    const stats = ai.resilience.stats();
    expect(stats.total).toMatchObject({ calls: 2, successes: 1, failures: { bad_request: 1 }, retries: 1 });
    expect(stats.models['gpt-4.1-mini']).toMatchObject({ calls: 2, successes: 1, retries: 1 });
    expect(stats.total.usage.totalTokens).toBe(first.usage!.total_tokens);
    expect(stats.endpoints['POST /chat/completions']).toMatchObject({ calls: 2 });
    expect(stats.total.latency.max).toBe(500);
  });
});
