import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { partialOutputOf, resilient, type BudgetExhaustedEvent, type StreamContinuedEvent, type StreamNotContinuedEvent } from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { chatParams, drive, harness, quietOptions, until } from '../support/harness.js';
import { chatChunk, delta, sseUpstream, toolCallDelta } from '../support/sse-upstream.js';
import { drain } from '../support/stream-drain.js';

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;
const chatStream = { ...chatParams, stream: true as const };
/** The whole deterministic answer of `n` numbered deltas. */
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `w${i + 1}`).join(' ');

const textOf = (chunks: Chunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

describe('continuing a chat stream (streaming.continuation)', () => {
  it.each(['prefix', 'continue_final_message', 'prefill', 'instruction'] as const)(
    "'%s': a reset mid-text, and the caller's for await gets the whole answer, no span twice and none missing",
    async (strategy) => {
      const { server, ai } = await harness({ streaming: { continuation: strategy } });
      const seams: StreamContinuedEvent[] = [];
      ai.resilience.on('streamContinued', (event) => seams.push(event));
      server.enqueue(faults.stream({ chunks: 12, words: 'numbered', dropAfter: 5 }), faults.stream({ chunks: 12, words: 'numbered' }));
      const chunks: Chunk[] = [];
      expect(await drain(await ai.chat.completions.create(chatStream), chunks)).toBeUndefined();
      expect(textOf(chunks)).toBe(numbered(12));
      // One role chunk (the continuation's is dropped), one id throughout.
      expect(chunks.filter((c) => c.choices[0]?.delta.role !== undefined)).toHaveLength(1);
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
      expect(server.requests).toHaveLength(2);
      const sent = server.requests[1]!.body as { messages: Array<{ role: string; content: string }> };
      expect(sent.messages.some((m) => m.role === 'assistant' && m.content === numbered(5))).toBe(true);
      expect(seams).toEqual([expect.objectContaining({ chunks: 6, deliveredTokens: 5, strategy, failure: 'reset', continuation: 1 })]);
    },
  );

  it('cut after the role chunk only: the original request again, whatever the strategy, and the whole answer once', async () => {
    const { server, ai } = await harness({ streaming: { continuation: 'instruction' } });
    server.enqueue(faults.stream({ chunks: 5, words: 'numbered', dropAfter: 0 }), faults.stream({ chunks: 5, words: 'numbered' }));
    const chunks: Chunk[] = [];
    expect(await drain(await ai.chat.completions.create(chatStream), chunks)).toBeUndefined();
    expect(textOf(chunks)).toBe(numbered(5));
    expect(chunks.filter((c) => c.choices[0]?.delta.role !== undefined)).toHaveLength(1);
    expect(server.requests[1]!.body).toEqual(server.requests[0]!.body);
  });

  it('an error event mid-stream and a stream cut short are continued too; the usage counts the tokens of both parts', async () => {
    const { server, ai } = await harness({ streaming: { continuation: 'prefix' } });
    const seams: StreamContinuedEvent[] = [];
    ai.resilience.on('streamContinued', (event) => seams.push(event));
    server.enqueue(
      faults.stream({ chunks: 9, words: 'numbered', errorAfter: 3 }),
      faults.stream({ chunks: 9, words: 'numbered', dropAfterEvents: 4 }),
      faults.stream({ chunks: 9, words: 'numbered' }),
    );
    const chunks: Chunk[] = [];
    expect(await drain(await ai.chat.completions.create({ ...chatStream, stream_options: { include_usage: true } }), chunks)).toBeUndefined();
    expect(textOf(chunks)).toBe(numbered(9));
    expect(seams.map((s) => [s.failure, s.continuation])).toEqual([['error_event', 1], ['reset', 2]]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(9);
  });

  it("chat.completions.stream(): finalChatCompletion() is the whole answer, under the original completion's id", async () => {
    const { server, ai } = await harness({ streaming: { continuation: 'prefix' } });
    server.enqueue(faults.stream({ chunks: 8, words: 'numbered', dropAfter: 3 }), faults.stream({ chunks: 8, words: 'numbered' }));
    const runner = ai.chat.completions.stream({ ...chatParams });
    const deltas: string[] = [];
    runner.on('content', (d) => deltas.push(d));
    const completion = await runner.finalChatCompletion();
    expect(completion.choices[0]?.message.content).toBe(numbered(8));
    expect(deltas.join('')).toBe(numbered(8));
    expect(completion.id).toBe('chatcmpl-1');
    expect(server.requests).toHaveLength(2);
  });

  it('a stall past timeout.idle is continued', async () => {
    const { server, ai, clock } = await harness({ streaming: { continuation: 'prefix' }, timeout: { idle: 1_000 } });
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered', stallAfter: 2 }), faults.stream({ chunks: 6, words: 'numbered' }));
    const chunks: Chunk[] = [];
    const done = drain(await ai.chat.completions.create(chatStream), chunks);
    await expect.poll(() => textOf(chunks)).toBe('w1 w2');
    await clock.advance(1_000);
    expect(await done).toBeUndefined();
    expect(textOf(chunks)).toBe(numbered(6));
  });

  it('a continuation that itself fails before answering: the original error, carrying the partial output', async () => {
    const { server, ai } = await harness({ streaming: { continuation: 'prefix' } });
    const declined: StreamNotContinuedEvent[] = [];
    ai.resilience.on('streamNotContinued', (event) => declined.push(event));
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }), faults.serverError(500));
    const chunks: Chunk[] = [];
    const error = await drain(await ai.chat.completions.create(chatStream), chunks);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'w1 w2' });
    expect(textOf(chunks)).toBe('w1 w2');
    expect(server.requests).toHaveLength(2);
    expect(declined).toEqual([expect.objectContaining({ reason: 'failed', chunks: 3, error: expect.any(OpenAI.InternalServerError) })]);
  });

  it('continuations that keep failing stop after two: the last error carries everything the caller received', async () => {
    const { server, ai } = await harness({ streaming: { continuation: 'prefix' } });
    server.enqueue(
      faults.stream({ chunks: 9, words: 'numbered', dropAfter: 2 }),
      faults.stream({ chunks: 9, words: 'numbered', dropAfter: 2 }),
      faults.stream({ chunks: 9, words: 'numbered', dropAfter: 2 }),
    );
    const chunks: Chunk[] = [];
    const error = await drain(await ai.chat.completions.create(chatStream), chunks);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(textOf(chunks)).toBe(numbered(6));
    expect(partialOutputOf(error)).toMatchObject({ text: numbered(6) });
    expect(server.requests).toHaveLength(3);
  });

  it('with the option off nothing changes: the same error, one request', async () => {
    for (const options of [{}, { streaming: { continuation: false as const } }]) {
      const { server, ai } = await harness(options);
      server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }), faults.stream({ chunks: 6, words: 'numbered' }));
      const chunks: Chunk[] = [];
      const error = await drain(await ai.chat.completions.create(chatStream), chunks);
      expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
      expect(partialOutputOf(error)).toMatchObject({ text: 'w1 w2' });
      expect(server.requests).toHaveLength(1);
    }
  });

  it('n > 1 and logprobs: not continued (the error, with the partial output)', async () => {
    for (const extra of [{ n: 2 }, { logprobs: true }]) {
      const { server, ai } = await harness({ streaming: { continuation: 'prefix' } });
      const declined: StreamNotContinuedEvent[] = [];
      ai.resilience.on('streamNotContinued', (event) => declined.push(event));
      server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }));
      const error = await drain(await ai.chat.completions.create({ ...chatStream, ...extra }));
      expect(partialOutputOf(error)).toMatchObject({ text: 'w1 w2' });
      expect(server.requests).toHaveLength(1);
      expect(declined.map((e) => e.reason)).toEqual(['n' in extra ? 'choices' : 'logprobs']);
    }
  });

  it('a tool call begun: not continued (the error, with the partial arguments)', async () => {
    const upstream = await sseUpstream(
      {
        frames: [
          chatChunk([delta(0, { role: 'assistant', content: null, tool_calls: [toolCallDelta(0, { id: 'call_a', name: 'weather', arguments: '' })] })]),
          chatChunk([delta(0, { tool_calls: [toolCallDelta(0, { arguments: '{"city":' })] })]),
        ],
        end: 'drop',
      },
      { frames: [], end: 'end' },
    );
    const ai = resilient(new OpenAI({ apiKey: 'sk-test', baseURL: upstream.url, maxRetries: 0 }), quietOptions(new FakeClock(0), { streaming: { continuation: 'prefill' } }));
    const declined: StreamNotContinuedEvent[] = [];
    ai.resilience.on('streamNotContinued', (event) => declined.push(event));
    const error = await drain(await ai.chat.completions.create(chatStream));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)?.toolCalls).toEqual([{ index: 0, id: 'call_a', name: 'weather', arguments: '{"city":', complete: false }]);
    expect(upstream.requests()).toBe(1);
    expect(declined.map((e) => e.reason)).toEqual(['tool_call']);
  });

  it('a continuation that fails in turn right after text it held back (a possible echo): that text reaches the caller before the next seam', async () => {
    const role = chatChunk([delta(0, { role: 'assistant', content: '' })]);
    const text = (content: string) => chatChunk([delta(0, { content })]);
    const upstream = await sseUpstream(
      { frames: [role, text('w1'), text(' w2')], end: 'drop' },
      // "w1" may begin a repetition of the partial answer: held back until the next event says it does not.
      { frames: [role, text('w1'), { error: { message: 'overloaded', type: 'server_error' } }], end: 'end' },
      { frames: [role, text(' tail'), chatChunk([delta(0, {}, 'stop')]), '[DONE]'], end: 'end' },
    );
    const partials: string[] = [];
    const continuation = (body: Record<string, unknown>, partial: { text: string }) => {
      partials.push(partial.text);
      return { ...body, messages: [...(body['messages'] as unknown[]), { role: 'assistant', content: partial.text }] };
    };
    const ai = resilient(new OpenAI({ apiKey: 'sk-test', baseURL: upstream.url, maxRetries: 0 }), quietOptions(new FakeClock(0), { streaming: { continuation } }));
    const chunks: Chunk[] = [];
    expect(await drain(await ai.chat.completions.create(chatStream), chunks)).toBeUndefined();
    const received = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    // What the second continuation continues after is exactly what the caller had received.
    expect(partials).toEqual(['w1 w2', 'w1 w2w1']);
    expect(received).toBe('w1 w2w1 tail');
    expect(upstream.requests()).toBe(3);
  });

  it('a Responses stream is never continued', async () => {
    const { server, ai } = await harness({ streaming: { continuation: 'prefix' } });
    server.enqueue(faults.stream({ chunks: 6, dropAfter: 2 }));
    const stream = await ai.responses.create({ model: 'gpt-4.1-mini', input: 'hi', stream: true });
    await expect((async () => {
      for await (const _ of stream) void _;
    })()).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    expect(server.requests).toHaveLength(1);
  });
});

describe('a continuation and the call around it', () => {
  const continuation = { streaming: { continuation: 'prefix' as const } };

  it("the caller's abort while the continuation waits for its answer ends the stream at once, and nothing is held", async () => {
    const { server, ai } = await harness({ ...continuation, bulkhead: { maxConcurrent: 2 } });
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }), faults.stall());
    const controller = new AbortController();
    const chunks: Chunk[] = [];
    const drained = drain(await ai.chat.completions.create(chatStream, { signal: controller.signal }), chunks);
    await until(() => server.requests.length === 2);
    controller.abort();
    // The SDK ends a stream its caller aborted quietly.
    expect(await drained).toBeUndefined();
    expect(textOf(chunks)).toBe('w1 w2');
    await until(() => server.openRequests === 0);
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
  });

  it("the call's deadline cuts a continuation that does not answer: the stream ends with its failure and what arrived", async () => {
    const { server, clock, ai } = await harness({ ...continuation, timeout: { total: 10_000 } });
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }), faults.stall());
    const drained = drain(await ai.chat.completions.create(chatStream));
    await until(() => server.requests.length === 2);
    await clock.advance(10_000);
    const error = await drained;
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'w1 w2' });
    await until(() => server.openRequests === 0);
    expect(clock.pending()).toEqual([]);
  });

  it('a continuation counts against the retry budget: none once it is spent (budgetExhausted)', async () => {
    const { server, ai } = await harness({ ...continuation, retry: { budget: { ratio: 0, minRetries: 0 } } });
    const spent: BudgetExhaustedEvent[] = [];
    ai.resilience.on('budgetExhausted', (event) => spent.push(event));
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }));
    const error = await drain(await ai.chat.completions.create(chatStream));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'w1 w2' });
    expect(server.requests).toHaveLength(1);
    expect(spent).toEqual([expect.objectContaining({ kind: 'connection' })]);
  });

  it('the failure is counted by the breaker; the circuit it opens is waited for as a retry waits, and the continuation is its probe', async () => {
    const { server, clock, ai } = await harness({ ...continuation, circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 5_000 } });
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }));
    const drained = drain(await ai.chat.completions.create(chatStream));
    await until(() => ai.resilience.circuits()['gpt-4.1-mini'] === 'open');
    expect(server.requests).toHaveLength(1);
    await clock.advance(5_000);
    expect(await drained).toBeUndefined();
    expect(server.requests).toHaveLength(2);
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('closed');
  });

  it('a circuit that stays open past the retry patience refuses the continuation: the failure ends the stream', async () => {
    const { server, ai } = await harness({ ...continuation, circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 120_000 }, retry: { maxRetryAfter: 60_000 } });
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }));
    const error = await drain(await ai.chat.completions.create(chatStream));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(server.requests).toHaveLength(1);
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('open');
  });

  it('a continuation passes the rate limiter (it waits for capacity) and the bulkhead, and gives back all it took', async () => {
    const { server, clock, ai } = await harness({ ...continuation, bulkhead: { maxConcurrent: 1 }, rateLimit: { requestsPerMinute: 1, learn: false } });
    const waits: string[] = [];
    ai.resilience.on('rateLimitWait', (event) => waits.push(event.reason));
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }), faults.stream({ chunks: 6, words: 'numbered' }));
    const chunks: Chunk[] = [];
    expect(await drive(clock, drain(await ai.chat.completions.create(chatStream), chunks))).toBeUndefined();
    expect(textOf(chunks)).toBe(numbered(6));
    expect(waits).toEqual(['requests']);
    expect(server.requests).toHaveLength(2);
    await until(() => server.openRequests === 0);
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
    expect(ai.resilience.stats().models['gpt-4.1-mini']).toMatchObject({ calls: 1, successes: 1 });
  });

  it('the cache stores a continued stream as the whole answer, and replays it as the caller received it', async () => {
    const { server, ai } = await harness({ ...continuation, cache: { cacheable: () => true } });
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }), faults.stream({ chunks: 6, words: 'numbered' }));
    const first: Chunk[] = [];
    expect(await drain(await ai.chat.completions.create(chatStream), first)).toBeUndefined();
    const again: Chunk[] = [];
    expect(await drain(await ai.chat.completions.create(chatStream), again)).toBeUndefined();
    expect(again).toEqual(first);
    expect(textOf(again)).toBe(numbered(6));
    expect(server.requests).toHaveLength(2);
  });

  it('an invalid value of streaming.continuation is a TypeError naming the option', async () => {
    await expect(harness({ streaming: { continuation: 'yes' as never } })).rejects.toThrow(/`streaming\.continuation`/);
  });
});

