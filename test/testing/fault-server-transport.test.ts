import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import OpenAI from 'openai';
import { faults, normalizePath, startFaultServer, type FaultServer } from '../../src/testing/index.js';

let server: FaultServer;
let client: OpenAI;
const chat = (opts?: { timeout?: number }) =>
  client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, opts);
const caught = (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.unreachable('expected a rejection'), (e: unknown) => e);

/** Polls (every 2 ms, at most 1 s) until `check` is true. */
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

describe('transport faults', () => {
  it('reset destroys the socket: the SDK raises APIConnectionError (not a timeout)', async () => {
    server.enqueue(faults.reset());
    const err = await caught(chat());
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(err).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(server.requests).toHaveLength(1);
    expect((await chat()).choices[0]?.message.content).toBe('ok'); // the next request is served normally
  });

  it('stall never answers: the SDK times out, and the server sees the socket close', async () => {
    // Its own server: a request that a busy machine delivers late cannot take another test's fault.
    const own = await startFaultServer();
    try {
      own.enqueue(faults.stall());
      const ownClient = new OpenAI({ apiKey: 'sk-test', baseURL: own.url, maxRetries: 0 });
      const err = await caught(ownClient.models.list({ timeout: 300 }));
      expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
      await own.waitForRequests(1, 5_000);
      expect(own.requests).toHaveLength(1);
      await until(() => own.openRequests === 0);
    } finally {
      await own.close();
    }
  });

  it('stall is held open while the client waits', async () => {
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const pending = caught(fetch(`${server.url}/models`, { signal: controller.signal }));
    await server.waitForRequests(1);
    expect(server.openRequests).toBe(1);
    controller.abort();
    expect((await pending) as Error).toHaveProperty('name', 'AbortError');
    await until(() => server.openRequests === 0);
  });

  it('delay waits real time, then succeeds or applies `then`', async () => {
    server.enqueue(faults.delay(30), faults.delay(5, faults.unauthorized()));
    const start = Date.now();
    expect((await chat()).choices[0]?.message.content).toBe('ok');
    expect(Date.now() - start).toBeGreaterThanOrEqual(25);
    expect(await caught(chat())).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('delay longer than the SDK timeout surfaces as a timeout', async () => {
    // Its own server: on a busy machine the SDK may give up before its request has even arrived, which
    // then arrives late; here it cannot take another test's fault.
    const own = await startFaultServer();
    try {
      own.enqueue(faults.delay(60_000));
      const ownClient = new OpenAI({ apiKey: 'sk-test', baseURL: own.url, maxRetries: 0 });
      expect(await caught(ownClient.models.list({ timeout: 10 }))).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    } finally {
      await own.close();
    }
  });
});

describe('scripting', () => {
  it('consumes the global queue FIFO, one fault per request, then defaults', async () => {
    server.enqueue(faults.unauthorized(), faults.serverError());
    expect(server.pendingFaults).toBe(2);
    expect(await caught(chat())).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await caught(chat())).toBeInstanceOf(OpenAI.InternalServerError);
    expect((await chat()).choices).toHaveLength(1);
    expect(server.pendingFaults).toBe(0);
    expect(server.requests.map((r) => r.path)).toEqual(['/chat/completions', '/chat/completions', '/chat/completions']);
  });

  it('route queues win over the global queue, and only for their route', async () => {
    server.enqueue(faults.serverError());
    server.enqueueFor('/embeddings', faults.unauthorized());
    server.enqueueFor(/^\/models\//, faults.notFound());
    expect(await caught(client.embeddings.create({ model: 'm', input: 'x' }))).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await caught(client.models.retrieve('gpt-x'))).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await caught(chat())).toBeInstanceOf(OpenAI.InternalServerError);
    expect((await client.embeddings.create({ model: 'm', input: 'x' })).data).toHaveLength(1);
    expect(server.requestsTo(/^\/(embeddings|models\/.*)$/)).toHaveLength(3);
  });

  it('explicit ok bodies, headers and status', async () => {
    server.enqueue(faults.ok({ id: 'custom', object: 'model', created: 1, owned_by: 'me' }, { 'x-custom': 'yes' }, 200));
    const { data, response } = await client.models.retrieve('anything').withResponse();
    expect(data.owned_by).toBe('me');
    expect(response.headers.get('x-custom')).toBe('yes');
  });

  it('reset() forgets faults and requests', async () => {
    server.enqueue(faults.reset());
    server.enqueueFor('/models', faults.reset());
    expect(await caught(fetch(`${server.url}/models/x`))).toBeInstanceOf(TypeError); // global reset consumed
    server.reset();
    expect(server.requests).toEqual([]);
    expect(server.pendingFaults).toBe(0);
    expect((await client.models.list()).data.length).toBeGreaterThan(0);
  });

  it('normalizes paths', () => {
    expect(normalizePath('/v1/chat/completions?x=1')).toEqual({ path: '/chat/completions' });
    expect(normalizePath('/openai/deployments/my%20dep/embeddings')).toEqual({ path: '/embeddings', deployment: 'my dep' });
    expect(normalizePath('/openai/files')).toEqual({ path: '/files' });
    expect(normalizePath('/models')).toEqual({ path: '/models' });
  });

  it('records malformed input instead of throwing', async () => {
    const res = await fetch(`${server.origin}/openai/deployments/%E0/chat/completions?q=%zz`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(res.status).toBe(200);
    expect(server.requests[0]).toMatchObject({ deployment: '%E0', path: '/chat/completions', body: '{not json' });
  });
});

describe('lifecycle', () => {
  it('close() destroys stalled and streaming sockets, is idempotent, and frees the port', async () => {
    const s = await startFaultServer();
    s.enqueue(faults.stall(), faults.stream({ stallAfter: 1 }));
    const stalled = caught(fetch(`${s.url}/models`));
    const streaming = await fetch(`${s.url}/chat/completions`, { method: 'POST', body: '{}' });
    const body = caught(streaming.text());
    await s.waitForRequests(2);
    expect(s.openRequests).toBe(2);
    const waiting = caught(s.waitForRequests(3));

    await Promise.all([s.close(), s.close()]);
    await s.close();
    expect(s.openRequests).toBe(0);
    expect(await stalled).toBeInstanceOf(TypeError);
    expect(await body).toBeInstanceOf(TypeError);
    expect(await waiting).toHaveProperty('message', 'fault server closed');
    expect(await caught(fetch(`${s.url}/models`))).toBeInstanceOf(TypeError);
  });

  it('survives clients that disconnect mid-stream', async () => {
    server.enqueue(faults.stream({ chunks: 50, intervalMs: 1 }));
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [], stream: true });
    for await (const _chunk of stream) break;
    await until(() => server.openRequests === 0);
    expect((await chat()).choices[0]?.message.content).toBe('ok');
  });

  it('waitForRequests times out with a useful error', async () => {
    expect(await caught(server.waitForRequests(1, 5))).toHaveProperty('message', 'timed out waiting for 1 requests (got 0)');
  });
});
