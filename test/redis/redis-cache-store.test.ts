import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { resilient } from '../../src/index.js';
import { createRedisState, SealedEntryError } from '../../src/redis/index.js';
import type { CachedResponse } from '../../src/cache/cache-store.js';
import { chatCompletion, faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { connectRedis, startRedisServer } from '../support/redis-server.js';

const SECRET_PROMPT = 'the launch code is swordfish';
const params = { model: 'gpt-4.1-mini', temperature: 0, messages: [{ role: 'user' as const, content: SECRET_PROMPT }] };
const record: CachedResponse = { status: 200, headers: [['content-type', 'application/json']], body: '{"answer":42}', stream: false, storedAt: 1, expiresAt: 2 };
const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function store() {
  const redisServer = await startRedisServer();
  const redis = await connectRedis(redisServer);
  // A generous command timeout: a loaded machine must not turn a slow answer into a store error.
  return { redisServer, redis, shared: createRedisState(redis, { prefix: 'test:', timeout: 10_000 }) };
}

describe('RedisCacheStore', () => {
  it('reads back what it stored, with the TTL it was given', async () => {
    const { shared, redis } = await store();
    await shared.cacheStore.set('a'.repeat(64), record, 600_000);
    expect(await shared.cacheStore.get('a'.repeat(64))).toEqual(record);
    expect(await shared.cacheStore.get('b'.repeat(64))).toBeUndefined();
    const [key] = await redis.keys('test:cache:*');
    expect(key).toMatch(/^test:cache:[0-9a-f]{64}$/);
    expect(key).not.toContain('a'.repeat(64));
    const ttl = await redis.pTTL(key!);
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
    await shared.cacheStore.delete('a'.repeat(64));
    expect(await shared.cacheStore.get('a'.repeat(64))).toBeUndefined();
  });

  it('seals values: Redis holds neither the answer nor the fingerprint it is stored under', async () => {
    const { shared, redis } = await store();
    const fingerprint = 'c'.repeat(64);
    await shared.cacheStore.set(fingerprint, record, 5_000);
    const [key] = await redis.keys('test:cache:*');
    const raw = (await redis.get(key!))!;
    expect(raw).not.toContain('answer');
    expect(Buffer.from(raw, 'base64').toString('latin1')).not.toContain('answer');
    expect(raw).not.toContain(fingerprint);
  });

  it('refuses an entry that was tampered with (the cache then counts a miss)', async () => {
    const { shared, redis } = await store();
    await shared.cacheStore.set('d'.repeat(64), record, 5_000);
    const [key] = await redis.keys('test:cache:*');
    const bytes = Buffer.from((await redis.get(key!))!, 'base64');
    bytes[20] = bytes[20]! ^ 0xff;
    await redis.set(key!, bytes.toString('base64'));
    await expect(shared.cacheStore.get('d'.repeat(64))).rejects.toBeInstanceOf(SealedEntryError);
    await redis.set(key!, 'short');
    await expect(shared.cacheStore.get('d'.repeat(64))).rejects.toBeInstanceOf(SealedEntryError);
  });

  it('fails at once while the client is disconnected', async () => {
    const { shared, redisServer } = await store();
    await redisServer.stop();
    await expect.poll(() => shared.ready).toBe(false);
    await expect(shared.cacheStore.get('e'.repeat(64))).rejects.toThrow(/not connected/);
  });

  it('through resilient(): one process reads what another stored, and Redis never sees the prompt or the API key', async () => {
    const server = await startFaultServer();
    servers.push(server);
    const { redis, redisServer } = await store();
    const make = async () => {
      const shared = createRedisState(await connectRedis(redisServer), { prefix: 'test:', timeout: 10_000 });
      return resilient(new OpenAI({ apiKey: 'sk-secret-api-key-123', baseURL: server.url, maxRetries: 0 }), { shared, cache: { store: shared.cacheStore } });
    };
    const a = await make();
    const b = await make();
    const ANSWER = 'the answer is forty-two, said the model';
    server.enqueue(faults.ok(chatCompletion({ id: 'chatcmpl-1', model: params.model, content: ANSWER })));
    const first = await a.chat.completions.create(params);
    expect(first.choices[0]!.message.content).toBe(ANSWER);
    await expect.poll(async () => (await redis.keys('test:cache:*')).length).toBe(1);
    const hits: boolean[] = [];
    b.resilience.on('cacheHit', (event) => hits.push(event.stale));
    const second = await b.chat.completions.create(params);
    expect(second).toEqual(first);
    expect(hits).toEqual([false]);
    expect(server.requests).toHaveLength(1);

    // Everything Redis holds, keys and values, decoded every way we can.
    const everything: string[] = [];
    for (const key of await redis.keys('*')) {
      everything.push(key);
      const type = await redis.type(key);
      const value = type === 'string' ? await redis.get(key) : JSON.stringify(await redis.hGetAll(key));
      everything.push(value!, Buffer.from(value!, 'base64').toString('latin1'));
    }
    const dump = everything.join('\n');
    expect(dump).not.toContain('swordfish');
    expect(dump).not.toContain('sk-secret');
    expect(dump).not.toContain('forty-two');
  });

  it('through resilient(): a store error is a miss, announced as `cacheStoreError`', async () => {
    const server = await startFaultServer();
    servers.push(server);
    const { shared, redisServer } = await store();
    const ai = resilient(new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 }), { shared, cache: { store: shared.cacheStore } });
    const errors: string[] = [];
    ai.resilience.on('cacheStoreError', (event) => errors.push(event.operation));
    await redisServer.stop();
    await expect.poll(() => shared.ready).toBe(false);
    await ai.chat.completions.create(params);
    expect(errors).toEqual(['get', 'set']);
    expect(server.requests).toHaveLength(1);
  });
});
