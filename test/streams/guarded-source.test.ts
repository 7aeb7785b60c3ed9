import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { StreamAbandonedError, type StreamAbandonedEvent } from '../../src/index.js';
import { READ_AHEAD_BYTES } from '../../src/streams/guarded-source.js';
import { chatStreamPlan, faults, sseFrame } from '../../src/testing/index.js';
import { chatParams, harness, rejectionOf, until } from '../support/harness.js';

const chatStream = { ...chatParams, stream: true as const };
const encoder = new TextEncoder();

async function textOf(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

/** Lets every promise callback and I/O callback queued so far run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A `fetch` answering with a chat stream whose first meaningful event arrives at once and whose rest is
 * pulled on demand: chunks of about 1 KiB of text for as long as it is read (`pulled` counts the bytes),
 * never its end.
 */
function endlessStream() {
  const plan = chatStreamPlan({ id: 'chatcmpl-1', model: 'gpt-4.1-mini', chunks: 1 });
  const filler = encoder.encode(sseFrame({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'x'.repeat(900) }, finish_reason: null }] }));
  const state = { pulled: 0, cancelled: false, filler: filler.byteLength };
  const fetch = async () =>
    new Response(
      new ReadableStream<Uint8Array>(
        {
          start(controller) {
            controller.enqueue(encoder.encode(plan.preamble.join('') + plan.content[0]));
          },
          pull(controller) {
            state.pulled += filler.byteLength;
            controller.enqueue(filler);
          },
          cancel() {
            state.cancelled = true;
          },
        },
        { highWaterMark: 0 },
      ),
      { headers: { 'content-type': 'text/event-stream' } },
    );
  return { fetch, state };
}

describe('streams nobody reads', () => {
  it('three unread streams do not wedge maxConcurrent 3: an upstream that has finished gives its slot back before the stream is read', async () => {
    const { server, ai } = await harness({ bulkhead: { maxConcurrent: 3, queueTimeout: 1 } });
    const streams = [];
    for (let i = 0; i < 3; i++) streams.push(await ai.chat.completions.create(chatStream));
    // The default stream ends with [DONE] and closes: the guard reads it ahead of the caller, to its end.
    await until(() => ai.resilience.load().active === 0 && server.openRequests === 0);
    expect((await ai.chat.completions.create(chatParams)).object).toBe('chat.completion');
    // What was read ahead is all there, in order.
    for (const stream of streams) expect(await textOf(stream)).toBe('Hello world!');
  });

  it('a stream nobody reads, whose upstream stays open, is abandoned after timeout.idle: slot, socket and timers released', async () => {
    const { server, clock, ai } = await harness({ bulkhead: { maxConcurrent: 2, queueTimeout: 600_000 }, timeout: { idle: 30_000 } });
    server.enqueue(faults.stream({ chunks: 3, stallAfter: 1 }), faults.stream({ chunks: 3, stallAfter: 1 }));
    const abandoned: StreamAbandonedEvent[] = [];
    ai.resilience.on('streamAbandoned', (event) => abandoned.push(event));
    const unread = await ai.chat.completions.create(chatStream);
    // Read in part, then left.
    const partly = await ai.chat.completions.create(chatStream);
    const iterator = partly[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    const queued = ai.chat.completions.create(chatParams);
    await until(() => ai.resilience.load().queued === 1);

    await clock.advance(29_999);
    expect(ai.resilience.load()).toEqual({ active: 2, queued: 1 });
    await clock.advance(1);
    expect((await queued).object).toBe('chat.completion');
    expect(abandoned.map((event) => [event.reason, event.chunks])).toEqual([['unread', 2], ['unread', 2]]);
    await until(() => server.openRequests === 0);
    expect(clock.pending()).toEqual([]);

    // Coming back later, the caller gets what had arrived, then the typed error.
    const received: string[] = [];
    const error = await rejectionOf((async () => {
      for await (const chunk of unread) received.push(chunk.choices[0]?.delta?.content ?? '');
    })());
    expect(received).toEqual(['', 'Hello']);
    expect(error).toBeInstanceOf(StreamAbandonedError);
    expect(error).toMatchObject({ kind: 'aborted', reason: 'unread', chunks: 2 });
    const rest = rejectionOf((async () => {
      for (let next = await iterator.next(); !next.done; next = await iterator.next());
    })());
    expect(await rest).toBeInstanceOf(StreamAbandonedError);
  });

  it('reads at most 64 KiB ahead: an upstream that keeps sending is held back, and abandoned after timeout.idle', async () => {
    const { fetch, state } = endlessStream();
    const { clock, ai } = await harness({ bulkhead: { maxConcurrent: 1 }, timeout: { idle: 30_000 } }, { fetch });
    const stream = await ai.chat.completions.create(chatStream);
    await until(() => state.pulled >= READ_AHEAD_BYTES);
    for (let i = 0; i < 5; i++) await settle();
    expect(state.pulled).toBeLessThanOrEqual(READ_AHEAD_BYTES + state.filler);
    expect(ai.resilience.load().active).toBe(1);

    await clock.advance(30_000);
    expect(state.cancelled).toBe(true);
    expect(ai.resilience.load().active).toBe(0);
    const error = await rejectionOf(textOf(stream));
    expect(error).toMatchObject({ name: 'StreamAbandonedError', reason: 'unread' });
  });

  it('a caller that keeps reading is never abandoned, however slowly it reads past the read-ahead', async () => {
    const { fetch, state } = endlessStream();
    const { clock, ai } = await harness({ bulkhead: { maxConcurrent: 1 }, timeout: { idle: 30_000 } }, { fetch });
    const iterator = (await ai.chat.completions.create(chatStream))[Symbol.asyncIterator]();
    await until(() => state.pulled >= READ_AHEAD_BYTES);
    // The role chunk and "Hello" came in one piece; from now on, each event the SDK yields is one read.
    for (let i = 0; i < 2; i++) expect((await iterator.next()).done).toBe(false);
    // One read every 20 s: each makes room, and the upstream fills it again.
    for (let i = 0; i < 5; i++) {
      await clock.advance(20_000);
      expect((await iterator.next()).done).toBe(false);
      await settle();
    }
    expect(state.cancelled).toBe(false);
    expect(ai.resilience.load().active).toBe(1);
    await iterator.return!();
    expect(state.cancelled).toBe(true);
    expect(ai.resilience.load().active).toBe(0);
  });

  it("an unread stream's usage settles the rate limiter's token reservation at once", async () => {
    // 60 000 tokens per minute; max_tokens 59 000 reserves about that many tokens up front.
    const { server, clock, ai } = await harness({ rateLimit: { tokensPerMinute: 60_000, learn: false } });
    // Chunks 5 ms apart: the usage comes after the first chunk, so only reading ahead sees it.
    server.enqueue(faults.stream({ chunks: 3, intervalMs: 5 }));
    const waits: number[] = [];
    ai.resilience.on('rateLimitWait', (event) => waits.push(event.delay));
    const unread = await ai.chat.completions.create({ ...chatStream, max_tokens: 59_000, stream_options: { include_usage: true } });
    await until(() => ai.resilience.stats().total.usage.totalTokens > 0);
    // Corrected to the few tokens used, the bucket has room for another large call at once.
    const next = ai.chat.completions.create({ ...chatParams, max_tokens: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(waits).toEqual([]);
    if (waits.length > 0) await clock.advance(waits[0]!);
    await next;
    expect(await textOf(unread)).toBe('Hello world!');
  });
});
