import { getEventListeners } from 'node:events';
import OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { StreamIdleTimeoutError, StreamTruncatedError, systemClock, type RetryEvent, type StreamTruncatedEvent } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf, until } from '../support/harness.js';

// Smoke suite: run against openai 5, 6 and 7 by .ci/sdk-matrix.sh (and on the devDependency by `npm test`).

const chatStream = { ...chatParams, stream: true as const };

async function textOf(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

/** Real time, short limits: chunks arrive in real time, so idle gaps are measured in real time too. */
const realTime = (idle: number) => ({ clock: systemClock, timeout: { idle } });

describe('smoke: stream: true before the first chunk', () => {
  it('retries a reset and a 500, then streams an SDK Stream normally', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.reset(), faults.serverError(500));
    const stream = await drive(clock, ai.chat.completions.create(chatStream));
    expect(stream).toBeInstanceOf(Stream);
    expect(await textOf(stream)).toBe('Hello world!');
    expect(server.requests).toHaveLength(3);
  });

  it('retries a stream whose first chunk does not come within timeout.firstChunk', async () => {
    const { server, clock, ai } = await harness({ timeout: { firstChunk: 2_000 } });
    server.enqueue(faults.stream({ stallBeforeFirstChunk: true }));
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    const call = ai.chat.completions.create(chatStream);
    await until(() => server.requests.length === 1);
    await clock.advance(2_000);
    expect(await textOf(await drive(clock, call))).toBe('Hello world!');
    expect(retries.map((event) => event.kind)).toEqual(['timeout']);
    expect((retries[0]!.error as Error).message).toBe('No stream chunk after 2000 ms.');
    await until(() => server.openRequests === 0);
  });

  it('retries an error event before anything reached the caller (Responses API)', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.stream({ errorAfter: 0, error: { message: 'The server had an error', type: 'server_error', code: 'server_error' } }));
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    const events: string[] = [];
    for await (const event of await drive(clock, ai.responses.create({ model: 'gpt-4.1-mini', input: 'hi', stream: true }))) events.push(event.type);
    expect(events.at(-1)).toBe('response.completed');
    expect(retries).toEqual([expect.objectContaining({ kind: 'server_error' })]);
    expect(retries[0]!.error).toBeInstanceOf(OpenAI.APIError);
  });
});

describe('smoke: stream: true after the first chunk', () => {
  it('a stall becomes StreamIdleTimeoutError, never replayed', async () => {
    const { server, ai } = await harness(realTime(60));
    server.enqueue(faults.stream({ chunks: 4, stallAfter: 2 }));
    const received: string[] = [];
    const error = await rejectionOf((async () => {
      for await (const chunk of await ai.chat.completions.create(chatStream)) received.push(chunk.choices[0]?.delta?.content ?? '');
    })());
    expect(error).toBeInstanceOf(StreamIdleTimeoutError);
    expect(error).toBeInstanceOf(OpenAI.OpenAIError);
    expect(error).toMatchObject({ name: 'StreamIdleTimeoutError', kind: 'timeout', chunks: 3, idle: 60 });
    expect(received).toEqual(['', 'Hello', ' world']);
    await until(() => server.openRequests === 0);
    expect(server.requests).toHaveLength(1);
  });

  it('a stream without [DONE] throws StreamTruncatedError', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 3, omitDone: true }));
    const truncated: StreamTruncatedEvent[] = [];
    ai.resilience.on('streamTruncated', (event) => truncated.push(event));
    const error = await rejectionOf(textOf(await ai.chat.completions.create(chatStream)));
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(error).toMatchObject({ kind: 'connection', chunks: 5 });
    expect(truncated).toEqual([expect.objectContaining({ chunks: 5 })]);
  });

  it('a reset mid-stream becomes the SDK APIConnectionError', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 4, dropAfter: 2 }));
    const error = await rejectionOf(textOf(await drive(clock, ai.chat.completions.create(chatStream))));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(error.message).toMatch(/mid-stream after \d+ chunk/);
    expect(server.requests).toHaveLength(1);
  });

  it('an error event mid-stream reaches the caller as the SDK APIError', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 3, errorAfter: 1 }));
    expect(await rejectionOf(textOf(await ai.chat.completions.create(chatStream)))).toBeInstanceOf(OpenAI.APIError);
    expect(server.requests).toHaveLength(1);
  });

  it('breaking out of the loop releases the connection', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 3, stallAfter: 2 }));
    const controller = new AbortController();
    const stream = await ai.chat.completions.create(chatStream, { signal: controller.signal });
    for await (const _chunk of stream) break;
    await until(() => server.openRequests === 0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('smoke: stream helpers', () => {
  it('chat.completions.stream() surfaces a stall as StreamIdleTimeoutError', async () => {
    const { server, ai } = await harness(realTime(40));
    server.enqueue(faults.stream({ chunks: 3, stallAfter: 1 }));
    expect(await rejectionOf(ai.chat.completions.stream(chatParams).finalChatCompletion())).toBeInstanceOf(StreamIdleTimeoutError);
  });

  it('responses.stream() surfaces truncation', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ omitDone: true }));
    expect(await rejectionOf(ai.responses.stream({ model: 'gpt-4.1-mini', input: 'hi' }).finalResponse())).toBeInstanceOf(StreamTruncatedError);
  });

  it('toReadableStream() is guarded too', async () => {
    const { server, ai } = await harness(realTime(40));
    server.enqueue(faults.stream({ chunks: 3, stallAfter: 1 }));
    const reader = (await ai.chat.completions.create(chatStream)).toReadableStream().getReader();
    const error = await rejectionOf((async () => {
      for (;;) if ((await reader.read()).done) return;
    })());
    expect(error).toBeInstanceOf(StreamIdleTimeoutError);
  });
});
