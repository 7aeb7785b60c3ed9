import { getEventListeners } from 'node:events';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults, responseObject, responsesStreamPlan, sseFrame } from '../../src/testing/index.js';
import {
  StreamIdleTimeoutError,
  systemClock,
  type StreamStallEvent,
  type StreamTruncatedEvent,
} from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf, until } from '../support/harness.js';
import { scriptedFetch } from '../support/scripted-fetch.js';

const chatStream = { ...chatParams, stream: true as const };
const responsesStream = { model: 'gpt-4.1-mini', input: 'hi', stream: true as const };

async function textOf(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

/** Real time, short limits: chunks arrive in real time, so idle gaps are measured in real time too. */
const realTime = (idle: number) => ({ clock: systemClock, timeout: { idle } });

describe('timeout.firstChunk', () => {
  it('does not count Responses lifecycle events: a silent reasoning phase after them is still "before the first chunk"', async () => {
    const { server, clock, ai } = await harness({ timeout: { firstChunk: 2_000 } });
    server.enqueue(faults.stream({ stallAfter: 0 }));
    const call = ai.responses.create(responsesStream);
    await until(() => server.requests.length === 1);
    await clock.advance(2_000);
    const events: string[] = [];
    for await (const event of await drive(clock, call)) events.push(event.type);
    expect(events.at(-1)).toBe('response.completed');
    expect(events.filter((type) => type === 'response.created')).toHaveLength(1);
    expect(server.requestsTo('/responses')).toHaveLength(2);
  });
});

describe('timeout.idle', () => {
  it('aborts a stream that stalls after some chunks, with a typed error saying how many arrived', async () => {
    const { server, ai } = await harness({ ...realTime(60), bulkhead: { maxConcurrent: 1 } });
    server.enqueue(faults.stream({ chunks: 4, stallAfter: 2 }));
    const stalls: StreamStallEvent[] = [];
    ai.resilience.on('streamStall', (event) => stalls.push(event));
    const received: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of await ai.chat.completions.create(chatStream)) received.push(chunk.choices[0]?.delta?.content ?? '');
      })(),
    );
    expect(error).toBeInstanceOf(StreamIdleTimeoutError);
    expect(error).toMatchObject({ name: 'StreamIdleTimeoutError', kind: 'timeout', chunks: 3, idle: 60 });
    expect(received).toEqual(['', 'Hello', ' world']);
    expect(stalls).toEqual([expect.objectContaining({ chunks: 3, idle: 60, model: 'gpt-4.1-mini' })]);
    await until(() => server.openRequests === 0);
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
    expect(server.requests).toHaveLength(1);
  });

  it('does not kill a slow but steady stream', async () => {
    const { server, ai } = await harness(realTime(500));
    server.enqueue(faults.stream({ chunks: 6, intervalMs: 40 }));
    expect(await textOf(await ai.chat.completions.create(chatStream))).toBe('Hello world! more more more');
  });

  it('measures each wait on its own: waits shorter than idle never add up to a stall', async () => {
    const { server, ai } = await harness(realTime(200));
    server.enqueue(faults.stream({ chunks: 6, intervalMs: 60 }));
    expect(await textOf(await ai.chat.completions.create(chatStream))).toBe('Hello world! more more more');
  });

  it('does not count the time the caller spends between reads', async () => {
    const { server, ai } = await harness(realTime(100));
    server.enqueue(faults.stream({ chunks: 3 }));
    let text = '';
    for await (const chunk of await ai.chat.completions.create(chatStream)) {
      text += chunk.choices[0]?.delta?.content ?? '';
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(text).toBe('Hello world!');
  });

  it('a stalled stream counts against the circuit breaker', async () => {
    const { server, ai } = await harness({ ...realTime(40), circuitBreaker: { consecutiveFailures: 1 } });
    server.enqueue(faults.stream({ stallAfter: 1 }));
    await rejectionOf(textOf(await ai.chat.completions.create(chatStream)));
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('open');
  });
});

describe('how streams end', () => {
  it('an error event mid-stream reaches the caller as an APIError and counts for the breaker', async () => {
    const { server, ai } = await harness({ circuitBreaker: { consecutiveFailures: 1 } });
    server.enqueue(faults.stream({ chunks: 3, errorAfter: 1, error: { message: 'boom', type: 'server_error', code: 'server_error' } }));
    const error = await rejectionOf(textOf(await ai.chat.completions.create(chatStream)));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    await until(() => ai.resilience.circuits()['gpt-4.1-mini'] === 'open');
  });

  it("an OpenRouter error chunk mid-stream (error next to choices) reaches the caller as the SDK's APIError and counts for the breaker", async () => {
    const { server, ai } = await harness({ circuitBreaker: { consecutiveFailures: 1 } });
    server.enqueue(faults.stream({ chunks: 3, errorAfter: 2, errorFormat: 'openrouter', doneAfterError: true, error: { message: 'Provider disconnected', code: 'server_error' } }));
    const error = await rejectionOf(textOf(await ai.chat.completions.create(chatStream)));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ message: 'Provider disconnected', code: 'server_error', status: undefined });
    await until(() => ai.resilience.circuits()['gpt-4.1-mini'] === 'open');
  });

  it("hands over what the SDK hands over in its `events` mode (the Agents API): an error-looking first event is not retried", async () => {
    const { server, ai, raw } = await harness();
    const body = 'event: error\ndata: {"error":{"message":"tool failed"}}\n\nevent: session.idle\ndata: {"type":"session.idle"}\n\ndata: [DONE]\n\n';
    server.enqueue(...[raw, ai].map(() => faults.ok(body, { 'content-type': 'text/event-stream' })));
    for (const client of [raw, ai]) {
      const options = { body: { input: 'hi', stream: true }, stream: true, __streamMode: 'events' } as OpenAI.RequestOptions;
      const events: unknown[] = [];
      const stream = (await client.post('/agents/sessions', options)) as AsyncIterable<unknown>;
      for await (const event of stream) events.push(event);
      expect(events).toEqual([{ error: { message: 'tool failed' } }, { type: 'session.idle' }]);
    }
    expect(server.requests).toHaveLength(2);
  });

  const plan = responsesStreamPlan({ id: 'resp_1', model: 'gpt-4.1-mini', chunks: 2 });
  const wholeStream = [...plan.preamble, ...plan.content, ...plan.tail, plan.terminator].join('');

  /** A Responses stream whose first attempt answers `first`, the second the whole stream: what reaches the caller. */
  async function afterFirstAttempt(first: string): Promise<{ attempts: number; events: string[] }> {
    const { fetch, calls } = scriptedFetch([{ chunks: [first] }, { chunks: [wholeStream] }]);
    const { clock, ai } = await harness({}, { fetch });
    const events: string[] = [];
    for await (const event of await drive(clock, ai.responses.create(responsesStream))) events.push(event.type);
    return { attempts: calls.length, events };
  }

  /** The first attempt failed and was retried: the caller saw the second one only, whole. */
  function expectRetriedWhole({ attempts, events }: { attempts: number; events: string[] }): void {
    expect(attempts).toBe(2);
    expect(events.filter((type) => type === 'response.created')).toHaveLength(1);
    expect(events.at(-1)).toBe('response.completed');
  }

  it('a Responses stream that ends cleanly after lifecycle events only fails the attempt, and is retried', async () => {
    // response.created ... content_part.added, then a clean end (a proxy closing an idle socket, say).
    expectRetriedWhole(await afterFirstAttempt(plan.preamble.join('')));
  });

  it.each(['image_generation', 'image_edit'])('an Images API stream (%s) ends complete after its .completed event, as with the bare SDK', async (kind) => {
    const body =
      sseFrame({ type: `${kind}.partial_image`, b64_json: 'AAAA', partial_image_index: 0 }, `${kind}.partial_image`) +
      sseFrame({ type: `${kind}.completed`, b64_json: 'BBBB', usage: { total_tokens: 1 } }, `${kind}.completed`);
    // Every request gets the same stream (the SDK also probes `fetch` with a data: URL before a multipart upload).
    const fetch = async () => new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    const { ai, raw } = await harness({}, { fetch });
    const truncated: StreamTruncatedEvent[] = [];
    ai.resilience.on('streamTruncated', (event) => truncated.push(event));
    for (const client of [raw, ai]) {
      const types: string[] = [];
      const stream =
        kind === 'image_generation'
          ? await client.images.generate({ model: 'gpt-image-1', prompt: 'owl', stream: true, partial_images: 1 })
          : await client.images.edit({ model: 'gpt-image-1', prompt: 'owl', image: new File(['png'], 'owl.png'), stream: true, partial_images: 1 });
      for await (const event of stream) types.push(event.type);
      expect(types).toEqual([`${kind}.partial_image`, `${kind}.completed`]);
    }
    expect(truncated).toEqual([]);
  });

  describe('response.failed (server_error)', () => {
    const failed = sseFrame(
      {
        type: 'response.failed',
        sequence_number: 9,
        response: { ...responseObject({ id: 'resp_1', model: 'gpt-4.1-mini', status: 'failed', output: [] }), error: { code: 'server_error', message: 'The server had an error.' } },
      },
      'response.failed',
    );

    it('arriving before any output fails the attempt: retried, as a leading error event is', async () => {
      expectRetriedWhole(await afterFirstAttempt(plan.preamble.slice(0, 2).join('') + failed));
    });

    it('arriving before any output counts against the circuit breaker, and fails with its code when not retried', async () => {
      const { fetch } = scriptedFetch([{ chunks: [plan.preamble.slice(0, 2).join('') + failed] }]);
      const { ai } = await harness({ retry: false, circuitBreaker: { consecutiveFailures: 1 } }, { fetch });
      const error = await rejectionOf(ai.responses.create(responsesStream));
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).toMatchObject({ code: 'server_error', message: 'The server had an error.' });
      expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('open');
    });

    it('arriving after output ends the stream, and counts against the circuit breaker', async () => {
      const { fetch } = scriptedFetch([{ chunks: [[...plan.preamble, ...plan.content].join('') + failed] }]);
      const { ai } = await harness({ circuitBreaker: { consecutiveFailures: 1 } }, { fetch });
      const events: string[] = [];
      for await (const event of await ai.responses.create(responsesStream)) events.push(event.type);
      expect(events.at(-1)).toBe('response.failed');
      await until(() => ai.resilience.circuits()['gpt-4.1-mini'] === 'open');
    });
  });

  it("streaming.onTruncated: 'end' ends it quietly, still reporting it", async () => {
    const { server, ai } = await harness({ streaming: { onTruncated: 'end' } });
    server.enqueue(faults.stream({ chunks: 3, omitDone: true }));
    const truncated: StreamTruncatedEvent[] = [];
    ai.resilience.on('streamTruncated', (event) => truncated.push(event));
    expect(await textOf(await ai.chat.completions.create(chatStream))).toBe('Hello world!');
    expect(truncated).toHaveLength(1);
  });

  it('a Responses stream that keeps its socket open after response.completed ends cleanly', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ keepOpen: true }));
    const events: string[] = [];
    for await (const event of await ai.responses.create(responsesStream)) events.push(event.type);
    expect(events.at(-1)).toBe('response.completed');
    await until(() => server.openRequests === 0);
  });

  it('caller break and abort release everything at once, with no timer left', async () => {
    const { server, clock, ai } = await harness({ bulkhead: { maxConcurrent: 1 }, timeout: { idle: 30_000 } });
    server.enqueue(faults.stream({ chunks: 3, stallAfter: 1 }), faults.stream({ chunks: 3, stallAfter: 1 }));
    for await (const _chunk of await ai.chat.completions.create(chatStream)) break;
    await until(() => server.openRequests === 0);
    expect(ai.resilience.load().active).toBe(0);
    expect(clock.pending()).toEqual([]);

    const controller = new AbortController();
    const stream = await ai.chat.completions.create(chatStream, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    // The role chunk and "Hello" (in one read or two); the body reads nothing ahead, so the third waits.
    await iterator.next();
    await iterator.next();
    const pending = iterator.next();
    await clock.until((timers) => timers.some((timer) => timer.delay === 30_000));
    controller.abort();
    await pending.catch(() => undefined);
    await until(() => server.openRequests === 0);
    expect(ai.resilience.load().active).toBe(0);
    expect(clock.pending()).toEqual([]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('usage reported at the end of a stream', () => {
  it('a chat stream with stream_options.include_usage adds its usage to stats(), as a JSON answer does', async () => {
    const { ai } = await harness();
    const stream = await ai.chat.completions.create({ ...chatStream, stream_options: { include_usage: true } });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage?.total_tokens).toBeGreaterThan(0);
    expect(ai.resilience.stats().total.usage).toEqual({
      inputTokens: usage!.prompt_tokens, outputTokens: usage!.completion_tokens, totalTokens: usage!.total_tokens,
    });
  });

  it("a Responses stream adds the usage of response.completed's response to stats()", async () => {
    const { ai } = await harness();
    let usage: OpenAI.Responses.ResponseUsage | undefined;
    for await (const event of await ai.responses.create(responsesStream)) if (event.type === 'response.completed') usage = event.response.usage;
    expect(usage?.total_tokens).toBeGreaterThan(0);
    expect(ai.resilience.stats().total.usage.totalTokens).toBe(usage!.total_tokens);
  });

  it("corrects the rate limiter's token reservation, as a JSON answer's usage does", async () => {
    // 60 000 tokens per minute; max_tokens 900 reserves about 900 tokens up front.
    const { ai } = await harness({ rateLimit: { tokensPerMinute: 60_000, learn: false } });
    const waits: number[] = [];
    ai.resilience.on('rateLimitWait', (event) => waits.push(event.delay));
    const stream = await ai.chat.completions.create({ ...chatStream, max_tokens: 900, stream_options: { include_usage: true } });
    let used = 0;
    for await (const chunk of stream) if (chunk.usage) used = chunk.usage.total_tokens;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(30);
    // Corrected to the tokens used, the bucket has room for a second call of about 900 at once; left at
    // the estimate, that call would wait for tokens that were never used.
    const next = ai.chat.completions.create({ ...chatParams, max_tokens: 900 });
    // It goes at once: a wait for tokens would be on the fake clock, which nothing advances here, and the
    // call would never settle.
    await next;
    expect(waits).toEqual([]);
  });
});
