import { getEventListeners } from 'node:events';
import OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import type { RetryEvent } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf, until } from '../support/harness.js';

const streamParams = { ...chatParams, stream: true as const };

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

describe('stream: true before the first chunk', () => {
  it('retries failures before the response (reset, 500) and then streams normally', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.reset(), faults.serverError(500));
    const stream = await drive(clock, ai.chat.completions.create(streamParams));
    expect(stream).toBeInstanceOf(Stream);
    expect(await collect(stream)).not.toBe('');
    expect(server.requests).toHaveLength(3);
  });

  it('retries a stream that sent headers but no chunk within the attempt timeout', async () => {
    const { server, clock, ai } = await harness({ timeout: { attempt: 5000 } });
    server.enqueue(faults.stream({ stallBeforeFirstChunk: true }));
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    const call = ai.chat.completions.create(streamParams);
    await until(() => server.requests.length === 1);
    await clock.advance(5000);
    const stream = await drive(clock, call);
    expect(await collect(stream)).not.toBe('');
    expect(retries.map((event) => event.kind)).toEqual(['timeout']);
    expect(server.requests).toHaveLength(2);
    await until(() => server.openRequests === 0);
  });

  // Error events the SDK raises though they do not start with `{"error"`: spaced (and framed with CRLF), or
  // OpenRouter's chunk carrying `error` next to its `choices`. Each is followed by [DONE], as some servers do.
  it.each([
    ['spaced, framed with CRLF', 'data:{ "error" : { "message" : "The engine is overloaded.", "type" : "server_error", "code" : "server_error" } }\r\n\r\ndata: [DONE]\r\n\r\n'],
    [
      "OpenRouter's chunk with an error member",
      ': OPENROUTER PROCESSING\n\ndata: {"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","provider":"p",' +
        '"error":{"code":"server_error","message":"Provider disconnected unexpectedly"},' +
        '"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}\n\ndata: [DONE]\n\n',
    ],
    [
      "OpenRouter's chunk with the HTTP status as its numeric code",
      'data: {"id":"gen-2","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","provider":"p",' +
        '"error":{"code":502,"message":"Provider returned error"},' +
        '"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}\n\ndata: [DONE]\n\n',
    ],
  ])('retries a stream whose first event is an error the SDK raises: %s', async (_name, body) => {
    const { server, clock, ai, raw } = await harness();
    server.enqueue(faults.ok(body, { 'content-type': 'text/event-stream' }), faults.ok(body, { 'content-type': 'text/event-stream' }));
    // The bare SDK raises it...
    expect(await rejectionOf(collect(await raw.chat.completions.create(streamParams)))).toBeInstanceOf(OpenAI.APIError);
    // ...so it fails the attempt before anything reached the caller: retried, then streamed normally.
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    const stream = await drive(clock, ai.chat.completions.create(streamParams));
    expect(await collect(stream)).toBe('Hello world!');
    expect(retries.map((event) => event.kind)).toEqual(['server_error']);
    expect(server.requests).toHaveLength(3);
  });

  it('retries an event stream that ends before its first byte as a malformed response', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.ok('', { 'content-type': 'text/event-stream' }));
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    const stream = await drive(clock, ai.chat.completions.create(streamParams));
    expect(await collect(stream)).not.toBe('');
    expect(retries[0]?.kind).toBe('malformed_response');
  });
});

describe('stream: true after the first chunk', () => {
  it('never replays: a drop mid-stream reaches the caller, with one upstream request', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 4, dropAfter: 2 }));
    const stream = await drive(clock, ai.chat.completions.create(streamParams));
    const received: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? '');
      })(),
    );
    expect(error).toBeInstanceOf(Error);
    expect(received.length).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(1);
  });

  it('an error event mid-stream reaches the caller as an APIError, never retried', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 3, errorAfter: 1 }));
    const stream = await drive(clock, ai.chat.completions.create(streamParams));
    const error = await rejectionOf(collect(stream));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(server.requests).toHaveLength(1);
  });

  it('is not cut by timeout.total once delivered, and leaves no timer or listener when it ends', async () => {
    const { server, clock, ai } = await harness({ timeout: { attempt: 1000, total: 2000 } });
    server.enqueue(faults.stream({ chunks: 3, intervalMs: 5 }));
    const controller = new AbortController();
    const stream = await ai.chat.completions.create(streamParams, { signal: controller.signal });
    // No deadline or attempt timer is left: only the stream's own idle watch, until it ends.
    expect(clock.pending().filter((timer) => timer.delay !== 120_000)).toEqual([]);
    await clock.advance(10_000);
    expect(await collect(stream)).toBe(await collectDefault(server.url));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pending()).toEqual([]);
  });

  it('the caller abort mid-stream closes the connection and frees the signal', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 3, stallAfter: 1 }));
    const controller = new AbortController();
    const stream = await ai.chat.completions.create(streamParams, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    await iterator.next().catch(() => undefined);
    await until(() => server.openRequests === 0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

/** What the default stream says, read with the bare SDK for comparison. */
async function collectDefault(baseURL: string): Promise<string> {
  const bare = new OpenAI({ apiKey: 'k', baseURL, maxRetries: 0 });
  return collect(await bare.chat.completions.create(streamParams));
}
