import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { CallEndEvent } from '../../src/index.js';
import { faults, startFaultServer } from '../../src/testing/index.js';
import { fedStream } from '../support/fed-stream.js';
import { chatParams, harness, rejectionOf, until } from '../support/harness.js';

const chatStream = { ...chatParams, stream: true as const };

async function readAll(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<void> {
  for await (const _chunk of stream) void _chunk;
}

describe('a stream call ends with its stream', () => {
  it('callEnd and stats() wait for the end of the stream, and report its whole duration and its usage', async () => {
    const fed = fedStream({ includeUsage: true });
    const { clock, ai } = await harness({}, { fetch: fed.fetch });
    const ends: CallEndEvent[] = [];
    ai.resilience.on('callEnd', (event) => ends.push(event));
    const stream = await ai.chat.completions.create({ ...chatStream, stream_options: { include_usage: true } });
    await clock.advance(700);
    expect(ends).toEqual([]);
    expect(ai.resilience.stats().total).toMatchObject({ calls: 0, successes: 0, streams: { started: 1 } });

    fed.finish();
    await until(() => ends.length === 1);
    expect(ends[0]).toMatchObject({ outcome: 'success', kind: undefined, stream: true, duration: 700, usage: { inputTokens: 10, outputTokens: 3, totalTokens: 13 } });
    const { total } = ai.resilience.stats();
    expect(total).toMatchObject({ calls: 1, successes: 1, failures: {}, usage: { totalTokens: 13 } });
    // latency is the whole call, like callEnd's duration; the time to first chunk is kept apart.
    expect(total.latency).toMatchObject({ count: 1, max: 700 });
    expect(total.streams.timeToFirstChunk).toMatchObject({ count: 1, max: 0 });
    await readAll(stream);
    expect(ends).toHaveLength(1);
  });

  it('a stream that fails after its first chunk is a failure of its kind: reset, stall, truncation, error event', async () => {
    const { server, clock, ai } = await harness({ timeout: { idle: 30_000 } });
    const ends: CallEndEvent[] = [];
    ai.resilience.on('callEnd', (event) => ends.push(event));
    server.enqueue(
      faults.stream({ chunks: 3, dropAfter: 1 }),
      faults.stream({ chunks: 3, omitDone: true }),
      faults.stream({ chunks: 3, errorAfter: 1, error: { message: 'boom', type: 'server_error', code: 'server_error' } }),
      faults.stream({ chunks: 3, stallAfter: 1 }),
    );
    for (let i = 0; i < 3; i++) await rejectionOf(readAll(await ai.chat.completions.create(chatStream)));
    const iterator = (await ai.chat.completions.create(chatStream))[Symbol.asyncIterator]();
    while ((await iterator.next()).value?.choices[0]?.delta?.content !== 'Hello');
    // The caller waits for the next chunk, which never comes.
    const stalling = rejectionOf(iterator.next());
    await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(30_000);
    expect(await stalling).toMatchObject({ name: 'StreamIdleTimeoutError' });
    await until(() => ends.length === 4);
    expect(ends.map((event) => [event.outcome, event.kind])).toEqual([
      ['failure', 'connection'], ['failure', 'connection'], ['failure', 'server_error'], ['failure', 'timeout'],
    ]);
    const { total } = ai.resilience.stats();
    expect(total).toMatchObject({ calls: 4, successes: 0, failures: { connection: 2, server_error: 1, timeout: 1 } });
    expect(total.streams).toMatchObject({ started: 4, stalls: 1, truncated: 1 });
    expect(total.latency.count).toBe(0);
  });

  it("the caller's break or abort counts as aborted (not against the circuit breaker), and abandonment too", async () => {
    const { server, clock, ai } = await harness({ circuitBreaker: { consecutiveFailures: 1 }, timeout: { idle: 30_000 } });
    const ends: CallEndEvent[] = [];
    ai.resilience.on('callEnd', (event) => ends.push(event));
    server.enqueue(faults.stream({ chunks: 3, stallAfter: 1 }), faults.stream({ chunks: 3, stallAfter: 1 }), faults.stream({ chunks: 3, stallAfter: 1 }));
    for await (const _chunk of await ai.chat.completions.create(chatStream)) break;
    const controller = new AbortController();
    const aborted = await ai.chat.completions.create(chatStream, { signal: controller.signal });
    await aborted[Symbol.asyncIterator]().next();
    controller.abort();
    await ai.chat.completions.create(chatStream);
    await clock.advance(30_000);
    await until(() => ends.length === 3);
    expect(ends.map((event) => [event.outcome, event.kind])).toEqual([['failure', 'aborted'], ['failure', 'aborted'], ['failure', 'aborted']]);
    expect(ends[0]!.error).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(ends[2]!.error).toMatchObject({ name: 'StreamAbandonedError', reason: 'unread' });
    expect(ai.resilience.stats().total).toMatchObject({ calls: 3, failures: { aborted: 3 }, streams: { started: 3, abandoned: 1 } });
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('closed');
  });

  it("a stream's call ends as it is handed over when no upstream is left to wait for (a cached stream)", async () => {
    const { ai } = await harness({ cache: true });
    const ends: CallEndEvent[] = [];
    ai.resilience.on('callEnd', (event) => ends.push(event));
    await readAll(await ai.chat.completions.create({ ...chatStream, temperature: 0 }));
    await until(() => ends.length === 1);
    await ai.chat.completions.create({ ...chatStream, temperature: 0 });
    expect(ends).toHaveLength(2);
    expect(ai.resilience.stats().total).toMatchObject({ calls: 2, successes: 2, cache: { hits: 1, misses: 1 } });
  });
  it("a fallback client's stream ends the call when it ends: a success read to its end, aborted when left", async () => {
    const second = await startFaultServer();
    try {
      const fallback = { clients: [new OpenAI({ apiKey: 'sk-test-key', baseURL: second.url, maxRetries: 0 })] };
      const { server, ai } = await harness({ retry: { maxRetries: 0 }, fallback });
      const ends: CallEndEvent[] = [];
      ai.resilience.on('callEnd', (event) => ends.push(event));
      server.enqueue(faults.serverError(500), faults.serverError(500));
      second.enqueue(faults.stream({ chunks: 3 }), faults.stream({ chunks: 3, stallAfter: 1 }));
      const stream = await ai.chat.completions.create(chatStream);
      expect(ends).toEqual([]);
      await readAll(stream);
      await until(() => ends.length === 1);
      for await (const _chunk of await ai.chat.completions.create(chatStream)) break;
      await until(() => ends.length === 2);
      expect(ends.map((event) => [event.outcome, event.kind])).toEqual([['success', undefined], ['failure', 'aborted']]);
      expect(ai.resilience.stats().total).toMatchObject({ calls: 2, successes: 1, failures: { aborted: 1 }, fallbacks: 2 });
    } finally {
      await second.close();
    }
  });
});
