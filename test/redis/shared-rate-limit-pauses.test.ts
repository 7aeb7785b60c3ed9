import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { resilient, type SharedBackend } from '../../src/index.js';
import { createRedisState } from '../../src/redis/index.js';
import { heldUpstream, okBody, rateLimitBody, type HeldUpstream } from '../support/held-upstream.js';
import { connectRedis, startRedisServer } from '../support/redis-server.js';
import { chatParams, rejectionOf, until } from '../support/harness.js';

/** A Redis slow to answer on a loaded machine is still waited for: these tests are about what it says. */
const STATE_OPTIONS = { prefix: 'test:', timeout: 5_000 };

/** A few real milliseconds, for "nothing more was sent" checks against real sockets. */
const settleReal = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Redis state, with its `ratePause` writes held back until `land()`: a Redis slow to take the pause
 * (or a write queued behind others) lands it after the next call's reservation, on any machine.
 */
function slowPauses(shared: SharedBackend) {
  const held: Array<() => void> = [];
  const ratePause = (...args: Parameters<SharedBackend['ratePause']>) =>
    new Promise<void>((resolve, reject) => held.push(() => shared.ratePause(...args).then(resolve, reject)));
  const backend = new Proxy(shared, {
    get(target, name) {
      if (name === 'ratePause') return ratePause;
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { backend, held, land: () => held.splice(0).forEach((write) => write()) };
}

async function clientOn(upstream: HeldUpstream, shared: SharedBackend, options: Parameters<typeof resilient>[1] = {}) {
  return resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: upstream.url, maxRetries: 0 }), {
    rateLimit: {}, retry: { maxRetries: 0 }, circuitBreaker: false, bulkhead: false, shared, ...options,
  });
}

describe('shared rate limits: the first call answered with a 429 and a reset', () => {
  it('a call whose shared reservation was answered before the pause reached Redis is not sent before the reset', async () => {
    const upstream = await heldUpstream();
    const redis = await connectRedis(await startRedisServer());
    const slow = slowPauses(createRedisState(redis, STATE_OPTIONS));
    const ai = await clientOn(upstream, slow.backend);
    upstream.respond = (request) => request.answer(429, { 'retry-after': '30' }, rateLimitBody());
    expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.RateLimitError);
    expect(slow.held).toHaveLength(1);

    // Redis has neither limits nor the pause yet: the shared state says nothing, the process's own must.
    upstream.respond = (request) => request.answer(200, {}, { id: 'x', object: 'chat.completion', choices: [] });
    const controller = new AbortController();
    const next = rejectionOf(ai.chat.completions.create(chatParams, { signal: controller.signal }));
    await settleReal();
    slow.land();
    await settleReal();
    expect(upstream.received).toHaveLength(1);
    controller.abort();
    expect(await next).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(upstream.received).toHaveLength(1);
    await until(() => slow.held.length === 0);
  });
});

describe('shared rate limits: no pause outlives retry.maxRetryAfter', () => {
  it('a 429 asking for a day pauses every process for maxRetryAfter only, and the state is kept for its TTL, not the day', async () => {
    const upstream = await heldUpstream();
    const redisServer = await startRedisServer();
    const redis = await connectRedis(redisServer);
    const options = { retry: { maxRetries: 0, maxRetryAfter: 300 } };
    const a = await clientOn(upstream, createRedisState(await connectRedis(redisServer), STATE_OPTIONS), options);
    const b = await clientOn(upstream, createRedisState(await connectRedis(redisServer), STATE_OPTIONS), options);
    upstream.respond = (request) => request.answer(429, { 'retry-after': '86400' }, rateLimitBody());
    expect(await rejectionOf(a.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.RateLimitError);

    const [key] = await pollKeys(redis);
    const [pause, pausedAt, probe] = await redis.hmGet(key!, ['pause', 'pausedAt', 'probe']);
    expect(Number(pause) - Number(pausedAt)).toBe(300);
    expect(probe).toBe('1');
    // Kept as long as an unused rate state is (rateStateTtl, 10 minutes), not for the day the server asked.
    expect(await redis.pTTL(key!)).toBeLessThanOrEqual(600_000);

    // Another process waits out the 300 ms and sends its call as the probe (before: refused for a day).
    upstream.respond = (request) => request.answer(200, {}, okBody());
    expect((await b.chat.completions.create(chatParams)).object).toBe('chat.completion');
    expect(upstream.received).toHaveLength(2);
    await expect.poll(() => redis.hGet(key!, 'probe')).toBeNull();
  });

  it('a pause set by a process allowing longer counts for a reader only up to its own maxRetryAfter', async () => {
    const upstream = await heldUpstream();
    const redisServer = await startRedisServer();
    const redis = await connectRedis(redisServer);
    const patient = await clientOn(upstream, createRedisState(await connectRedis(redisServer), STATE_OPTIONS), {
      retry: { maxRetries: 0, maxRetryAfter: 3_600_000 },
    });
    const hasty = await clientOn(upstream, createRedisState(await connectRedis(redisServer), STATE_OPTIONS), {
      retry: { maxRetries: 0, maxRetryAfter: 300 },
    });
    upstream.respond = (request) => request.answer(429, { 'retry-after': '1800' }, rateLimitBody());
    expect(await rejectionOf(patient.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.RateLimitError);
    const [key] = await pollKeys(redis);
    const [pause, pausedAt] = await redis.hmGet(key!, ['pause', 'pausedAt']);
    expect(Number(pause) - Number(pausedAt)).toBe(1_800_000);

    upstream.respond = (request) => request.answer(200, {}, okBody());
    expect((await hasty.chat.completions.create(chatParams)).object).toBe('chat.completion');
    expect(upstream.received).toHaveLength(2);
  });

  it('after a pause cut short, one call across all processes probes; the others wait for its answer', async () => {
    const upstream = await heldUpstream();
    const redisServer = await startRedisServer();
    const options = { retry: { maxRetries: 0, maxRetryAfter: 200 } };
    const a = await clientOn(upstream, createRedisState(await connectRedis(redisServer), STATE_OPTIONS), options);
    const b = await clientOn(upstream, createRedisState(await connectRedis(redisServer), STATE_OPTIONS), options);
    upstream.respond = (request) => request.answer(429, { 'retry-after': '86400' }, rateLimitBody());
    expect(await rejectionOf(a.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.RateLimitError);
    await pollKeys(await connectRedis(redisServer));

    upstream.hold = true;
    const calls = [a, a, b, b].map((client) => client.chat.completions.create(chatParams));
    await until(() => upstream.held.length === 1);
    // However long the probe takes, nobody else is sent meanwhile, in either process.
    await settleReal(300);
    expect(upstream.received).toHaveLength(2);

    upstream.hold = false;
    upstream.respond = (request) => request.answer(200, {}, okBody());
    const answeredAt = Date.now();
    upstream.held[0]!.answer(200, {}, okBody());
    const results = await Promise.all(calls);
    expect(results.map((result) => result.object)).toEqual(Array.from({ length: 4 }, () => 'chat.completion'));
    expect(upstream.received).toHaveLength(5);
    for (const request of upstream.received.slice(2)) expect(request.receivedAt).toBeGreaterThanOrEqual(answeredAt);
  });
});

/** The model's rate-state key, once the pause written after a 429 has reached Redis. */
async function pollKeys(redis: Awaited<ReturnType<typeof connectRedis>>): Promise<string[]> {
  let keys: string[] = [];
  await expect.poll(async () => {
    keys = await redis.keys('test:rate:*');
    return keys.length === 1 && (await redis.hGet(keys[0]!, 'pause')) !== null;
  }).toBe(true);
  return keys;
}
