import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import OpenAI from 'openai';
import { faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';

let server: FaultServer;
let client: OpenAI;
const chatStream = (extra: { stream_options?: { include_usage: boolean } } = {}) =>
  client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, ...extra });
const responseStream = () => client.responses.create({ model: 'gpt-4o', input: 'hi', stream: true });
const caught = (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.unreachable('expected a rejection'), (e: unknown) => e);
const textOf = (chunks: OpenAI.Chat.Completions.ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

/** Iterates `stream` into `into`, resolving with the error it threw (or undefined). */
async function drain<T>(stream: AsyncIterable<T>, into: T[] = []): Promise<unknown> {
  try {
    for await (const item of stream) into.push(item);
    return undefined;
  } catch (e) {
    return e;
  }
}

/** Resolves `'pending'` if `p` has not settled within `ms` real milliseconds. */
const pendingAfter = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => 'settled', () => 'settled'), new Promise((r) => setTimeout(() => r('pending'), ms))]);

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}

beforeAll(async () => {
  server = await startFaultServer();
  client = new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

describe('default streams', () => {
  it('chat: role chunk, 3 content deltas, finish chunk, [DONE]', async () => {
    const { data: stream, response } = await chatStream().withResponse();
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    expect(await drain(stream, chunks)).toBeUndefined();
    expect(chunks).toHaveLength(5);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(textOf(chunks)).toBe('Hello world!');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]?.id)).toBe(true);
    expect(server.requests[0]?.body).toMatchObject({ stream: true });
    await until(() => server.openRequests === 0);
  });

  it('chat: usage chunk with stream_options.include_usage, and the chunk count is configurable', async () => {
    server.enqueue(faults.stream({ chunks: 5 }));
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    await drain(await chatStream({ stream_options: { include_usage: true } }), chunks);
    expect(textOf(chunks)).toBe('Hello world! more more');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(5);
  });

  it('responses: created → deltas → completed, with event lines', async () => {
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    expect(await drain(await responseStream(), events)).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(completed.response.status).toBe('completed');
    const raw = await (await fetch(`${server.url}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"stream":true}' })).text();
    expect(raw).toContain('event: response.output_text.delta\ndata: {"type":"response.output_text.delta"');
  });

  it('scripted non-stream faults apply to streaming requests; ok() gives the default stream', async () => {
    server.enqueue(faults.rateLimited({ retryAfterMs: 5 }), faults.reset(), faults.ok());
    expect(await caught(chatStream())).toBeInstanceOf(OpenAI.RateLimitError);
    expect(await caught(chatStream())).toBeInstanceOf(OpenAI.APIConnectionError);
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    await drain(await chatStream(), chunks);
    expect(textOf(chunks)).toBe('Hello world!');
  });
});

describe('stream faults', () => {
  it('dropAfter: chunks arrive, then iteration throws on the truncated body', async () => {
    server.enqueue(faults.stream({ dropAfter: 2 }));
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    const err = await drain(await chatStream(), chunks);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(OpenAI.APIError);
    expect(textOf(chunks)).toBe('Hello world');
  });

  it('errorAfter (chat): in-band error becomes an APIError', async () => {
    server.enqueue(faults.stream({ errorAfter: 1, error: { message: 'boom', type: 'server_error', code: 'stream_broke' } }));
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    const err = (await drain(await chatStream(), chunks)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ message: 'boom', code: 'stream_broke', type: 'server_error' });
    expect(textOf(chunks)).toBe('Hello');
  });

  it("errorFormat: 'openrouter' frames it as OpenRouter does, and doneAfterError sends [DONE] after it", async () => {
    server.enqueue(faults.stream({ errorAfter: 2, errorFormat: 'openrouter', doneAfterError: true, error: { message: 'Provider disconnected', code: 'server_error' } }));
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    const err = (await drain(await chatStream(), chunks)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ message: 'Provider disconnected', code: 'server_error' });
    expect(textOf(chunks)).toBe('Hello world');
    server.enqueue(faults.stream({ errorAfter: 2, errorFormat: 'openrouter', doneAfterError: true }));
    const raw = await (await fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{"stream":true}' })).text();
    const frames = raw.trim().split('\n\n');
    expect(JSON.parse(frames.at(-2)!.replace(/^data: /, ''))).toMatchObject({
      object: 'chat.completion.chunk',
      error: { code: 'server_error' },
      choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }],
    });
    expect(frames.at(-1)).toBe('data: [DONE]');
  });

  it('errorAfter (responses): `event: error` becomes an APIError', async () => {
    server.enqueue(faults.stream({ errorAfter: 2 }));
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    const err = (await drain(await responseStream(), events)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.code).toBe('server_error');
    expect(events.filter((e) => e.type === 'response.output_text.delta')).toHaveLength(2);
  });

  it('dropAfterEvents / errorAfterEvents count every event, not only content chunks', async () => {
    server.enqueue(faults.stream({ dropAfterEvents: 1 }), faults.stream({ dropAfterEvents: 0 }), faults.stream({ errorAfterEvents: 10 }));
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    expect(await drain(await chatStream(), chunks)).toMatchObject({ message: 'terminated' });
    expect(chunks.map((c) => c.choices[0]?.delta.role)).toEqual(['assistant']); // the role chunk only
    expect(await drain(await chatStream(), [])).toMatchObject({ message: 'terminated' }); // headers, then the cut
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    expect(await drain(await responseStream(), events)).toBeInstanceOf(OpenAI.APIError);
    expect(events.map((e) => e.type).slice(-2)).toEqual(['response.content_part.done', 'response.output_item.done']);
    server.enqueue(faults.stream({ errorAfterEvents: 10 }));
    const raw = await (await fetch(`${server.url}/responses`, { method: 'POST', body: '{"stream":true}' })).text();
    expect(JSON.parse(raw.trim().split('\n\n').at(-1)!.split('data: ')[1]!)).toMatchObject({ type: 'error', sequence_number: 10 });
  });

  it('stallAfterEvents: holds the stream just before its terminator', async () => {
    server.enqueue(faults.stream({ stallAfterEvents: 10 }));
    const controller = new AbortController();
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    let ended = false;
    const done = drain(await client.responses.create({ model: 'gpt-4o', input: 'hi', stream: true }, { signal: controller.signal }), events).finally(() => (ended = true));
    await until(() => events.length === 10);
    expect(events.at(-1)?.type).toBe('response.output_item.done');
    expect(ended).toBe(false);
    controller.abort();
    expect(await done).toBeUndefined();
    await until(() => server.openRequests === 0);
  });

  it('omitDone: iteration ends without error and without a terminator', async () => {
    server.enqueue(...[1, 2, 3].map(() => faults.stream({ omitDone: true })));
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    expect(await drain(await chatStream(), chunks)).toBeUndefined();
    expect(textOf(chunks)).toBe('Hello world!');
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    expect(await drain(await responseStream(), events)).toBeUndefined();
    expect(events.at(-1)?.type).toBe('response.output_item.done');
    const raw = await (await fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{}' })).text();
    expect(raw).toContain('"finish_reason":"stop"');
    expect(raw).not.toContain('[DONE]');
  });

  it('stallAfter: sends n chunks then holds the socket open until the client aborts', async () => {
    server.enqueue(faults.stream({ stallAfter: 1 }));
    const stream = await chatStream();
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).value?.choices[0]?.delta.role).toBe('assistant');
    expect((await it.next()).value?.choices[0]?.delta.content).toBe('Hello');
    const next = it.next();
    expect(await pendingAfter(next, 30)).toBe('pending');
    expect(server.openRequests).toBe(1);
    stream.controller.abort();
    expect((await next).done).toBe(true);
    await until(() => server.openRequests === 0);
  });

  it('stallBeforeFirstChunk: headers arrive, no event ever does', async () => {
    server.enqueue(faults.stream({ stallBeforeFirstChunk: true, headers: { 'x-extra': '1' } }));
    const { data: stream, response } = await chatStream().withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-extra')).toBe('1');
    const next = stream[Symbol.asyncIterator]().next();
    expect(await pendingAfter(next, 30)).toBe('pending');
    stream.controller.abort();
    await next;
    await until(() => server.openRequests === 0);
  });

  it('keepOpen: everything including [DONE] is sent, but the response never ends', async () => {
    server.enqueue(faults.stream({ keepOpen: true }));
    const controller = new AbortController();
    const res = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{}', signal: controller.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('data: [DONE]\n\n')) text += (await reader.read()).value ?? '';
    expect(await pendingAfter(reader.read(), 30)).toBe('pending');
    expect(server.openRequests).toBe(1);
    controller.abort();
    await until(() => server.openRequests === 0);
  });

  it('intervalMs spaces the content chunks in real time', async () => {
    server.enqueue(faults.stream({ chunks: 3, intervalMs: 15 }));
    const start = Date.now();
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    await drain(await chatStream(), chunks);
    expect(Date.now() - start).toBeGreaterThanOrEqual(25);
    expect(textOf(chunks)).toBe('Hello world!');
  });
});
