import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import type { CacheMissEvent, ResilienceOptions } from '../../src/index.js';
import { chatParams, harness, rejectionOf, until } from '../support/harness.js';

const cached = { ...chatParams, temperature: 0 };

async function flightHarness(options: ResilienceOptions = {}) {
  const h = await harness({ cache: true, ...options });
  const misses: CacheMissEvent[] = [];
  h.ai.resilience.on('cacheMiss', (event) => misses.push(event));
  return { ...h, misses, chats: () => h.server.requestsTo('/chat/completions').length };
}

describe('single-flight', () => {
  it('N identical concurrent calls make one upstream request and get equal, independent answers', async () => {
    const { server, ai, chats } = await flightHarness();
    server.enqueue(faults.delay(30));
    const results = await Promise.all(Array.from({ length: 10 }, () => ai.chat.completions.create(cached)));
    expect(chats()).toBe(1);
    expect(server.pendingFaults).toBe(0);
    for (const result of results) {
      expect(result.id).toBe('chatcmpl-1');
      expect(result).toEqual(results[0]);
      expect(result._request_id).toBe('req_1');
    }
    expect(new Set(results).size).toBe(10);
    expect(new Set(results.map((result) => result.choices[0]!.message)).size).toBe(10);
    results[0]!.choices[0]!.message.content = 'mutated';
    results[1]!.choices.length = 0;
    for (const result of results.slice(2)) expect(result.choices[0]!.message.content).toBe('ok');
    // The shared answer was also stored.
    expect((await ai.chat.completions.create(cached)).id).toBe('chatcmpl-1');
    expect(chats()).toBe(1);
  });

  it('concurrent calls that differ are not coalesced', async () => {
    const { server, ai, chats } = await flightHarness();
    server.enqueue(faults.delay(30), faults.delay(30));
    const [a, b] = await Promise.all([
      ai.chat.completions.create(cached),
      ai.chat.completions.create({ ...cached, messages: [{ role: 'user', content: 'Say no' }] }),
    ]);
    expect(a.id).not.toBe(b.id);
    expect(chats()).toBe(2);
  });

  it('concurrent calls of different API keys are not coalesced', async () => {
    const { server, ai, chats } = await flightHarness();
    server.enqueue(faults.delay(30), faults.delay(30));
    const [a, b] = await Promise.all([
      ai.chat.completions.create(cached),
      ai.withOptions({ apiKey: 'sk-other' }).chat.completions.create(cached),
    ]);
    expect(a.id).not.toBe(b.id);
    expect(chats()).toBe(2);
    expect(server.requests.map((request) => request.headers['authorization']).sort()).toEqual(['Bearer sk-other', 'Bearer sk-test-key']);
  });

  it('a failure is shared by every waiting call and not cached', async () => {
    const { server, clock, ai, chats } = await flightHarness({ retry: { maxRetries: 1, initialDelay: 1000 } });
    server.enqueue(faults.serverError(500), faults.serverError(500));
    const leader = rejectionOf(ai.chat.completions.create(cached));
    // The leader waits for its retry on the fake clock while the others join it.
    await clock.until((timers) => timers.some((timer) => timer.delay === 1000));
    const followers = Array.from({ length: 4 }, () => rejectionOf(ai.chat.completions.create(cached)));
    await until(() => ai.resilience.stats().singleFlight.waiting === 4);
    await clock.advance(1000);
    const errors = await Promise.all([leader, ...followers]);
    expect(chats()).toBe(2);
    for (const error of errors) {
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error.status).toBe(500);
    }
    const later = await ai.chat.completions.create(cached);
    expect(later.id).toBe('chatcmpl-3');
    expect(chats()).toBe(3);
    expect(ai.resilience.stats().total.cache).toEqual({ hits: 0, misses: 6 });
  });

  it("when the leader's caller aborts, a waiting call still completes with its own request", async () => {
    const { server, ai, chats } = await flightHarness();
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const leader = rejectionOf(ai.chat.completions.create(cached, { signal: controller.signal }));
    await until(() => server.requests.length === 1);
    const follower = ai.chat.completions.create(cached);
    await until(() => ai.resilience.stats().singleFlight.waiting === 1);
    expect(chats()).toBe(1);
    controller.abort();
    expect(await leader).toBeInstanceOf(OpenAI.APIUserAbortError);
    const answer = await follower;
    expect(answer.id).toBe('chatcmpl-2');
    expect(chats()).toBe(2);
    // The follower's own answer was stored.
    expect((await ai.chat.completions.create(cached)).id).toBe('chatcmpl-2');
    expect(chats()).toBe(2);
    await until(() => server.openRequests === 0);
  });

  it("a waiting call's abort rejects only that call; the others still share the leader's answer", async () => {
    const { server, clock, ai, chats } = await flightHarness();
    // The leader waits out a 429 on the fake clock, so the flight lasts exactly as long as the test wants.
    server.enqueue(faults.rateLimited({ retryAfterMs: 1000 }));
    const leader = ai.chat.completions.create(cached);
    await clock.until((timers) => timers.some((timer) => timer.delay === 1000));
    const controller = new AbortController();
    const aborted = rejectionOf(ai.chat.completions.create(cached, { signal: controller.signal }));
    const patient = ai.chat.completions.create(cached);
    await until(() => ai.resilience.stats().singleFlight.waiting === 2);
    controller.abort();
    expect(await aborted).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(chats()).toBe(1);
    await clock.advance(1000);
    const [a, b] = await Promise.all([leader, patient]);
    expect(a.id).toBe('chatcmpl-2');
    expect(b.id).toBe('chatcmpl-2');
    expect(b).not.toBe(a);
    expect(chats()).toBe(2);
  });

  it('a waiting call is not held by a leader that never answers', async () => {
    const { server, ai, misses } = await flightHarness();
    server.enqueue(faults.stall());
    const leaderController = new AbortController();
    let leaderSettled = false;
    const leader = rejectionOf(ai.chat.completions.create(cached, { signal: leaderController.signal })).finally(() => (leaderSettled = true));
    await until(() => misses.length === 1 && server.requests.length === 1 && ai.resilience.stats().singleFlight.inFlight === 1);
    const controller = new AbortController();
    const follower = rejectionOf(ai.chat.completions.create(cached, { signal: controller.signal }));
    await until(() => ai.resilience.stats().singleFlight.waiting === 1);
    controller.abort();
    expect(await follower).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(leaderSettled).toBe(false);
    // Already aborted before it joins: rejected at once too.
    expect(await rejectionOf(ai.chat.completions.create(cached, { signal: AbortSignal.abort() }))).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(leaderSettled).toBe(false);
    expect(server.requests).toHaveLength(1);
    leaderController.abort();
    expect(await leader).toBeInstanceOf(OpenAI.APIUserAbortError);
    await until(() => server.openRequests === 0);
  });

  it('identical stream: true calls are not coalesced', async () => {
    const { server, ai, chats } = await flightHarness();
    server.enqueue(faults.delay(30), faults.delay(30), faults.delay(30));
    const params = { ...cached, stream: true as const };
    const streams = await Promise.all([1, 2, 3].map(() => ai.chat.completions.create(params)));
    expect(chats()).toBe(3);
    const ids = await Promise.all(
      streams.map(async (stream) => {
        const seen = new Set<string>();
        for await (const chunk of stream) seen.add(chunk.id);
        return [...seen];
      }),
    );
    expect(new Set(ids.flat()).size).toBe(3);
  });

  it('a call that joins after the answer was stored is a plain hit', async () => {
    const { server, ai, chats } = await flightHarness();
    server.enqueue(faults.delay(20));
    const first = ai.chat.completions.create(cached);
    const second = ai.chat.completions.create(cached);
    await Promise.all([first, second]);
    const third = await ai.chat.completions.create(cached).withResponse();
    expect(third.response.headers.get('x-openai-resilient-source')).toBe('cache');
    expect(chats()).toBe(1);
  });

  it('when the leader was answered by a fallback, waiting calls do not reuse it and run on their own', async () => {
    const { server, ai } = await flightHarness({ retry: false, fallback: { models: { 'gpt-4.1': ['gpt-4.1-mini'] } } });
    server.enqueue(faults.delay(30, faults.serverError(500)));
    const primary = { ...cached, model: 'gpt-4.1' };
    const [a, b] = await Promise.all([ai.chat.completions.create(primary), ai.chat.completions.create(primary)]);
    expect(a.model).toBe('gpt-4.1-mini');
    expect(b.model).toBe('gpt-4.1');
    const models = server.requestsTo('/chat/completions').map((request) => (request.body as { model: string }).model);
    expect(models).toEqual(['gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1']);
  });

  it('counts each waiting call as a cache hit when it shares the answer', async () => {
    const { server, ai } = await flightHarness();
    server.enqueue(faults.delay(30));
    await Promise.all(Array.from({ length: 10 }, () => ai.chat.completions.create(cached)));
    const { total } = ai.resilience.stats();
    expect(total).toMatchObject({ calls: 10, successes: 10, cache: { hits: 9, misses: 1 } });
    expect(ai.resilience.stats().singleFlight).toEqual({ inFlight: 0, waiting: 0 });
  });

  it('with staleIfError, waiting calls get the stale answer too when the shared call fails', async () => {
    const { server, clock, ai } = await flightHarness({ cache: { ttl: 1000, staleIfError: true }, retry: false });
    const stored = await ai.chat.completions.create(cached);
    await clock.advance(1000);
    server.enqueue(faults.delay(30, faults.serverError(500)));
    const answers = await Promise.all([ai.chat.completions.create(cached), ai.chat.completions.create(cached)]);
    expect(answers.map((answer) => answer.id)).toEqual([stored.id, stored.id]);
    expect(ai.resilience.stats().total).toMatchObject({ calls: 3, successes: 3 });
  });
});
