import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import OpenAI, { AzureOpenAI, toFile } from 'openai';
import { resilient, type RetryEvent } from '../../src/index.js';
import {
  FakeClock,
  createFaultFetch,
  faults,
  startFaultServer,
  type FaultFetch,
  type FaultServer,
} from '../../src/testing/index.js';

const BASE = 'https://api.openai.test/v1';
let ff: FaultFetch;
let client: OpenAI;

const chat = (opts?: OpenAI.RequestOptions) =>
  client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, opts);
const chatStream = (extra: { stream_options?: { include_usage: boolean } } = {}, opts?: OpenAI.RequestOptions) =>
  client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, ...extra }, opts);
const responseStream = () => client.responses.create({ model: 'gpt-4o', input: 'hi', stream: true });
const caught = (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.unreachable('expected a rejection'), (e: unknown) => e);
const textOf = (chunks: OpenAI.Chat.Completions.ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
const post = (path: string, body: unknown, init: RequestInit = {}) =>
  ff.fetch(`${BASE}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });

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

/**
 * The rejection of `p`, which nothing but the abort or the timeout under test can end (a stall never
 * settles on its own): its rejection is the proof, without measuring how soon it came (which depends on
 * how busy the machine is). Were the abort or timeout not honoured, the test would time out.
 */
const rejectionAfterAbort = (p: Promise<unknown>): Promise<unknown> => caught(p);

beforeEach(() => {
  ff = createFaultFetch();
  client = new OpenAI({ apiKey: 'sk-test', baseURL: BASE, fetch: ff.fetch, maxRetries: 0 });
});
afterEach(async () => {
  expect(ff.openRequests).toBe(0); // every test ends its requests
  await ff.close();
});

describe('default successes (no sockets)', () => {
  it('answers chat completions with the fault server’s body and headers, and records the request', async () => {
    const { data, response } = await chat().withResponse();
    expect(data).toMatchObject({ id: 'chatcmpl-1', object: 'chat.completion', model: 'gpt-4o', system_fingerprint: 'fp_fault_server' });
    expect(data.choices[0]?.message.content).toBe('ok');
    expect(response.headers.get('x-request-id')).toBe('req_1');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('499');
    expect(response.headers.get('content-length')).toMatch(/^\d+$/);
    expect(response.url).toBe(`${BASE}/chat/completions`);

    expect(ff.requests).toHaveLength(1);
    const [req] = ff.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/chat/completions', rawPath: '/v1/chat/completions', query: {}, requestId: 'req_1' });
    expect(req?.body).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(req?.headers['authorization']).toBe('Bearer sk-test');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(Object.keys(req!.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(ff.requestsTo('/v1/chat/completions')).toHaveLength(1);
    expect(ff.requestsTo(/^\/models/)).toHaveLength(0);
  });

  it('answers responses, embeddings (base64 decoded by the SDK), models, pagination and unknown routes', async () => {
    expect((await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' })).output_text).toBe('ok');
    const b64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'a', encoding_format: 'float' });
    expect(b64.data.map((d) => d.embedding.length)).toEqual([8, 8]);
    expect(b64.data[0]?.embedding[0]).toBeCloseTo(floats.data[0]!.embedding[0]!, 4);
    expect((await client.models.retrieve('gpt-4o-mini')).id).toBe('gpt-4o-mini');

    const ids: string[] = [];
    for await (const file of client.files.list({ limit: 2 })) ids.push(file.id);
    expect(ids).toEqual(['file-1', 'file-2', 'file-3', 'file-4', 'file-5']);
    expect(ff.requestsTo('/files').map((r) => r.query)).toEqual([{ limit: '2' }, { limit: '2', after: 'file-2' }, { limit: '2', after: 'file-4' }]);

    const res = await ff.fetch(`${BASE}/nope`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { message: 'Invalid URL (POST /v1/nope)', code: 'unknown_url' } });
  });

  it('reads multipart uploads and Request objects', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from('{}\n'), 'train.jsonl'), purpose: 'batch' });
    expect(file).toMatchObject({ object: 'file', filename: 'train.jsonl', purpose: 'batch', bytes: expect.any(Number) });
    expect(ff.requestsTo('/files')[0]?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);

    const res = await ff.fetch(new Request(`${BASE}/embeddings?x=1`, { method: 'POST', headers: { 'X-Custom': 'A' }, body: '{"input":"a"}' }));
    expect(res.status).toBe(200);
    expect(ff.requestsTo('/embeddings')[0]).toMatchObject({ query: { x: '1' }, headers: { 'x-custom': 'A' }, body: '{"input":"a"}' });
  });

  it('records the Azure deployment layout (AzureOpenAI with a fetch)', async () => {
    const azure = new AzureOpenAI({
      endpoint: 'https://example.openai.azure.com',
      apiKey: 'k',
      apiVersion: '2024-10-21',
      deployment: 'dep',
      fetch: ff.fetch,
      maxRetries: 0,
    });
    expect((await azure.chat.completions.create({ model: 'gpt-4o', messages: [] })).choices[0]?.message.content).toBe('ok');
    expect(ff.requests[0]).toMatchObject({ path: '/chat/completions', deployment: 'dep', query: { 'api-version': '2024-10-21' } });
    expect(ff.requests[0]?.headers['api-key']).toBe('k');
  });
});

describe('error faults', () => {
  it('rateLimited: OpenAI’s 429 with exactly the requested retry headers', async () => {
    ff.enqueue(faults.rateLimited({ retryAfterMs: 20, resetRequests: '1s' }));
    const e = (await caught(chat())) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests', requestID: 'req_1' });
    expect(e.headers.get('retry-after-ms')).toBe('20');
    expect(e.headers.get('x-ratelimit-reset-requests')).toBe('1s');
    expect(e.headers.get('retry-after')).toBeNull();
  });

  it.each([
    ['insufficientQuota', faults.insufficientQuota(), OpenAI.RateLimitError, 429, 'insufficient_quota'],
    ['badRequest', faults.badRequest({ code: 'invalid_value', param: 'model' }), OpenAI.BadRequestError, 400, 'invalid_value'],
    ['contextLengthExceeded', faults.contextLengthExceeded(), OpenAI.BadRequestError, 400, 'context_length_exceeded'],
    ['unauthorized', faults.unauthorized(), OpenAI.AuthenticationError, 401, 'invalid_api_key'],
    ['forbidden', faults.forbidden(), OpenAI.PermissionDeniedError, 403, 'unsupported_country_region_territory'],
    ['notFound', faults.notFound({ model: 'gpt-9' }), OpenAI.NotFoundError, 404, 'model_not_found'],
    ['conflict', faults.conflict(), OpenAI.ConflictError, 409, null],
    ['requestTimeout', faults.requestTimeout(), OpenAI.APIError, 408, null],
    ['unprocessable', faults.unprocessable(), OpenAI.UnprocessableEntityError, 422, null],
    ['serverError', faults.serverError(), OpenAI.InternalServerError, 500, null],
    ['serverError(504)', faults.serverError(504), OpenAI.InternalServerError, 504, null],
    ['overloaded', faults.overloaded(), OpenAI.InternalServerError, 503, null],
    ['status(418)', faults.status(418, { code: 'teapot' }), OpenAI.APIError, 418, 'teapot'],
  ] as const)('%s maps to the SDK error class', async (_name, fault, cls, status, code) => {
    ff.enqueue(fault);
    const err = (await caught(chat())) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(cls);
    expect(err.status).toBe(status);
    expect(err.code).toBe(code);
    expect(ff.requests).toHaveLength(1);
  });

  it('honours x-should-retry and verbatim bodies; a null-body status has no body', async () => {
    const retrying = new OpenAI({ apiKey: 'sk-test', baseURL: BASE, fetch: ff.fetch, maxRetries: 2 });
    ff.enqueue(faults.serverError(500, { shouldRetry: false }));
    expect(await caught(retrying.models.list())).toBeInstanceOf(OpenAI.InternalServerError);
    expect(ff.requests).toHaveLength(1);

    ff.enqueue(faults.serverError(502, { body: '<html>502 Bad Gateway</html>', headers: { 'content-type': 'text/html' } }), faults.status(204));
    const html = await post('/chat/completions', {});
    expect(html.status).toBe(502);
    expect(html.headers.get('content-type')).toBe('text/html');
    expect(await html.text()).toBe('<html>502 Bad Gateway</html>');
    const empty = await post('/chat/completions', {});
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it('explicit ok bodies, headers and status', async () => {
    ff.enqueue(faults.ok({ id: 'custom', object: 'model', created: 1, owned_by: 'me' }, { 'x-custom': 'yes' }, 200));
    const { data, response } = await client.models.retrieve('anything').withResponse();
    expect(data.owned_by).toBe('me');
    expect(response.headers.get('x-custom')).toBe('yes');
  });
});

describe('transport faults', () => {
  it('reset rejects like undici (fetch failed, ECONNRESET); the SDK raises APIConnectionError', async () => {
    ff.enqueue(faults.reset(), faults.reset());
    const raw = (await caught(ff.fetch(`${BASE}/models`))) as TypeError;
    expect(raw).toBeInstanceOf(TypeError);
    expect(raw.message).toBe('fetch failed');
    expect(raw.cause).toMatchObject({ message: 'socket hang up', code: 'ECONNRESET' });

    const err = await caught(chat());
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(err).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(ff.requests).toHaveLength(2);
    expect((await chat()).choices[0]?.message.content).toBe('ok');
  });

  it('stall never settles until the signal aborts, then rejects promptly with the AbortError', async () => {
    ff.enqueue(faults.stall());
    const controller = new AbortController();
    const pending = ff.fetch(`${BASE}/models`, { signal: controller.signal });
    expect(await pendingAfter(pending, 30)).toBe('pending');
    expect(ff.requests).toHaveLength(1);
    expect(ff.openRequests).toBe(1);
    controller.abort();
    const err = await rejectionAfterAbort(pending);
    expect(err).toBeInstanceOf(DOMException);
    expect(err).toHaveProperty('name', 'AbortError');
    expect(ff.openRequests).toBe(0);
  });

  it('stall rejects with the signal’s own reason, and an already aborted signal is never recorded', async () => {
    ff.enqueue(faults.stall());
    const reason = new Error('mine');
    const pending = ff.fetch(`${BASE}/models`, { signal: AbortSignal.timeout(20) });
    expect(await caught(pending)).toHaveProperty('name', 'TimeoutError');
    expect(await caught(ff.fetch(`${BASE}/models`, { signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(ff.requests).toHaveLength(1);
  });

  it('stall through the SDK: its timeout surfaces as APIConnectionTimeoutError, its abort as APIUserAbortError', async () => {
    ff.enqueue(faults.stall(), faults.stall());
    expect(await rejectionAfterAbort(chat({ timeout: 30 }))).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    const controller = new AbortController();
    const call = chat({ signal: controller.signal });
    await ff.waitForRequests(2);
    controller.abort();
    expect(await rejectionAfterAbort(call)).toBeInstanceOf(OpenAI.APIUserAbortError);
  });

  it('delay waits real time, then succeeds or applies `then`; an SDK timeout cuts it short', async () => {
    ff.enqueue(faults.delay(30), faults.delay(5, faults.unauthorized()), faults.delay(60_000));
    const start = Date.now();
    expect((await chat()).choices[0]?.message.content).toBe('ok');
    expect(Date.now() - start).toBeGreaterThanOrEqual(25);
    expect(await caught(chat())).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await rejectionAfterAbort(chat({ timeout: 20 }))).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('stallBody: headers and half the JSON, then the body waits until the abort', async () => {
    ff.enqueue(faults.stallBody());
    const controller = new AbortController();
    const res = await post('/chat/completions', {}, { signal: controller.signal });
    expect(res.status).toBe(200);
    const length = Number(res.headers.get('content-length'));
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.value!.byteLength).toBe(Math.floor(length / 2));
    const next = reader.read();
    expect(await pendingAfter(next, 30)).toBe('pending');
    controller.abort();
    expect(await rejectionAfterAbort(next)).toHaveProperty('name', 'AbortError');
  });

  it('dropBody: half the JSON, then the body errors with TypeError: terminated', async () => {
    ff.enqueue(faults.dropBody(), faults.dropBody());
    const err = (await caught((await post('/chat/completions', {})).json())) as TypeError;
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('terminated');
    expect(err.cause).toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(await caught(chat())).toBeInstanceOf(Error);
  });
});

describe('streams', () => {
  it('chat: the default stream, with usage and a configurable chunk count', async () => {
    const { data: stream, response } = await chatStream().withResponse();
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    expect(await drain(stream, chunks)).toBeUndefined();
    expect(chunks).toHaveLength(5);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(textOf(chunks)).toBe('Hello world!');

    ff.enqueue(faults.stream({ chunks: 5 }));
    const more: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    await drain(await chatStream({ stream_options: { include_usage: true } }), more);
    expect(textOf(more)).toBe('Hello world! more more');
    expect(more.at(-1)?.usage?.completion_tokens).toBe(5);
  });

  it('responses: created → deltas → completed', async () => {
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
  });

  it('dropAfter: every chunk sent before the cut is read, then iteration throws TypeError: terminated', async () => {
    ff.enqueue(faults.stream({ dropAfter: 2 }), faults.stream({ dropAfter: 1 }));
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    const err = await drain(await chatStream(), chunks);
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toHaveProperty('message', 'terminated');
    expect(textOf(chunks)).toBe('Hello world');

    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    expect(await drain(await responseStream(), events)).toHaveProperty('message', 'terminated');
    expect(events.filter((e) => e.type === 'response.output_text.delta')).toHaveLength(1);
  });

  it('errorAfter: in-band errors become APIErrors (chat and responses)', async () => {
    ff.enqueue(faults.stream({ errorAfter: 1, error: { message: 'boom', code: 'stream_broke' } }), faults.stream({ errorAfter: 2 }));
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    const err = (await drain(await chatStream(), chunks)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ message: 'boom', code: 'stream_broke' });
    expect(textOf(chunks)).toBe('Hello');

    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    expect(await drain(await responseStream(), events)).toBeInstanceOf(OpenAI.APIError);
    expect(events.filter((e) => e.type === 'response.output_text.delta')).toHaveLength(2);
  });

  it('omitDone: the body ends without its terminator', async () => {
    ff.enqueue(faults.stream({ omitDone: true }), faults.stream({ omitDone: true }));
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    expect(await drain(await responseStream(), events)).toBeUndefined();
    expect(events.at(-1)?.type).toBe('response.output_item.done');
    const raw = await (await post('/chat/completions', {})).text();
    expect(raw).toContain('"finish_reason":"stop"');
    expect(raw).not.toContain('[DONE]');
  });

  it('stallAfter: n chunks, then nothing until the SDK aborts the stream', async () => {
    ff.enqueue(faults.stream({ stallAfter: 1 }));
    const stream = await chatStream();
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.choices[0]?.delta.role).toBe('assistant');
    expect((await iterator.next()).value?.choices[0]?.delta.content).toBe('Hello');
    const next = iterator.next();
    expect(await pendingAfter(next, 30)).toBe('pending');
    expect(ff.openRequests).toBe(1);
    stream.controller.abort();
    expect((await next).done).toBe(true); // the SDK ends an aborted stream quietly
    expect(ff.openRequests).toBe(0);
  });

  it('stallBeforeFirstChunk: the Response resolves with headers, the body errors with AbortError on abort', async () => {
    ff.enqueue(faults.stream({ stallBeforeFirstChunk: true, headers: { 'x-extra': '1' } }));
    const controller = new AbortController();
    const res = await post('/chat/completions', { stream: true }, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-extra')).toBe('1');
    const read = res.body!.getReader().read();
    expect(await pendingAfter(read, 30)).toBe('pending');
    controller.abort();
    expect(await rejectionAfterAbort(read)).toHaveProperty('name', 'AbortError');
    expect(ff.openRequests).toBe(0);
  });

  it('keepOpen: everything including [DONE] arrives, but the body never closes', async () => {
    ff.enqueue(faults.stream({ keepOpen: true }));
    const controller = new AbortController();
    const res = await post('/chat/completions', {}, { signal: controller.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('data: [DONE]\n\n')) text += (await reader.read()).value ?? '';
    const read = reader.read();
    expect(await pendingAfter(read, 30)).toBe('pending');
    expect(ff.openRequests).toBe(1);
    controller.abort();
    expect(await rejectionAfterAbort(read)).toHaveProperty('name', 'AbortError');
  });

  it('cancelling the body ends the request', async () => {
    ff.enqueue(faults.stream({ keepOpen: true }));
    const res = await post('/chat/completions', {});
    expect(ff.openRequests).toBe(1);
    await res.body!.cancel();
    expect(ff.openRequests).toBe(0);
  });

  it('intervalMs spaces the content chunks in real time, and breaking out of the loop ends the request', async () => {
    ff.enqueue(faults.stream({ chunks: 3, intervalMs: 15 }), faults.stream({ chunks: 50, intervalMs: 5 }));
    const start = Date.now();
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    await drain(await chatStream(), chunks);
    expect(Date.now() - start).toBeGreaterThanOrEqual(25);
    expect(textOf(chunks)).toBe('Hello world!');

    for await (const _chunk of await chatStream()) break;
    expect(ff.openRequests).toBe(0);
  });

  it('scripted non-stream faults apply to streaming requests; ok() gives the default stream', async () => {
    ff.enqueue(faults.rateLimited({ retryAfterMs: 5 }), faults.reset(), faults.ok());
    expect(await caught(chatStream())).toBeInstanceOf(OpenAI.RateLimitError);
    expect(await caught(chatStream())).toBeInstanceOf(OpenAI.APIConnectionError);
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    await drain(await chatStream(), chunks);
    expect(textOf(chunks)).toBe('Hello world!');
  });
});

describe('no timer outlives a request (fake timers count the real ones)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delay runs on a timer (advanceable), which an abort clears', async () => {
    ff.enqueue(faults.delay(5_000), faults.delay(60_000));
    const done = ff.fetch(`${BASE}/models`);
    await vi.advanceTimersByTimeAsync(5_000);
    expect((await done).status).toBe(200);
    expect(vi.getTimerCount()).toBe(0);

    const controller = new AbortController();
    const aborted = caught(ff.fetch(`${BASE}/models`, { signal: controller.signal }));
    await vi.waitFor(() => expect(vi.getTimerCount()).toBe(1));
    controller.abort();
    expect(await aborted).toHaveProperty('name', 'AbortError');
    expect(vi.getTimerCount()).toBe(0);
    expect(ff.openRequests).toBe(0);
  });

  it('an interval stream aborted between chunks leaves no timer', async () => {
    ff.enqueue(faults.stream({ chunks: 10, intervalMs: 1_000 }));
    const controller = new AbortController();
    const res = await post('/chat/completions', {}, { signal: controller.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('Hello')) text += (await reader.read()).value ?? '';
    const next = reader.read();
    await vi.waitFor(() => expect(vi.getTimerCount()).toBe(1)); // waiting for ' world'
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await next).value).toContain(' world');
    const stalled = reader.read();
    await vi.waitFor(() => expect(vi.getTimerCount()).toBe(1));
    controller.abort();
    expect(await caught(stalled)).toHaveProperty('name', 'AbortError');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() settles stalled requests and held bodies and clears every timer', async () => {
    ff.enqueue(faults.stall(), faults.delay(60_000), faults.stream({ stallAfter: 0 }));
    const stalled = caught(ff.fetch(`${BASE}/models`));
    const delayed = caught(ff.fetch(`${BASE}/models`));
    const body = caught((await post('/chat/completions', {})).text());
    await vi.waitFor(() => expect(ff.openRequests).toBe(3));
    const waiting = caught(ff.waitForRequests(4));

    await ff.close();
    await ff.close();
    expect(ff.openRequests).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(await stalled).toMatchObject({ name: 'TypeError', message: 'fetch failed', cause: { code: 'UND_ERR_SOCKET' } });
    expect(await delayed).toMatchObject({ message: 'fetch failed' });
    expect(await body).toMatchObject({ name: 'TypeError', message: 'terminated' });
    expect(await waiting).toHaveProperty('message', 'fault fetch closed');
    expect(await caught(ff.fetch(`${BASE}/models`))).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
  });
});

describe('scripting', () => {
  it('global FIFO, per-route queues, pendingFaults, waitForRequests and reset()', async () => {
    ff.enqueue(faults.serverError());
    ff.enqueueFor('/embeddings', faults.unauthorized());
    ff.enqueueFor(/^\/models\//, faults.notFound(), faults.notFound());
    expect(ff.pendingFaults).toBe(4);
    expect(await caught(client.embeddings.create({ model: 'm', input: 'x' }))).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await caught(client.models.retrieve('gpt-x'))).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await caught(chat())).toBeInstanceOf(OpenAI.InternalServerError);
    expect((await chat()).choices).toHaveLength(1);
    expect(ff.pendingFaults).toBe(1);
    expect(await ff.waitForRequests(4)).toHaveLength(4);
    expect(await caught(ff.waitForRequests(5, 5))).toHaveProperty('message', 'timed out waiting for 5 requests (got 4)');
    expect(ff.stats()).toMatchObject({ received: 4, scripted: 3, admitted: 1 });
    ff.reset();
    expect(ff.requests).toEqual([]);
    expect(ff.pendingFaults).toBe(0);
  });

  it('simulates capacity, random failures and latency like the fault server', async () => {
    expect(() => createFaultFetch({ capacity: { requestsPerMinute: 0 } })).toThrow(
      'createFaultFetch: `capacity.requestsPerMinute` must be a positive number, got 0.',
    );
    const limited = createFaultFetch({ capacity: { requestsPerMinute: 60, maxConcurrent: 1 }, latencyMs: 20 });
    const c = new OpenAI({ apiKey: 'k', baseURL: BASE, fetch: limited.fetch, maxRetries: 0 });
    const first = c.models.list();
    const overloaded = await caught(c.models.list()); // the first still holds the only slot during its latency
    expect(overloaded).toBeInstanceOf(OpenAI.InternalServerError);
    expect((overloaded as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    const { response } = await first.withResponse();
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('60');
    const rateLimited = (await caught(c.models.list())) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(Number(rateLimited.headers.get('retry-after-ms'))).toBeGreaterThan(900);
    expect(limited.stats()).toEqual({ received: 3, admitted: 1, rateLimited: 1, randomFailures: 0, scripted: 0, overloaded: 1, down: 0 });
    await limited.close();

    const flaky = createFaultFetch({ randomFailures: { rate: 1, status: 502 } });
    expect((await flaky.fetch(`${BASE}/models`)).status).toBe(502);
    expect(flaky.stats().randomFailures).toBe(1);
  });
});

describe('through resilient()', () => {
  const options = { retry: { initialDelay: 1, jitter: false, budget: false }, circuitBreaker: false, bulkhead: false, rateLimit: false } as const;

  it('a 503 then a success: one retry, two requests recorded', async () => {
    const ai = resilient(client, options);
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (e) => retries.push(e));
    ff.enqueue(faults.overloaded());
    expect((await ai.chat.completions.create({ model: 'gpt-4o', messages: [] })).choices[0]?.message.content).toBe('ok');
    expect(ff.requests).toHaveLength(2);
    expect(retries.map((e) => e.kind)).toEqual(['overloaded']);
  });

  it('retries a reset and a body cut mid-way as connection failures', async () => {
    const ai = resilient(client, options);
    ff.enqueue(faults.reset(), faults.dropBody());
    expect((await ai.models.list()).data.length).toBeGreaterThan(0);
    expect(ff.requests).toHaveLength(3);
  });

  it('waits out a 429’s retry-after-ms on a FakeClock', async () => {
    const clock = new FakeClock();
    const ai = resilient(client, { ...options, clock });
    ff.enqueue(faults.rateLimited({ retryAfterMs: 2000 }));
    const call = ai.chat.completions.create({ model: 'gpt-4o', messages: [] });
    await clock.until((timers) => timers.some((t) => t.delay === 2000));
    expect(ff.requests).toHaveLength(1);
    await clock.advance(2000);
    expect((await call).object).toBe('chat.completion');
    expect(ff.requests).toHaveLength(2);
  });

  it('a stream stalled before its first chunk is aborted by timeout.firstChunk and retried', async () => {
    const ai = resilient(client, { ...options, timeout: { firstChunk: 30 } });
    ff.enqueue(faults.stream({ stallBeforeFirstChunk: true }));
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    const stream = await ai.chat.completions.create({ model: 'gpt-4o', messages: [], stream: true });
    expect(await drain(stream, chunks)).toBeUndefined();
    expect(textOf(chunks)).toBe('Hello world!');
    expect(ff.requests).toHaveLength(2);
  });
});

describe('one implementation: the fault server and the fault fetch answer alike', () => {
  let server: FaultServer;
  beforeAll(async () => {
    server = await startFaultServer();
  });
  afterAll(() => server.close());

  /** Status, headers (minus transport and timing headers) and body, with timestamps blanked. */
  async function snapshot(res: Response) {
    const skip = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'openai-processing-ms']);
    const headers = Object.fromEntries([...res.headers].filter(([name]) => !skip.has(name)));
    const body = (await res.text()).replace(/"(created|created_at)":\d+/g, '"$1":0');
    return { status: res.status, headers, body };
  }

  it.each([
    ['chat success', '/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, undefined],
    ['chat stream', '/chat/completions', { model: 'gpt-4o', messages: [], stream: true, stream_options: { include_usage: true } }, undefined],
    ['responses stream with error', '/responses', { model: 'gpt-4o', input: 'hi', stream: true }, faults.stream({ errorAfter: 2, omitDone: true })],
    ['embeddings', '/embeddings', { model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'base64' }, undefined],
    ['429', '/chat/completions', {}, faults.rateLimited({ retryAfterMs: 20, type: 'tokens' })],
    ['verbatim 502', '/chat/completions', {}, faults.serverError(502, { body: '<html/>' })],
  ] as const)('%s', async (_name, path, body, fault) => {
    server.reset();
    const fetchWith = createFaultFetch();
    if (fault) {
      server.enqueue(fault);
      fetchWith.enqueue(fault);
    }
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const viaSocket = await snapshot(await fetch(`${server.url}${path}`, init));
    const inProcess = await snapshot(await fetchWith.fetch(`${BASE}${path}`, init));
    expect({ ...inProcess, body: inProcess.body.replace(/(req_|chatcmpl-|resp_|msg_)\d+/g, '$1N') }).toEqual({
      ...viaSocket,
      body: viaSocket.body.replace(/(req_|chatcmpl-|resp_|msg_)\d+/g, '$1N'),
      headers: { ...viaSocket.headers, 'x-request-id': inProcess.headers['x-request-id'] },
    });
    const [a, b] = [server.requests[0]!, fetchWith.requests[0]!];
    expect({ method: b.method, path: b.path, rawPath: b.rawPath, query: b.query, body: b.body }).toEqual({
      method: a.method,
      path: a.path,
      rawPath: a.rawPath,
      query: a.query,
      body: a.body,
    });
  });
});

describe('browser safety', () => {
  const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/testing');
  const stripComments = (code: string) => code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');

  /** Files reachable through runtime (non-type) imports from `entry`, with their code. */
  function runtimeGraph(entry: string): Map<string, string> {
    const seen = new Map<string, string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      const code = stripComments(readFileSync(file, 'utf8'));
      seen.set(file, code);
      for (const m of code.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?\sfrom\s+'([^']+)'/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        else seen.set(`bare:${spec}`, '');
      }
    };
    visit(entry);
    return seen;
  }

  it('openai-resilient/testing has no static node:* import (startFaultServer loads node:http lazily)', () => {
    const graph = runtimeGraph(resolve(srcDir, 'index.ts'));
    expect(graph.size).toBeGreaterThan(10);
    expect([...graph.keys()].filter((k) => k.startsWith('bare:'))).toEqual([]);
    for (const [file, code] of graph) expect(code, file).not.toMatch(/(?<!typeof )import\(\s*'node:/);
  });

  it('the fault fetch uses web-standard APIs only (no Buffer, process, node:*)', () => {
    const graph = runtimeGraph(resolve(srcDir, 'fault-fetch.ts'));
    expect([...graph.keys()].map((f) => f.split('/').pop())).toEqual(
      expect.arrayContaining(['fault-fetch.ts', 'response-plan.ts', 'routes.ts', 'openai-bodies.ts', 'stream-events.ts', 'fault-script.ts']),
    );
    expect([...graph.keys()].map((f) => f.split('/').pop())).not.toContain('fault-server.ts');
    for (const [file, code] of graph) expect(code, file).not.toMatch(/\bBuffer\b|\bprocess\.|\brequire\(|['"]node:/);
  });
});
