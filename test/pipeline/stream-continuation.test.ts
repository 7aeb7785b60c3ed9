import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { partialOutputOf, type StreamContinuedEvent, type StreamNotContinuedEvent } from '../../src/index.js';
import { chatParams, harness } from '../support/harness.js';
import { chatChunk, delta, sseUpstream, toolCallDelta } from '../support/sse-upstream.js';
import { resilient } from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { quietOptions } from '../support/harness.js';

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;
const chatStream = { ...chatParams, stream: true as const };
/** The whole deterministic answer of `n` numbered deltas. */
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `w${i + 1}`).join(' ');

/** Iterates `stream` into `into`; the error it ends with, or undefined. */
async function drain(stream: AsyncIterable<Chunk>, into: Chunk[] = []): Promise<unknown> {
  try {
    for await (const chunk of stream) into.push(chunk);
    return undefined;
  } catch (error) {
    return error;
  }
}
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
