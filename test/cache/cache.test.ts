import OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import { describe, expect, it } from 'vitest';
import { chatCompletion, faults, responseObject, type FaultServer } from '../../src/testing/index.js';
import {
  StreamTruncatedError,
  CACHE_CONTROL_HEADER,
  MemoryCacheStore,
  defaultCacheable,
  noCache,
  partialOutputOf,
  resilient,
  type CacheHitEvent,
  type CacheMissEvent,
  type CacheStore,
  type CacheableRequest,
  type CachedResponse,
  type ResilienceOptions,
} from '../../src/index.js';
import { entrySize } from '../../src/cache/cache-store.js';
import { chatParams, harness, rejectionOf, until } from '../support/harness.js';

const SOURCE = 'x-openai-resilient-source';
/** A chat request the default rule caches (`temperature: 0`). */
const cached = { ...chatParams, temperature: 0 };

/** A harness with the cache on, recording cache events. */
async function cacheHarness(options: ResilienceOptions = {}, clientOptions: ConstructorParameters<typeof OpenAI>[0] = {}) {
  const h = await harness({ cache: true, ...options }, clientOptions);
  const hits: CacheHitEvent[] = [];
  const misses: CacheMissEvent[] = [];
  h.ai.resilience.on('cacheHit', (event) => hits.push(event));
  h.ai.resilience.on('cacheMiss', (event) => misses.push(event));
  const chats = () => h.server.requestsTo('/chat/completions').length;
  return { ...h, hits, misses, chats };
}

/** A store backed by a Map that records every key and value it is given. */
function recordingStore() {
  const map = new Map<string, CachedResponse>();
  const seen: unknown[] = [];
  const sets: Array<{ key: string; value: CachedResponse; ttl: number }> = [];
  const store: CacheStore = {
    get(key) {
      seen.push(key);
      return map.get(key);
    },
    set(key, value, ttl) {
      seen.push(key, value, ttl);
      sets.push({ key, value, ttl });
      map.set(key, value);
    },
  };
  return { store, map, seen, sets };
}

async function chunksOf<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function textOf(chunks: OpenAI.Chat.Completions.ChatCompletionChunk[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
}

describe('a cache hit', () => {
  it('answers an identical request with zero upstream requests, as the same completion', async () => {
    const { server, clock, ai, hits, misses } = await cacheHarness();
    const first = await ai.chat.completions.create(cached).withResponse();
    await clock.advance(500);
    const second = await ai.chat.completions.create(cached).withResponse();

    expect(server.requests).toHaveLength(1);
    expect(second.data.id).toBe(first.data.id);
    expect(second.data).toEqual(first.data);
    expect(first.response.headers.get(SOURCE)).toBeNull();
    expect(second.response.headers.get(SOURCE)).toBe('cache');
    expect(first.response.headers.get('x-request-id')).toBe(server.requests[0]!.requestId);
    expect((second.data as { _request_id?: string | null })._request_id).toBe(server.requests[0]!.requestId);
    expect(second.request_id).toBe(first.request_id);

    expect(misses).toEqual([expect.objectContaining({ model: 'gpt-4.1-mini', method: 'POST', path: '/chat/completions', tenant: undefined })]);
    expect(misses[0]!.key).toMatch(/^[0-9a-f]{64}$/);
    expect(hits).toEqual([expect.objectContaining({ key: misses[0]!.key, stale: false, age: 500, model: 'gpt-4.1-mini', path: '/chat/completions' })]);
    expect(ai.resilience.stats().total.cache).toEqual({ hits: 1, misses: 1 });
    expect(ai.resilience.stats().total).toMatchObject({ calls: 2, successes: 2 });
    expect(ai.resilience.stats().models['gpt-4.1-mini']!.cache).toEqual({ hits: 1, misses: 1 });
  });

  it('is off unless `cache` is set', async () => {
    const { server, ai } = await harness();
    const first = await ai.chat.completions.create(cached);
    const second = await ai.chat.completions.create(cached);
    expect(second.id).not.toBe(first.id);
    expect(server.requests).toHaveLength(2);
    expect(ai.resilience.stats().total.cache).toEqual({ hits: 0, misses: 0 });
  });

  it('hands out a fresh object every time: mutating one answer changes no other', async () => {
    const { ai, chats } = await cacheHarness();
    const first = await ai.chat.completions.create(cached);
    first.choices[0]!.message.content = 'x';
    (first as { id: string }).id = 'mutated';
    const second = await ai.chat.completions.create(cached);
    const third = await ai.chat.completions.create(cached);

    expect(chats()).toBe(1);
    expect(second.choices[0]!.message.content).toBe('ok');
    expect(second.id).toBe('chatcmpl-1');
    expect(second).not.toBe(third);
    expect(second.choices).not.toBe(third.choices);
    second.choices[0]!.message.content = 'y';
    second.choices.push(second.choices[0]!);
    expect(third.choices).toHaveLength(1);
    expect(third.choices[0]!.message.content).toBe('ok');
    expect((await ai.chat.completions.create(cached)).choices[0]!.message.content).toBe('ok');
  });

  it('embeddings, models and pinned generation requests are cached by default', async () => {
    const { server, ai } = await cacheHarness();
    const embedding = { model: 'text-embedding-3-small', input: ['a', 'b'] };
    const e1 = await ai.embeddings.create(embedding);
    const e2 = await ai.embeddings.create(embedding);
    expect(e2.data).toEqual(e1.data);
    expect(e2.data[0]!.embedding).not.toBe(e1.data[0]!.embedding);
    expect(server.requestsTo('/embeddings')).toHaveLength(1);

    const seeded = { ...chatParams, seed: 42 };
    expect((await ai.chat.completions.create(seeded)).id).toBe((await ai.chat.completions.create(seeded)).id);
    expect(server.requestsTo('/chat/completions')).toHaveLength(1);

    const response = { model: 'gpt-4.1-mini', input: 'hi', temperature: 0 };
    expect((await ai.responses.create(response)).id).toBe((await ai.responses.create(response)).id);
    expect(server.requestsTo('/responses')).toHaveLength(1);

    const ids = async () => {
      const ids: string[] = [];
      for await (const model of ai.models.list()) ids.push(model.id);
      return ids;
    };
    expect(await ids()).toEqual(await ids());
    expect((await ai.models.retrieve('gpt-4o')).id).toBe('gpt-4o');
    await ai.models.retrieve('gpt-4o');
    expect(server.requestsTo('/models')).toHaveLength(1);
    expect(server.requestsTo('/models/gpt-4o')).toHaveLength(1);
  });

  it('unpinned, stored or background generations are not cached by default', async () => {
    const { server, ai, misses } = await cacheHarness();
    const variants = [
      { ...chatParams },
      { ...chatParams, temperature: 0.7 },
      { ...chatParams, temperature: 0, store: true },
    ];
    for (const params of variants) {
      const first = await ai.chat.completions.create(params);
      const second = await ai.chat.completions.create(params);
      expect(second.id).not.toBe(first.id);
    }
    await ai.responses.create({ model: 'gpt-4.1-mini', input: 'hi', temperature: 0, background: true });
    await ai.responses.create({ model: 'gpt-4.1-mini', input: 'hi', temperature: 0, background: true });
    expect(server.requestsTo('/chat/completions')).toHaveLength(6);
    expect(server.requestsTo('/responses')).toHaveLength(2);
    expect(misses).toEqual([]);
    expect(ai.resilience.stats().total.cache).toEqual({ hits: 0, misses: 0 });
  });

  it('defaultCacheable says which requests are cacheable', () => {
    const req = (over: Partial<CacheableRequest>): CacheableRequest => ({
      method: 'POST', path: '/chat/completions', model: 'm', stream: false, body: {}, ...over,
    });
    expect(defaultCacheable(req({ body: { temperature: 0 } }))).toBe(true);
    expect(defaultCacheable(req({ body: { seed: 1 } }))).toBe(true);
    expect(defaultCacheable(req({ body: { temperature: 0.2 } }))).toBe(false);
    expect(defaultCacheable(req({ body: {} }))).toBe(false);
    expect(defaultCacheable(req({ body: { temperature: 0, store: true } }))).toBe(false);
    expect(defaultCacheable(req({ path: '/responses', body: { temperature: 0, store: true } }))).toBe(true);
    expect(defaultCacheable(req({ path: '/responses', body: { seed: 3, background: true } }))).toBe(false);
    expect(defaultCacheable(req({ path: '/embeddings', body: { input: 'a' } }))).toBe(true);
    expect(defaultCacheable(req({ path: '/moderations', body: { input: 'a' } }))).toBe(true);
    expect(defaultCacheable(req({ path: '/files', body: { temperature: 0 } }))).toBe(false);
    expect(defaultCacheable(req({ path: '/embeddings', body: undefined }))).toBe(false);
    expect(defaultCacheable(req({ method: 'GET', path: '/models', body: undefined }))).toBe(true);
    expect(defaultCacheable(req({ method: 'GET', path: '/models/gpt-4o', body: undefined }))).toBe(true);
    expect(defaultCacheable(req({ method: 'GET', path: '/files', body: undefined }))).toBe(false);
    expect(defaultCacheable(req({ method: 'DELETE', path: '/models/ft-1', body: undefined }))).toBe(false);
  });
});

describe('scope: never shared across credentials, endpoints or tenants', () => {
  it('clients with different API keys do not share entries, even in one store', async () => {
    const { server, clock } = await harness();
    const store = new MemoryCacheStore({ maxEntries: 100, maxBytes: 1_000_000 });
    const make = (apiKey: string) =>
      resilient(new OpenAI({ apiKey, baseURL: server.url, maxRetries: 0 }), {
        clock, cache: { store }, retry: false, circuitBreaker: false, bulkhead: false, rateLimit: false,
      });
    const a = await make('sk-key-a').chat.completions.create(cached);
    const b = await make('sk-key-b').chat.completions.create(cached);
    expect(b.id).not.toBe(a.id);
    expect(server.requests).toHaveLength(2);
    expect(server.requests.map((request) => request.headers['authorization'])).toEqual(['Bearer sk-key-a', 'Bearer sk-key-b']);
    // The same key (a different client object) does share the store.
    expect((await make('sk-key-a').chat.completions.create(cached)).id).toBe(a.id);
    expect(server.requests).toHaveLength(2);
    expect(store.size).toBe(2);
  });

  it('withOptions({ apiKey }) makes its own request; a view with the same key shares the cache', async () => {
    const { server, ai, chats } = await cacheHarness();
    const base = await ai.chat.completions.create(cached);
    const other = await ai.withOptions({ apiKey: 'sk-other' }).chat.completions.create(cached);
    expect(other.id).not.toBe(base.id);
    expect(server.requests[1]!.headers['authorization']).toBe('Bearer sk-other');
    expect((await ai.withOptions({ apiKey: 'sk-other' }).chat.completions.create(cached)).id).toBe(other.id);
    expect((await ai.withOptions({ timeout: 5000, maxRetries: 1 }).chat.completions.create(cached)).id).toBe(base.id);
    expect(chats()).toBe(2);
  });

  it.each<[string, (server: FaultServer) => Record<string, unknown>]>([
    ['organization', () => ({ organization: 'org-other' })],
    ['project', () => ({ project: 'proj-other' })],
    ['baseURL', (server) => ({ baseURL: `${server.origin}/openai` })],
    ['defaultHeaders', () => ({ defaultHeaders: { 'OpenAI-Beta': 'assistants=v2' } })],
    ['defaultQuery', () => ({ defaultQuery: { 'api-version': '2025-01-01' } })],
  ])('the same key with a different %s does not share entries', async (_name, overrides) => {
    const { server, ai, chats } = await cacheHarness({}, { organization: 'org-base', project: 'proj-base' });
    const base = await ai.chat.completions.create(cached);
    const view = ai.withOptions(overrides(server) as never);
    const other = await view.chat.completions.create(cached);
    expect(other.id).not.toBe(base.id);
    expect(chats()).toBe(2);
    expect((await view.chat.completions.create(cached)).id).toBe(other.id);
    expect((await ai.chat.completions.create(cached)).id).toBe(base.id);
    expect(chats()).toBe(2);
  });

  it('tenants do not share entries; calls of one tenant do', async () => {
    const { ai, chats, hits, misses } = await cacheHarness();
    const acme = await ai.resilience.forTenant('acme').chat.completions.create(cached);
    const globex = await ai.resilience.forTenant('globex').chat.completions.create(cached);
    const untenanted = await ai.chat.completions.create(cached);
    expect(new Set([acme.id, globex.id, untenanted.id]).size).toBe(3);
    expect((await ai.resilience.forTenant('acme').chat.completions.create(cached)).id).toBe(acme.id);
    expect(chats()).toBe(3);
    expect(misses.map((event) => event.tenant)).toEqual(['acme', 'globex', undefined]);
    expect(hits.map((event) => event.tenant)).toEqual(['acme']);
    expect(ai.resilience.stats().tenants['acme']!.cache).toEqual({ hits: 1, misses: 1 });
  });

  it('the API key never reaches the store (keys and values), nor the events', async () => {
    const secretA = 'sk-very-secret-key-AAAA';
    const secretB = 'sk-very-secret-key-BBBB';
    const { store, map, seen } = recordingStore();
    const { ai, hits, misses } = await cacheHarness({ cache: { store } }, { apiKey: secretA });
    await ai.chat.completions.create(cached);
    await ai.chat.completions.create(cached);
    await ai.withOptions({ apiKey: secretB }).chat.completions.create(cached);
    await ai.embeddings.create({ model: 'text-embedding-3-small', input: 'a' });
    expect(map.size).toBe(3);
    expect(hits).toHaveLength(1);
    const everything = JSON.stringify({ seen, entries: [...map], events: [...hits, ...misses] });
    expect(everything).toContain('chatcmpl-1');
    expect(everything).not.toContain('sk-very-secret');
    expect(everything).not.toContain('AAAA');
    expect(everything).not.toContain('BBBB');
  });
});

describe('freshness', () => {
  it('an entry is fresh for `ttl` on the pipeline clock, then the call goes upstream again', async () => {
    const { ai, clock, chats, hits, misses } = await cacheHarness({ cache: { ttl: 1000 } });
    const first = await ai.chat.completions.create(cached);
    await clock.advance(999);
    expect((await ai.chat.completions.create(cached)).id).toBe(first.id);
    expect(hits[0]).toMatchObject({ stale: false, age: 999 });
    await clock.advance(1);
    const refreshed = await ai.chat.completions.create(cached);
    expect(refreshed.id).not.toBe(first.id);
    expect(chats()).toBe(2);
    expect(misses).toHaveLength(2);
    // The new answer replaced the expired one, fresh for another ttl.
    await clock.advance(999);
    expect((await ai.chat.completions.create(cached)).id).toBe(refreshed.id);
    expect(chats()).toBe(2);
  });

  it('the default ttl is an hour', async () => {
    const { ai, clock, chats } = await cacheHarness();
    const first = await ai.chat.completions.create(cached);
    await clock.advance(3_600_000 - 1);
    expect((await ai.chat.completions.create(cached)).id).toBe(first.id);
    await clock.advance(1);
    expect((await ai.chat.completions.create(cached)).id).not.toBe(first.id);
    expect(chats()).toBe(2);
  });

  it('asks the store to keep an entry for ttl + staleIfError, stamped on the pipeline clock', async () => {
    const { store, sets } = recordingStore();
    const { ai, clock } = await cacheHarness({ cache: { store, ttl: 1000, staleIfError: 500 } });
    await ai.chat.completions.create(cached);
    expect(sets).toHaveLength(1);
    expect(sets[0]!.ttl).toBe(1500);
    expect(sets[0]!.value).toMatchObject({ status: 200, stream: false, storedAt: clock.now(), expiresAt: clock.now() + 1000 });
    expect(JSON.parse(sets[0]!.value.body)).toMatchObject({ id: 'chatcmpl-1', object: 'chat.completion' });
    const headerNames = sets[0]!.value.headers.map(([name]) => name);
    expect(headerNames).toContain('x-request-id');
    expect(headerNames).not.toContain('content-length');
    expect(headerNames).not.toContain(SOURCE);
  });
});

describe('memory bound', () => {
  const record = (body: string, headers: Array<[string, string]> = []): CachedResponse => ({
    status: 200, headers, body, stream: false, storedAt: 0, expiresAt: 1000,
  });

  it('entrySize counts body and headers in UTF-16 bytes', () => {
    expect(entrySize(record('abc', [['a', 'bc']]))).toBe(12);
    expect(entrySize(record(''))).toBe(1);
  });

  it('MemoryCacheStore stays within maxBytes, evicting the least recently used', () => {
    const store = new MemoryCacheStore({ maxEntries: 1000, maxBytes: 1000 });
    for (let i = 0; i < 20; i++) {
      store.set(`k${i}`, record('x'.repeat(100)), 60_000);
      expect(store.bytes).toBeLessThanOrEqual(1000);
    }
    expect(store.size).toBe(5);
    expect(store.bytes).toBe(1000);
    expect(store.get('k19')?.body).toHaveLength(100);
    expect(store.get('k0')).toBeUndefined();
    store.delete('k19');
    expect(store.get('k19')).toBeUndefined();
    expect(store.bytes).toBe(800);
  });

  it('MemoryCacheStore does not store an entry larger than maxBytes', () => {
    const store = new MemoryCacheStore({ maxEntries: 10, maxBytes: 1000 });
    store.set('small', record('x'.repeat(10)), 60_000);
    store.set('big', record('x'.repeat(501)), 60_000);
    expect(store.get('big')).toBeUndefined();
    expect(store.get('small')).toBeDefined();
    expect(store.bytes).toBe(20);
  });

  it('MemoryCacheStore keeps at most maxEntries', () => {
    const store = new MemoryCacheStore({ maxEntries: 2, maxBytes: 1_000_000 });
    store.set('a', record('1'), 60_000);
    store.set('b', record('2'), 60_000);
    store.get('a');
    store.set('c', record('3'), 60_000);
    expect(store.size).toBe(2);
    expect(store.get('b')).toBeUndefined();
    expect(store.get('a')?.body).toBe('1');
  });

  it('`cache.maxBytes` bounds the default store: old entries are evicted, recent ones still hit', async () => {
    const ask = (ai: OpenAI, i: number) => ai.chat.completions.create({ ...cached, messages: [{ role: 'user', content: `q${i}` }] });
    const bounded = await cacheHarness({ cache: { maxBytes: 5000 } });
    for (let i = 0; i < 10; i++) await ask(bounded.ai, i);
    expect(bounded.chats()).toBe(10);
    await ask(bounded.ai, 9);
    expect(bounded.chats()).toBe(10);
    await ask(bounded.ai, 0);
    expect(bounded.chats()).toBe(11);

    const unbounded = await cacheHarness();
    for (let i = 0; i < 10; i++) await ask(unbounded.ai, i);
    await ask(unbounded.ai, 0);
    expect(unbounded.chats()).toBe(10);
  });

  it('`cache.maxEntries` bounds the default store', async () => {
    const { ai, chats } = await cacheHarness({ cache: { maxEntries: 2 } });
    const ask = (i: number) => ai.chat.completions.create({ ...cached, messages: [{ role: 'user', content: `q${i}` }] });
    await ask(0);
    await ask(1);
    await ask(2);
    await ask(2);
    await ask(1);
    expect(chats()).toBe(3);
    await ask(0);
    expect(chats()).toBe(4);
  });

  it('a stream larger than maxBytes is passed through but never handed to the store', async () => {
    const { store, sets } = recordingStore();
    const { ai, chats } = await cacheHarness({ cache: { store, maxBytes: 300 } });
    const params = { ...cached, stream: true as const };
    expect(textOf(await chunksOf(await ai.chat.completions.create(params)))).toBe('Hello world!');
    expect(sets).toEqual([]);
    await chunksOf(await ai.chat.completions.create(params));
    expect(chats()).toBe(2);
  });
});

describe('errors are never cached', () => {
  it.each<[string, () => ReturnType<typeof faults.serverError>, new (...args: never[]) => Error]>([
    ['a 500', () => faults.serverError(500), OpenAI.InternalServerError],
    ['a 400', () => faults.badRequest(), OpenAI.BadRequestError],
    ['a 429', () => faults.rateLimited({ retryAfterMs: 10 }), OpenAI.RateLimitError],
  ])('%s is not stored: the next identical call goes upstream', async (_name, fault, type) => {
    const { store, sets } = recordingStore();
    const { server, ai, chats } = await cacheHarness({ retry: false, cache: { store } });
    server.enqueue(fault());
    expect(await rejectionOf(ai.chat.completions.create(cached))).toBeInstanceOf(type);
    expect(sets).toEqual([]);
    const ok = await ai.chat.completions.create(cached);
    expect(ok.id).toBe('chatcmpl-2');
    expect(chats()).toBe(2);
    expect((await ai.chat.completions.create(cached)).id).toBe('chatcmpl-2');
    expect(chats()).toBe(2);
  });

  it.each<[string, () => ReturnType<typeof faults.ok>, 'resolves' | 'rejects']>([
    ['a 200 HTML page', () => faults.htmlPage(), 'rejects'],
    ['a 200 whose body is not JSON and says no type', () => faults.ok('Service temporarily unavailable', { 'content-type': '' }), 'resolves'],
    ['a 200 JSON error payload', () => faults.ok({ error: { code: 'server_error', message: 'Provider returned error' } }), 'rejects'],
    ['a 200 JSON error payload, spaced', () => faults.ok('{ "error" : { "message" : "Provider returned error" } }'), 'rejects'],
    ['an empty 200', () => faults.ok(''), 'resolves'],
  ])('%s is not stored: the next identical call goes upstream', async (_name, fault, outcome) => {
    const { store, sets } = recordingStore();
    const { server, ai, chats } = await cacheHarness({ retry: false, cache: { store } });
    server.enqueue(fault());
    const first = ai.chat.completions.create(cached);
    if (outcome === 'rejects') await rejectionOf(first);
    else await first;
    expect(sets).toEqual([]);
    expect((await ai.chat.completions.create(cached)).id).toBe('chatcmpl-2');
    expect(chats()).toBe(2);
  });

  it('an answer whose error member is part of it (a failed Responses API response) is handed over but not stored', async () => {
    const { store, sets } = recordingStore();
    const { server, ai } = await cacheHarness({ cache: { store } });
    const params = { model: 'gpt-4.1-mini', input: 'hi', temperature: 0 };
    const failed = { ...responseObject({ id: 'resp_1', model: 'gpt-4.1-mini', status: 'failed', output: [] }), error: { code: 'server_error', message: 'The server had an error.' } };
    server.enqueue(faults.ok(failed));
    expect(await ai.responses.create(params)).toMatchObject({ id: 'resp_1', status: 'failed' });
    expect(sets).toEqual([]);
    expect((await ai.responses.create(params)).status).toBe('completed');
    expect(sets).toHaveLength(1);
  });

  it('an answer that needed retries is stored once it succeeds', async () => {
    const { server, clock, ai, chats } = await cacheHarness({ retry: { maxRetries: 2, initialDelay: 10 } });
    server.enqueue(faults.serverError(500));
    const call = ai.chat.completions.create(cached);
    await clock.until((timers) => timers.some((timer) => timer.delay === 10));
    await clock.advance(10);
    const first = await call;
    expect(first.id).toBe('chatcmpl-2');
    expect((await ai.chat.completions.create(cached)).id).toBe('chatcmpl-2');
    expect(chats()).toBe(2);
  });
});

describe('streams', () => {
  const streamParams = { ...cached, stream: true as const };

  it('a complete chat stream is recorded and replayed as a real Stream with the same chunks', async () => {
    const { ai, chats, hits } = await cacheHarness();
    const live = await ai.chat.completions.create(streamParams);
    expect(live).toBeInstanceOf(Stream);
    const liveChunks = await chunksOf(live);
    expect(textOf(liveChunks)).toBe('Hello world!');

    const { data: replay, response } = await ai.chat.completions.create(streamParams).withResponse();
    expect(replay).toBeInstanceOf(Stream);
    expect(response.headers.get(SOURCE)).toBe('cache');
    expect(response.headers.get('x-request-id')).toBe('req_1');
    const replayed = await chunksOf(replay);
    expect(replayed).toEqual(liveChunks);
    expect(replayed.length).toBeGreaterThan(3);
    expect(chats()).toBe(1);
    expect(hits).toHaveLength(1);

    // A replay can be replayed again, and a stream and a non-stream request are different entries.
    expect(await chunksOf(await ai.chat.completions.create(streamParams))).toEqual(liveChunks);
    const whole = await ai.chat.completions.create(cached);
    expect(whole.object).toBe('chat.completion');
    expect(chats()).toBe(2);
  });

  it.each<[string, Parameters<typeof faults.stream>[0]]>([
    ['cut mid-way (dropAfter)', { dropAfter: 1 }],
    ['missing its terminator (omitDone)', { omitDone: true }],
    ['ended by an in-band error (errorAfter)', { errorAfter: 1 }],
  ])('a stream %s is not stored', async (_name, options) => {
    const { store, sets } = recordingStore();
    const { server, ai, chats } = await cacheHarness({ cache: { store } });
    server.enqueue(faults.stream(options));
    const first = await ai.chat.completions.create(streamParams);
    await chunksOf(first).catch(() => undefined);
    expect(sets).toEqual([]);
    const second = await chunksOf(await ai.chat.completions.create(streamParams));
    expect(chats()).toBe(2);
    expect(textOf(second)).toBe('Hello world!');
    expect(sets).toHaveLength(1);
    await chunksOf(await ai.chat.completions.create(streamParams));
    expect(chats()).toBe(2);
  });

  it('a stream cut mid-way gives the caller its partial output, and the cache nothing: the next identical call goes upstream', async () => {
    const { store, sets } = recordingStore();
    const { server, ai, chats } = await cacheHarness({ cache: { store } });
    server.enqueue(faults.stream({ chunks: 4, dropAfter: 2 }));
    const error = await rejectionOf(chunksOf(await ai.chat.completions.create(streamParams)));
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello world', chunks: 3 });
    expect(sets).toEqual([]);
    expect(textOf(await chunksOf(await ai.chat.completions.create(streamParams)))).toBe('Hello world!');
    expect(chats()).toBe(2);
    // The whole answer is the one stored and replayed.
    expect(textOf(await chunksOf(await ai.chat.completions.create(streamParams)))).toBe('Hello world!');
    expect(chats()).toBe(2);
  });

  it.each<[string, Parameters<typeof faults.stream>[0]]>([
    ['an error event, then [DONE]', { errorAfter: 2, doneAfterError: true }],
    ["OpenRouter's error chunk (error next to choices), then [DONE]", { errorAfter: 2, errorFormat: 'openrouter', doneAfterError: true }],
  ])('a stream carrying %s is not stored: the next identical call goes upstream', async (_name, options) => {
    const { server, ai, chats } = await cacheHarness();
    server.enqueue(faults.stream(options));
    // The SDK raises the error event, with or without the cache.
    expect(await rejectionOf(chunksOf(await ai.chat.completions.create(streamParams)))).toBeInstanceOf(OpenAI.APIError);
    expect(textOf(await chunksOf(await ai.chat.completions.create(streamParams)))).toBe('Hello world!');
    expect(chats()).toBe(2);
  });

  it('a stream the caller breaks out of before it completed is not stored', async () => {
    const { server, ai, chats } = await cacheHarness();
    server.enqueue(faults.stream({ chunks: 3, intervalMs: 20 }));
    const first = await ai.chat.completions.create(streamParams);
    for await (const _chunk of first) break;
    await until(() => server.openRequests === 0);
    await chunksOf(await ai.chat.completions.create(streamParams));
    expect(chats()).toBe(2);
  });

  it('a stream the caller aborts is not stored', async () => {
    const { server, ai, chats } = await cacheHarness();
    server.enqueue(faults.stream({ chunks: 3, stallAfter: 1 }));
    const controller = new AbortController();
    const first = await ai.chat.completions.create(streamParams, { signal: controller.signal });
    const iterator = first[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    await iterator.next().catch(() => undefined);
    await until(() => server.openRequests === 0);
    await chunksOf(await ai.chat.completions.create(streamParams));
    expect(chats()).toBe(2);
  });

  it('a Responses API stream is recorded and replayed up to response.completed', async () => {
    const { server, ai } = await cacheHarness();
    const params = { model: 'gpt-4.1-mini', input: 'hi', temperature: 0, stream: true as const };
    const live = await chunksOf(await ai.responses.create(params));
    expect(live.at(-1)!.type).toBe('response.completed');
    const replay = await ai.responses.create(params);
    expect(replay).toBeInstanceOf(Stream);
    expect(await chunksOf(replay)).toEqual(live);
    expect(server.requestsTo('/responses')).toHaveLength(1);
  });

  it('responses.stream() and chat.completions.stream() helpers are answered from the cache', async () => {
    const { server, ai } = await cacheHarness();
    const params = { model: 'gpt-4.1-mini', input: 'hi', temperature: 0 };
    const first = await ai.responses.stream(params).finalResponse();
    const second = await ai.responses.stream(params).finalResponse();
    expect(first.status).toBe('completed');
    expect(second).toEqual(first);
    expect(second.output_text).toBe('Hello world!');
    expect(server.requestsTo('/responses')).toHaveLength(1);

    const a = await ai.chat.completions.stream(cached).finalChatCompletion();
    const b = await ai.chat.completions.stream(cached).finalChatCompletion();
    expect(b).toEqual(a);
    expect(b.choices[0]!.message.content).toBe('Hello world!');
    expect(server.requestsTo('/chat/completions')).toHaveLength(1);
  });

  it('a Responses stream without response.completed is not stored', async () => {
    const { server, ai } = await cacheHarness();
    server.enqueue(faults.stream({ omitDone: true }));
    const params = { model: 'gpt-4.1-mini', input: 'hi', temperature: 0, stream: true as const };
    // Cut short, it is reported (StreamTruncatedError) and not stored.
    expect(await rejectionOf(chunksOf(await ai.responses.create(params)))).toBeInstanceOf(StreamTruncatedError);
    await chunksOf(await ai.responses.create(params));
    expect(server.requestsTo('/responses')).toHaveLength(2);
  });
});

describe('which requests are cached', () => {
  it('a `cacheable` rule can cache everything', async () => {
    const seen: CacheableRequest[] = [];
    const { ai, chats } = await cacheHarness({ cache: { cacheable: (request) => (seen.push(request), true) } });
    const first = await ai.chat.completions.create(chatParams);
    expect((await ai.chat.completions.create(chatParams)).id).toBe(first.id);
    expect(chats()).toBe(1);
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/chat/completions', model: 'gpt-4.1-mini', stream: false, body: chatParams });
  });

  it('a `cacheable` rule can cache nothing (no events, no store access)', async () => {
    const { store, seen } = recordingStore();
    const { server, ai, hits, misses } = await cacheHarness({ cache: { store, cacheable: () => false } });
    await ai.embeddings.create({ model: 'text-embedding-3-small', input: 'a' });
    await ai.embeddings.create({ model: 'text-embedding-3-small', input: 'a' });
    await ai.chat.completions.create(cached);
    await ai.chat.completions.create(cached);
    expect(server.requests).toHaveLength(4);
    expect(seen).toEqual([]);
    expect([...hits, ...misses]).toEqual([]);
  });

  it('noCache neither reads nor writes, and its header never goes upstream', async () => {
    const { server, ai, chats, hits } = await cacheHarness();
    const stored = await ai.chat.completions.create(cached);
    const bypassed = await ai.chat.completions.create(cached, noCache);
    expect(bypassed.id).not.toBe(stored.id);
    // Not written: the original entry still answers.
    expect((await ai.chat.completions.create(cached)).id).toBe(stored.id);
    expect(chats()).toBe(2);
    expect(hits).toHaveLength(1);
    // A bypassed first call leaves nothing behind either.
    const other = { ...cached, model: 'gpt-4.1' };
    await ai.chat.completions.create(other, { ...noCache, signal: new AbortController().signal });
    await ai.chat.completions.create(other);
    expect(chats()).toBe(4);
    for (const request of server.requests) expect(request.headers).not.toHaveProperty(CACHE_CONTROL_HEADER);
  });

  it('refresh does not read but writes the entry plain calls read, and its header never goes upstream', async () => {
    const { server, ai, chats, hits } = await cacheHarness();
    const stored = await ai.chat.completions.create(cached);
    const refreshed = await ai.chat.completions.create(cached, { headers: { [CACHE_CONTROL_HEADER]: 'refresh' } });
    expect(refreshed.id).not.toBe(stored.id);
    expect(hits).toEqual([]);
    expect((await ai.chat.completions.create(cached)).id).toBe(refreshed.id);
    expect((await ai.chat.completions.create(cached, { headers: {} })).id).toBe(refreshed.id);
    expect(chats()).toBe(2);
    for (const request of server.requests) expect(request.headers).not.toHaveProperty(CACHE_CONTROL_HEADER);
  });

  it('reads the control header in every header form and keys every form alike', async () => {
    const { server, ai, chats } = await cacheHarness();
    const stored = await ai.chat.completions.create(cached, { headers: { 'X-Trace': '1' } });
    expect((await ai.chat.completions.create(cached, { headers: new Headers({ 'x-trace': '1' }) })).id).toBe(stored.id);
    expect((await ai.chat.completions.create(cached, { headers: [['x-trace', '1']] as never })).id).toBe(stored.id);
    await ai.chat.completions.create(cached, { headers: [[CACHE_CONTROL_HEADER, 'bypass']] as never });
    expect(chats()).toBe(2);
    for (const request of server.requests) expect(request.headers).not.toHaveProperty(CACHE_CONTROL_HEADER);
  });

  it('the control header is matched case-insensitively, also in a Headers object, and stripped', async () => {
    const { server, ai, chats } = await cacheHarness();
    const stored = await ai.chat.completions.create(cached);
    const upper = await ai.chat.completions.create(cached, { headers: { 'X-OpenAI-Resilient-Cache': 'bypass' } });
    const headers = await ai.chat.completions.create(cached, { headers: new Headers({ [CACHE_CONTROL_HEADER]: 'bypass' }) });
    expect(upper.id).not.toBe(stored.id);
    expect(headers.id).not.toBe(stored.id);
    expect((await ai.chat.completions.create(cached)).id).toBe(stored.id);
    expect(chats()).toBe(3);
    for (const request of server.requests) expect(request.headers).not.toHaveProperty(CACHE_CONTROL_HEADER);
  });

  it('the control header is stripped when the cache is off or the request is not cacheable', async () => {
    const off = await harness();
    await off.ai.chat.completions.create(cached, noCache);
    await off.ai.chat.completions.create(cached, { headers: { [CACHE_CONTROL_HEADER]: 'refresh' } });
    const on = await cacheHarness();
    await on.ai.chat.completions.create(chatParams, noCache);
    await on.ai.chat.completions.create(chatParams, { headers: { [CACHE_CONTROL_HEADER]: 'refresh' } });
    for (const request of [...off.server.requests, ...on.server.requests]) {
      expect(request.headers).not.toHaveProperty(CACHE_CONTROL_HEADER);
    }
    expect(off.server.requests).toHaveLength(2);
    expect(on.server.requests).toHaveLength(2);
  });

  it('other per-request headers reach the server', async () => {
    const { server, ai } = await cacheHarness();
    await ai.chat.completions.create(cached, { headers: { 'x-custom': 'yes', [CACHE_CONTROL_HEADER]: 'refresh' } });
    expect(server.requests[0]!.headers['x-custom']).toBe('yes');
  });
});

describe('staleIfError', () => {
  it('answers from an expired entry when the call fails, saying so', async () => {
    const { server, clock, ai, hits, chats } = await cacheHarness({ cache: { ttl: 1000, staleIfError: true }, retry: false });
    const first = await ai.chat.completions.create(cached);
    await clock.advance(1000);
    server.enqueue(faults.serverError(500));
    const { data, response } = await ai.chat.completions.create(cached).withResponse();
    expect(data.id).toBe(first.id);
    expect(response.headers.get(SOURCE)).toBe('cache-stale');
    expect(chats()).toBe(2);
    expect(hits).toEqual([expect.objectContaining({ stale: true, age: 1000, path: '/chat/completions' })]);
    // The next call that succeeds replaces the expired entry.
    const fresh = await ai.chat.completions.create(cached);
    expect(fresh.id).toBe('chatcmpl-3');
    expect((await ai.chat.completions.create(cached)).id).toBe('chatcmpl-3');
  });

  it('serves a stale stream as a real Stream', async () => {
    const { server, clock, ai } = await cacheHarness({ cache: { ttl: 1000, staleIfError: true }, retry: false });
    const params = { ...cached, stream: true as const };
    const live = await chunksOf(await ai.chat.completions.create(params));
    await clock.advance(5000);
    server.enqueue(faults.overloaded());
    const { data, response } = await ai.chat.completions.create(params).withResponse();
    expect(data).toBeInstanceOf(Stream);
    expect(response.headers.get(SOURCE)).toBe('cache-stale');
    expect(await chunksOf(data)).toEqual(live);
  });

  it('without staleIfError the error is thrown', async () => {
    const { server, clock, ai, hits } = await cacheHarness({ cache: { ttl: 1000 }, retry: false });
    await ai.chat.completions.create(cached);
    await clock.advance(1000);
    server.enqueue(faults.serverError(500));
    expect(await rejectionOf(ai.chat.completions.create(cached))).toBeInstanceOf(OpenAI.InternalServerError);
    expect(hits).toEqual([]);
  });

  it('a number of milliseconds bounds how long past the ttl an entry may answer', async () => {
    const { server, clock, ai } = await cacheHarness({ cache: { ttl: 1000, staleIfError: 500 }, retry: false });
    const first = await ai.chat.completions.create(cached);
    await clock.advance(1499);
    server.enqueue(faults.serverError(500));
    expect((await ai.chat.completions.create(cached)).id).toBe(first.id);
    await clock.advance(1);
    server.enqueue(faults.serverError(500));
    expect(await rejectionOf(ai.chat.completions.create(cached))).toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('a caller abort is never answered from a stale entry', async () => {
    const { server, clock, ai, hits } = await cacheHarness({ cache: { ttl: 1000, staleIfError: true }, retry: false });
    await ai.chat.completions.create(cached);
    await clock.advance(1000);
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const call = rejectionOf(ai.chat.completions.create(cached, { signal: controller.signal }));
    await until(() => server.requests.length === 2);
    controller.abort();
    expect(await call).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(hits).toEqual([]);
  });
});

describe('fallback answers', () => {
  const primary = { ...cached, model: 'gpt-4.1' };
  const models = (server: FaultServer) => server.requestsTo('/chat/completions').map((request) => (request.body as { model: string }).model);

  it('a fallback model answer is not stored under the primary key', async () => {
    const { store, sets } = recordingStore();
    const { server, ai } = await cacheHarness({ retry: false, cache: { store }, fallback: { models: { 'gpt-4.1': ['gpt-4.1-mini'] } } });
    server.enqueue(faults.serverError(500));
    expect((await ai.chat.completions.create(primary)).model).toBe('gpt-4.1-mini');
    expect(sets).toEqual([]);
    const second = await ai.chat.completions.create(primary);
    expect(second.model).toBe('gpt-4.1');
    expect((await ai.chat.completions.create(primary)).id).toBe(second.id);
    expect(models(server)).toEqual(['gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1']);
  });

  it('a last-resort fallback value is not stored', async () => {
    const { server, ai } = await cacheHarness({
      retry: false,
      fallback: { value: () => chatCompletion({ id: 'fallback-value', model: 'canned' }) as never },
    });
    server.enqueue(faults.serverError(500));
    expect((await ai.chat.completions.create(primary)).id).toBe('fallback-value');
    expect((await ai.chat.completions.create(primary)).id).toBe('chatcmpl-2');
    expect(models(server)).toEqual(['gpt-4.1', 'gpt-4.1']);
  });
});

describe('stores', () => {
  it('an asynchronous store works', async () => {
    const map = new Map<string, CachedResponse>();
    let gets = 0;
    let sets = 0;
    const store: CacheStore = {
      get: async (key) => {
        gets++;
        await new Promise((resolve) => setTimeout(resolve, 1));
        return map.get(key);
      },
      set: async (key, value) => {
        sets++;
        await new Promise((resolve) => setTimeout(resolve, 1));
        map.set(key, value);
      },
    };
    const { ai, chats } = await cacheHarness({ cache: { store } });
    const first = await ai.chat.completions.create(cached);
    await until(() => map.size === 1);
    const second = await ai.chat.completions.create(cached);
    expect(second.id).toBe(first.id);
    expect(chats()).toBe(1);
    expect([gets, sets]).toEqual([2, 1]);
  });

  it.each<[string, CacheStore['get']]>([
    ['throws', () => {
      throw new Error('store down');
    }],
    ['rejects', () => Promise.reject(new Error('store down'))],
  ])('a store whose get %s counts as a miss; the call still succeeds', async (_name, get) => {
    const { ai, chats, misses, hits } = await cacheHarness({ cache: { store: { get, set: () => undefined } } });
    expect((await ai.chat.completions.create(cached)).id).toBe('chatcmpl-1');
    expect((await ai.chat.completions.create(cached)).id).toBe('chatcmpl-2');
    expect(chats()).toBe(2);
    expect(misses).toHaveLength(2);
    expect(hits).toEqual([]);
    expect(ai.resilience.stats().total).toMatchObject({ successes: 2, cache: { hits: 0, misses: 2 } });
  });

  it.each<[string, CacheStore['set']]>([
    ['throws', () => {
      throw new Error('store full');
    }],
    ['rejects', () => Promise.reject(new Error('store full'))],
  ])('a store whose set %s does not fail the call', async (_name, set) => {
    let calls = 0;
    const { ai, chats } = await cacheHarness({ cache: { store: { get: () => undefined, set: (...args) => (calls++, set(...args)) } } });
    expect((await ai.chat.completions.create(cached)).id).toBe('chatcmpl-1');
    const stream = await chunksOf(await ai.chat.completions.create({ ...cached, stream: true }));
    expect(textOf(stream)).toBe('Hello world!');
    expect(calls).toBe(2);
    expect(chats()).toBe(2);
    // Give a rejected set a turn to surface as an unhandled rejection (which fails the run).
    await new Promise((resolve) => setTimeout(resolve, 5));
  });

  it('an entry past its expiry is not served even if the store still returns it', async () => {
    const { store, map } = recordingStore();
    const { ai, clock, chats } = await cacheHarness({ cache: { store, ttl: 1000 } });
    await ai.chat.completions.create(cached);
    await clock.advance(1000);
    expect(map.size).toBe(1);
    await ai.chat.completions.create(cached);
    expect(chats()).toBe(2);
  });
});

describe('options', () => {
  const raw = new OpenAI({ apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9/v1' });
  it.each<[unknown, string]>([
    [{ ttl: 0 }, '`cache.ttl`'],
    [{ ttl: -5 }, '`cache.ttl`'],
    [{ ttl: Number.NaN }, '`cache.ttl`'],
    [{ maxBytes: 0 }, '`cache.maxBytes`'],
    [{ maxEntries: 1.5 }, '`cache.maxEntries`'],
    [{ maxEntries: 0 }, '`cache.maxEntries`'],
    [{ store: {} }, '`cache.store`'],
    [{ store: { get: () => undefined } }, '`cache.store`'],
    [{ store: 'redis' }, '`cache.store`'],
    [{ cacheable: 1 }, '`cache.cacheable`'],
    [{ staleIfError: 'yes' }, '`cache.staleIfError`'],
    [{ staleIfError: -1 }, '`cache.staleIfError`'],
    [{ bogus: 1 }, '`cache.bogus`'],
    ['yes', '`cache`'],
    [[], '`cache`'],
  ])('cache: %j is a TypeError naming %s', (cache, name) => {
    expect(() => resilient(raw, { cache } as never)).toThrow(TypeError);
    expect(() => resilient(raw, { cache } as never)).toThrow(name);
  });

  it('accepts true, false and every documented option', () => {
    const store = new MemoryCacheStore({ maxEntries: 1, maxBytes: 100 });
    expect(() => resilient(raw, { cache: true })).not.toThrow();
    expect(() => resilient(raw, { cache: false })).not.toThrow();
    expect(() =>
      resilient(raw, { cache: { ttl: 1, maxEntries: 1, maxBytes: 1, store, cacheable: () => true, staleIfError: 10 } }),
    ).not.toThrow();
    expect(() => resilient(raw, { cache: { staleIfError: false } })).not.toThrow();
  });
});
