import OpenAI, { AzureOpenAI, toFile } from 'openai';
import { Stream } from 'openai/streaming';
import { describe, expect, it } from 'vitest';
import {
  DeadlineExceededError,
  resilient,
  type AttemptStartEvent,
  type FallbackEvent,
  type PoolMember,
  type RetryEvent,
} from '../../src/index.js';
import { FakeClock, faults } from '../../src/testing/index.js';
import { rejectionOf, until } from '../support/harness.js';
import { announceWaits, answerGate, drivePool, faultServer, memberPool, modelsSent, poolOptions } from '../support/pool-members.js';

const gpt41 = { model: 'gpt-4.1', messages: [{ role: 'user' as const, content: 'Say ok' }] };
/** A request the cache keeps (`temperature: 0`). */
const cacheable = { ...gpt41, temperature: 0 };

function collect<E>(ai: { resilience: { on: (event: never, listener: (payload: E) => void) => unknown } }, event: string): E[] {
  const seen: E[] = [];
  ai.resilience.on(event as never, (payload: E) => seen.push(payload));
  return seen;
}

async function chatText(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

describe('fallback comes after the pool', () => {
  it('a fallback model is tried only once every member serving the model failed, and goes to the members that serve it', async () => {
    const pool = await memberPool(
      [{ models: ['gpt-4.1'] }, { models: ['gpt-4.1'] }, { models: ['gpt-4.1-mini'] }],
      { pool: { routing: 'ordered' }, retry: { maxRetries: 1 }, fallback: { models: { 'gpt-4.1': ['gpt-4.1-mini'] } } },
    );
    const [m0, m1, m2] = pool.servers as [typeof pool.servers[0], typeof pool.servers[0], typeof pool.servers[0]];
    m0.enqueue(faults.serverError(500));
    m1.enqueue(faults.serverError(500));
    const order: string[] = [];
    pool.ai.resilience.on('attemptStart', (event) => order.push(`${event.member}:${event.model}`));
    pool.ai.resilience.on('fallback', (event) => order.push(`fallback:${event.to}`));

    const completion = await drivePool(pool.clock, pool.ai.chat.completions.create(gpt41));
    expect(completion.model).toBe('gpt-4.1-mini');
    // The retry went to the other member at once; only then did the call fall back, to the member serving the fallback.
    expect(order).toEqual(['m0:gpt-4.1', 'm1:gpt-4.1', 'fallback:gpt-4.1-mini', 'm2:gpt-4.1-mini']);
    expect([modelsSent(m0), modelsSent(m1), modelsSent(m2)]).toEqual([['gpt-4.1'], ['gpt-4.1'], ['gpt-4.1-mini']]);
  });

  it('a fallback model served by several members is routed over them, a retry going to another one', async () => {
    const pool = await memberPool(
      [{ models: ['gpt-4.1'] }, { models: ['gpt-4.1-mini'] }, { models: ['gpt-4.1-mini'] }],
      { pool: { routing: 'ordered' }, retry: { maxRetries: 1 }, fallback: { models: { 'gpt-4.1': ['gpt-4.1-mini'] } } },
    );
    pool.servers[0]!.enqueue(faults.serverError(500), faults.serverError(500));
    pool.servers[1]!.enqueue(faults.serverError(500));
    const completion = await drivePool(pool.clock, pool.ai.chat.completions.create(gpt41));
    expect(completion.model).toBe('gpt-4.1-mini');
    expect(pool.servers.map(modelsSent)).toEqual([['gpt-4.1', 'gpt-4.1'], ['gpt-4.1-mini'], ['gpt-4.1-mini']]);
  });

  it('a member that fails is skipped while another can serve: no fallback while the pool has a healthy member', async () => {
    const pool = await memberPool([{}, {}], {
      pool: { routing: 'ordered' },
      retry: { maxRetries: 0 },
      circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 60_000 },
      fallback: { models: { 'gpt-4.1': ['gpt-4.1-mini'] } },
    });
    const fallbacks = collect<FallbackEvent>(pool.ai, 'fallback');
    // m0 fails once (its circuit opens); with no retries left the call falls back...
    pool.servers[0]!.enqueue(faults.serverError(500));
    expect((await pool.ai.chat.completions.create(gpt41)).model).toBe('gpt-4.1-mini');
    expect(pool.ai.resilience.circuits()).toMatchObject({ 'm0/gpt-4.1': 'open' });
    fallbacks.length = 0;
    // ...but the next call is not sent to m0 and needs no fallback: m1 serves it.
    const completion = await pool.ai.chat.completions.create(gpt41);
    expect(completion.model).toBe('gpt-4.1');
    expect(fallbacks).toEqual([]);
    // (The fallback model went to m0: its circuit for gpt-4.1-mini is its own, and closed.)
    expect(pool.servers.map(modelsSent)).toEqual([['gpt-4.1', 'gpt-4.1-mini'], ['gpt-4.1']]);
  });

  it('with every member open, the call falls back at once: nothing is sent to the open members and nothing waits', async () => {
    const pool = await memberPool([{ models: ['gpt-4.1'] }, { models: ['gpt-4.1'] }, { models: ['gpt-4.1-mini'] }], {
      pool: { routing: 'ordered' },
      retry: { maxRetries: 1 },
      circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 60_000 },
      fallback: { models: { 'gpt-4.1': ['gpt-4.1-mini'] } },
    });
    pool.servers[0]!.enqueue(faults.serverError(500));
    pool.servers[1]!.enqueue(faults.serverError(500));
    expect((await drivePool(pool.clock, pool.ai.chat.completions.create(gpt41))).model).toBe('gpt-4.1-mini');
    expect(pool.ai.resilience.circuits()).toMatchObject({ 'm0/gpt-4.1': 'open', 'm1/gpt-4.1': 'open' });

    const fallbacks = collect<FallbackEvent>(pool.ai, 'fallback');
    // Not driven: a call that waited for a circuit's probe (60 s on the fake clock) would never settle.
    const completion = await pool.ai.chat.completions.create(gpt41);
    expect(completion.model).toBe('gpt-4.1-mini');
    expect(fallbacks.map((event) => [event.reason, event.to])).toEqual([['circuit_open', 'gpt-4.1-mini']]);
    expect(pool.received()).toEqual([1, 1, 2]);
  });

  it('fallback clients come after every member failed, with the pool\'s model', async () => {
    const other = await faultServer();
    const pool = await memberPool([{}, {}], {
      pool: { routing: 'ordered' },
      retry: { maxRetries: 1 },
      fallback: { clients: [new OpenAI({ apiKey: 'sk-other', baseURL: other.url, maxRetries: 0 })] },
    });
    pool.servers[0]!.enqueue(faults.serverError(500));
    pool.servers[1]!.enqueue(faults.serverError(500));
    const fallbacks = collect<FallbackEvent>(pool.ai, 'fallback');
    const completion = await drivePool(pool.clock, pool.ai.chat.completions.create(gpt41));
    expect(completion.model).toBe('gpt-4.1');
    expect([...pool.received(), other.requestsTo('/chat/completions').length]).toEqual([1, 1, 1]);
    expect(fallbacks.map((event) => [event.target, event.reason])).toEqual([['client', 'server_error']]);
    expect(other.requests[0]!.headers['authorization']).toBe('Bearer sk-other');
  });
});

describe('the cache and single-flight see one client', () => {
  it('an identical call is a cache hit, whichever member would have been picked: no member gets a request', async () => {
    const pool = await memberPool([{}, {}, {}], { cache: true });
    const first = await pool.ai.chat.completions.create(cacheable);
    for (let call = 0; call < 9; call++) {
      expect((await pool.ai.chat.completions.create(cacheable)).id).toBe(first.id);
    }
    expect(pool.received().reduce((sum, count) => sum + count, 0)).toBe(1);
    expect(pool.ai.resilience.stats().total).toMatchObject({ calls: 10, cache: { hits: 9, misses: 1 } });
    const members = pool.ai.resilience.stats().members!;
    expect(Object.values(members).reduce((sum, member) => sum + member.requests, 0)).toBe(1);
  });

  it('identical concurrent calls make one upstream request, to one member', async () => {
    const gates = [answerGate(), answerGate(), answerGate()];
    for (const gate of gates) gate.shut();
    const pool = await memberPool(gates.map((gate) => ({ fetch: gate.fetch })), { cache: true });
    const calls = Array.from({ length: 6 }, () => pool.ai.chat.completions.create(cacheable));
    await until(() => pool.received().some((count) => count > 0));
    // Every caller has joined the one request in flight (it is held): none of them made another.
    expect(pool.ai.resilience.stats().singleFlight).toEqual({ inFlight: 1, waiting: 5 });
    for (const gate of gates) gate.open();
    const answers = await Promise.all(calls);
    expect(new Set(answers.map((answer) => answer.id)).size).toBe(1);
    expect(pool.received().reduce((sum, count) => sum + count, 0)).toBe(1);
  });
});

describe('tenants share the pool', () => {
  it('a tenant view routes over the same members, with the same circuits and the members\' own keys', async () => {
    const pool = await memberPool([{}, {}], {
      pool: { routing: 'ordered' },
      retry: { maxRetries: 0 },
      circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 60_000 },
    });
    const acme = pool.ai.resilience.forTenant('acme');
    const globex = pool.ai.resilience.forTenant('globex');
    pool.servers[0]!.enqueue(faults.serverError(500));
    await expect(acme.chat.completions.create(gpt41)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    // acme's failure opened m0's circuit for everyone: globex's call and the client's own go to m1.
    await globex.chat.completions.create(gpt41);
    await pool.ai.chat.completions.create(gpt41);
    expect(pool.received()).toEqual([1, 2]);
    expect(pool.servers[1]!.requests.map((request) => request.headers['authorization'])).toEqual(['Bearer sk-member-1', 'Bearer sk-member-1']);
    const stats = pool.ai.resilience.stats();
    expect(stats.members).toMatchObject({ m0: { requests: 1, failures: 1 }, m1: { requests: 2, failures: 0 } });
    expect(stats.tenants).toMatchObject({ acme: { calls: 1, failures: { server_error: 1 } }, globex: { calls: 1, successes: 1 } });
  });

  it('a tenant view sees the members\' concurrency: a member full with one tenant\'s call is skipped for another\'s', async () => {
    const gate = answerGate();
    gate.shut();
    const pool = await memberPool([{ maxConcurrent: 1, fetch: gate.fetch }, {}], { pool: { routing: 'ordered' } });
    const held = pool.ai.resilience.forTenant('acme').chat.completions.create(gpt41);
    await until(() => pool.received()[0] === 1);
    await pool.ai.resilience.forTenant('globex').chat.completions.create(gpt41);
    expect(pool.received()).toEqual([1, 1]);
    gate.open();
    await held;
  });
});

describe('hedges go to another member', () => {
  it('the hedge of an attempt goes to a member other than the one it races (even where routing prefers that one)', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' }, hedge: { delay: 200, maxHedgedShare: 1 } });
    const starts = collect<AttemptStartEvent>(pool.ai, 'attemptStart');
    pool.servers[0]!.enqueue(faults.stall());
    const call = pool.ai.chat.completions.create(gpt41);
    await until(() => pool.received()[0] === 1);
    await pool.clock.advance(200);
    const completion = await call;
    expect(completion.id).toBe('chatcmpl-1');
    expect(starts.map((event) => [event.hedge, event.member])).toEqual([[0, 'm0'], [1, 'm1']]);
    expect(pool.received()).toEqual([1, 1]);
    // The losing attempt's connection is closed.
    await until(() => pool.servers[0]!.openRequests === 0);
  });

  it('each of several hedges goes to yet another member, whatever the routing draws', async () => {
    const pool = await memberPool([{}, {}, {}], { hedge: { delay: 100, maxExtraAttempts: 2, maxHedgedShare: 1 } });
    for (const server of pool.servers) server.enqueue(faults.stall());
    const starts = collect<AttemptStartEvent>(pool.ai, 'attemptStart');
    const controller = new AbortController();
    const call = rejectionOf(pool.ai.chat.completions.create(gpt41, { signal: controller.signal }));
    await until(() => starts.length === 1);
    await pool.clock.advance(100);
    await until(() => starts.length === 2);
    await pool.clock.advance(100);
    await until(() => pool.received().every((count) => count === 1));
    expect(new Set(starts.map((event) => event.member)).size).toBe(3);
    controller.abort();
    expect(await call).toBeInstanceOf(OpenAI.APIUserAbortError);
  });
  it('with no other member serving the model, the hedge goes to the same member rather than not at all', async () => {
    const pool = await memberPool([{}, { models: ['gpt-4.1-mini'] }], { hedge: { delay: 200, maxHedgedShare: 1 } });
    const starts = collect<AttemptStartEvent>(pool.ai, 'attemptStart');
    pool.servers[0]!.enqueue(faults.stall());
    const call = pool.ai.chat.completions.create(gpt41);
    await until(() => pool.received()[0] === 1);
    await pool.clock.advance(200);
    expect((await call).id).toBe('chatcmpl-2');
    expect(starts.map((event) => [event.hedge, event.member])).toEqual([[0, 'm0'], [1, 'm0']]);
    expect(pool.received()).toEqual([2, 0]);
  });
});

describe('streams through a member', () => {
  it('a chat stream is read to the end through the member it went to', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' } });
    pool.servers[0]!.enqueue(faults.stream({ chunks: 5 }));
    const stream = await pool.ai.chat.completions.create({ ...gpt41, stream: true });
    expect(stream).toBeInstanceOf(Stream);
    expect(await chatText(stream)).toBe('Hello world! more more');
    expect(pool.received()).toEqual([1, 0]);
    expect(pool.ai.resilience.stats().members).toMatchObject({ m0: { requests: 1, failures: 0, inFlight: 0 } });
  });

  it('a stream in progress holds its member until it ends: a member full with it is skipped', async () => {
    const pool = await memberPool([{ maxConcurrent: 1 }, {}], { pool: { routing: 'ordered' } });
    pool.servers[0]!.enqueue(faults.stream({ chunks: 3, stallAfter: 1 }));
    const stream = await pool.ai.chat.completions.create({ ...gpt41, stream: true });
    const reader = stream[Symbol.asyncIterator]();
    await reader.next();
    expect(pool.ai.resilience.stats().members!['m0']!.inFlight).toBe(1);
    await pool.ai.chat.completions.create(gpt41);
    expect(pool.received()).toEqual([1, 1]);
    // Once the stream ends (here its caller stops it), m0 has room again.
    stream.controller.abort();
    await until(() => pool.ai.resilience.stats().members!['m0']!.inFlight === 0);
    await pool.ai.chat.completions.create(gpt41);
    expect(pool.received()).toEqual([2, 1]);
  });

  it('a Responses stream is read to the end through a member', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' } });
    const stream = await pool.ai.responses.create({ model: 'gpt-4.1', input: 'Say ok', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toContain('response.output_text.delta');
    expect(pool.received('/responses')).toEqual([1, 0]);
  });

  it('a stream that fails before its first chunk is retried at once on another member', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' } });
    const retries = collect<RetryEvent>(pool.ai, 'retry');
    pool.servers[0]!.enqueue(faults.serverError(502));
    // "At once" is a wait of 0 ms on the pipeline's clock (here the fake one).
    const stream = await drivePool(pool.clock, pool.ai.chat.completions.create({ ...gpt41, stream: true }));
    expect(await chatText(stream)).toBe('Hello world!');
    expect(retries.map((event) => [event.member, event.delaySource, event.delay])).toEqual([['m0', 'member', 0]]);
    expect(pool.received()).toEqual([1, 1]);
  });

  it('a stream whose first chunk does not come within timeout.attempt is retried on another member', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' }, timeout: { attempt: 5_000 } });
    const retries = collect<RetryEvent>(pool.ai, 'retry');
    pool.servers[0]!.enqueue(faults.stream({ stallBeforeFirstChunk: true }));
    const call = pool.ai.chat.completions.create({ ...gpt41, stream: true });
    await until(() => pool.received()[0] === 1);
    await pool.clock.advance(4_999);
    expect(pool.received()).toEqual([1, 0]);
    await pool.clock.advance(1);
    const stream = await call;
    expect(await chatText(stream)).toBe('Hello world!');
    expect(retries.map((event) => [event.member, event.kind, event.delaySource])).toEqual([['m0', 'timeout', 'member']]);
    expect(pool.received()).toEqual([1, 1]);
    await until(() => pool.servers[0]!.openRequests === 0);
  });
});

describe('timeouts and budgets', () => {
  it('timeout.attempt bounds each member\'s attempt and timeout.total the whole call across members', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' }, timeout: { attempt: 4_000, total: 10_000 }, retry: { maxRetries: 5 } });
    for (const server of pool.servers) server.enqueue(faults.stall(), faults.stall());
    const retries = collect<RetryEvent>(pool.ai, 'retry');
    const call = rejectionOf(pool.ai.chat.completions.create(gpt41));
    await until(() => pool.received()[0] === 1);
    // m0's attempt times out at 4 s; the retry goes to m1 at once, with an attempt limit of its own.
    await pool.clock.advance(4_000);
    await until(() => pool.received()[1] === 1);
    await pool.clock.advance(3_999);
    expect(pool.received()).toEqual([1, 1]);
    await pool.clock.advance(1);
    // Every member has failed the call: its next retry waits its backoff, then goes to the first again.
    await until(() => retries.length === 2);
    const backoff = retries[1]!.delay;
    expect(backoff).toBeGreaterThan(0);
    await pool.clock.advance(backoff);
    await until(() => pool.received()[0] === 2);
    // The call's deadline is not restarted by a member: it ends at 10 s, into the third attempt.
    await pool.clock.advance(10_000 - 8_000 - backoff);
    const error = await call;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(retries.map((event) => [event.member, event.kind, event.delaySource])).toEqual([['m0', 'timeout', 'member'], ['m1', 'timeout', 'backoff']]);
    expect(pool.received()).toEqual([2, 1]);
    await until(() => pool.servers.every((server) => server.openRequests === 0));
  });
  it('a retry to another member is a retry: the retry budget bounds it', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' }, retry: { budget: { ratio: 0, minRetries: 1 } } });
    for (let call = 0; call < 2; call++) pool.servers[0]!.enqueue(faults.serverError(500));
    await drivePool(pool.clock, pool.ai.chat.completions.create(gpt41));
    expect(pool.received()).toEqual([1, 1]);
    // The budget's one retry is spent: the next failure on m0 is the call's, m1 is not tried.
    const error = await rejectionOf(drivePool(pool.clock, pool.ai.chat.completions.create(gpt41)));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(pool.received()).toEqual([2, 1]);
  });
});

describe('Azure members', () => {
  async function azureAndOpenAI(azure: Omit<PoolMember, 'client'>, first: 'azure' | 'openai') {
    const azureServer = await faultServer();
    const openaiServer = await faultServer();
    const clock = new FakeClock(1_700_000_000_000);
    const azureMember = { name: 'azure', ...azure, client: new AzureOpenAI({ endpoint: azureServer.origin, apiKey: 'azure-key', apiVersion: '2024-10-21', maxRetries: 0 }) };
    const openaiMember = { name: 'openai', client: new OpenAI({ apiKey: 'sk-openai', baseURL: openaiServer.url, maxRetries: 0 }) };
    const options = poolOptions(clock, { pool: { routing: 'ordered' } });
    const ai = first === 'azure' ? resilient([azureMember, openaiMember], options) : resilient([openaiMember, azureMember], options);
    announceWaits(clock, ai as never);
    return { ai, clock, azureServer, openaiServer };
  }

  it('an Azure member gets the call at its deployment\'s path, an OpenAI member the pool\'s model in the body', async () => {
    const { ai, clock, azureServer, openaiServer } = await azureAndOpenAI({ models: { 'gpt-4.1': 'my-deployment' } }, 'azure');
    expect(ai).toBeInstanceOf(AzureOpenAI);
    azureServer.enqueue(faults.serverError(500));
    await drivePool(clock, ai.chat.completions.create(gpt41));
    const [atAzure] = azureServer.requests;
    expect(atAzure!.rawPath.split('?')[0]).toBe('/openai/deployments/my-deployment/chat/completions');
    expect(atAzure!.query['api-version']).toBe('2024-10-21');
    expect(atAzure!.headers['api-key']).toBe('azure-key');
    expect((atAzure!.body as { model: string }).model).toBe('my-deployment');
    const [atOpenAI] = openaiServer.requests;
    expect(atOpenAI!.rawPath).toBe('/v1/chat/completions');
    expect((atOpenAI!.body as { model: string }).model).toBe('gpt-4.1');
    expect(atOpenAI!.headers['authorization']).toBe('Bearer sk-openai');
  });

  it('with an OpenAI member first, the Azure member still gets its deployment path', async () => {
    const { ai, clock, azureServer, openaiServer } = await azureAndOpenAI({ models: { 'gpt-4.1': 'my-deployment' } }, 'openai');
    expect(ai).toBeInstanceOf(OpenAI);
    expect(ai).not.toBeInstanceOf(AzureOpenAI);
    openaiServer.enqueue(faults.serverError(500));
    await drivePool(clock, ai.chat.completions.create(gpt41));
    expect(openaiServer.requests.map((request) => request.rawPath)).toEqual(['/v1/chat/completions']);
    expect(azureServer.requests.map((request) => request.rawPath.split('?')[0])).toEqual(['/openai/deployments/my-deployment/chat/completions']);
  });

  it('a retry from an Azure member that serves the model under its own name goes to the OpenAI member\'s own path', async () => {
    const { ai, clock, azureServer, openaiServer } = await azureAndOpenAI({ models: ['gpt-4.1'] }, 'azure');
    azureServer.enqueue(faults.serverError(500));
    await drivePool(clock, ai.chat.completions.create(gpt41));
    expect(azureServer.requests.map((request) => request.rawPath.split('?')[0])).toEqual(['/openai/deployments/gpt-4.1/chat/completions']);
    expect(openaiServer.requests.map((request) => request.rawPath)).toEqual(['/v1/chat/completions']);
  });

  it('a multipart upload to an Azure member goes to its deployment, the form asking for its model', async () => {
    const { ai, clock, azureServer } = await azureAndOpenAI({ models: { 'whisper-1': 'whisper-east' } }, 'azure');
    azureServer.enqueue(faults.ok({ text: 'hello' }));
    const file = await toFile(Buffer.from('not really audio'), 'speech.mp3');
    const transcription = await drivePool(clock, ai.audio.transcriptions.create({ model: 'whisper-1', file }));
    expect(transcription.text).toBe('hello');
    const [received] = azureServer.requests;
    expect(received!.rawPath.split('?')[0]).toBe('/openai/deployments/whisper-east/audio/transcriptions');
    const form = String(received!.body);
    expect(/name="model"\r\n\r\n([^\r]*)/.exec(form)?.[1]).toBe('whisper-east');
    expect(form).toContain('filename="speech.mp3"');
    expect(form).toContain('not really audio');
  });
});

describe('requests without a model', () => {
  it('go to the first member, with its key, whatever the routing', async () => {
    const pool = await memberPool([{}, {}, {}], { pool: { routing: 'weighted' } });
    for (let call = 0; call < 4; call++) await pool.ai.models.list();
    await pool.ai.files.list();
    expect(pool.received('/models')).toEqual([4, 0, 0]);
    expect(pool.received('/files')).toEqual([1, 0, 0]);
    expect(new Set(pool.servers[0]!.requests.map((request) => request.headers['authorization']))).toEqual(new Set(['Bearer sk-member-0']));
  });
});
