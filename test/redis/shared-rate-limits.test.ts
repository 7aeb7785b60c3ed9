import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { RateLimitTimeoutError, resilient, type RateLimitWaitEvent, type ResilienceOptions, type ResilientClient } from '../../src/index.js';
import { createRedisState } from '../../src/redis/index.js';
import { faults, startFaultServer, type FaultServer, type FaultServerOptions } from '../../src/testing/index.js';
import { connectRedis, startRedisServer } from '../support/redis-server.js';

const params = { model: 'gpt-4.1-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Two "processes": resilient clients with nothing in common but the Redis they share. */
async function twoProcesses(options: ResilienceOptions, serverOptions: FaultServerOptions = {}) {
  const server = await startFaultServer(serverOptions);
  servers.push(server);
  const redisServer = await startRedisServer();
  const make = async () =>
    resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0 }), {
      retry: false, bulkhead: false, circuitBreaker: false,
      // A generous command timeout: a loaded machine must not turn a slow answer into a local decision.
      shared: createRedisState(await connectRedis(redisServer), { prefix: 'test:', timeout: 10_000 }),
      ...options,
    });
  return { server, redisServer, a: await make(), b: await make() };
}

/** The delays of the `rateLimitWait` events `ai` emits from now on. */
function rateLimitWaits(ai: ResilientClient<OpenAI>): number[] {
  const delays: number[] = [];
  ai.resilience.on('rateLimitWait', (event) => delays.push(event.delay));
  return delays;
}

// Rates here are slow (a request every 10 s or more) wherever a test needs a call to be held: whatever
// this machine's load, a check made a few seconds late still sees the call held, and what the shared
// state decided is read from Redis or from events, not from how long a call took.
describe('shared rate limits', () => {
  it('two processes share one configured limit: what one used, the other waits for', async () => {
    // 6 a minute: the bucket holds one request, refilled every 10 s.
    const { a, b, server } = await twoProcesses({ rateLimit: { requestsPerMinute: 6 }, timeout: { total: 5_000 } });
    await a.chat.completions.create(params);
    // A spent it: B would wait about 10 s, past its 5 s deadline, so it is refused at once, without a request.
    const waits = rateLimitWaits(b);
    await expect(b.chat.completions.create(params)).rejects.toBeInstanceOf(RateLimitTimeoutError);
    expect(waits).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('a limit learned from headers by one process paces the other', async () => {
    // The account allows 6 requests a minute: one now, the next in 10 s.
    const { a, b, server, redisServer } = await twoProcesses({ timeout: { total: 5_000 } }, { capacity: { requestsPerMinute: 6 } });
    await a.chat.completions.create(params);
    // What A learned is written to Redis after its call returns.
    const redis = await connectRedis(redisServer);
    await expect.poll(async () => Promise.all((await redis.keys('test:rate:*')).map((key) => redis.hGet(key, 'rpm')))).toEqual(['6']);
    // B never saw a header, yet paces to what A learned (x-ratelimit-remaining-requests: 0): its calls would
    // wait about 10 and 20 s, past their 5 s deadline, so they are refused without a request.
    const outcomes = await Promise.allSettled([b.chat.completions.create(params), b.chat.completions.create(params)]);
    for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(RateLimitTimeoutError);
    expect(server.requests).toHaveLength(1);
    // No 429 was provoked: the server admitted every request it got.
    expect(server.stats().rateLimited).toBe(0);
  });

  it('a 429 pauses the model for every process', async () => {
    const { a, b, server, redisServer } = await twoProcesses({ rateLimit: { requestsPerMinute: 6_000 } });
    server.enqueue(faults.rateLimited({ retryAfterMs: 10_000, noRetryHeaders: true }));
    await expect(a.chat.completions.create(params)).rejects.toThrow();
    // A writes the pause to Redis after its call has failed.
    const redis = await connectRedis(redisServer);
    await expect.poll(async () => Promise.all((await redis.keys('test:rate:*')).map((key) => redis.hGet(key, 'pause')))).toEqual([expect.stringMatching(/^\d+$/)]);
    // B is held by it (what is left of the 10 s on Redis's clock, then one refill interval: 10 ms at 6 000 a
    // minute, as the buckets stay empty during a pause); it gives up waiting, without a request.
    const controller = new AbortController();
    const waits: RateLimitWaitEvent[] = [];
    b.resilience.on('rateLimitWait', (event) => {
      waits.push(event);
      controller.abort();
    });
    await expect(b.chat.completions.create(params, { signal: controller.signal })).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(waits).toHaveLength(1);
    expect(waits[0]!.reason).toBe('paused');
    expect(waits[0]!.delay).toBeGreaterThan(5_000);
    expect(waits[0]!.delay).toBeLessThanOrEqual(10_010);
    expect(server.requests).toHaveLength(1);
  });

  it("a tenant over its share reserves no shared capacity while it waits for its share, so another process's call goes at once", async () => {
    // 120 per minute for the model (2 at once); each tenant may use 5% (1 at once, then 1 every 10 s).
    const { a, b, server } = await twoProcesses({ rateLimit: { requestsPerMinute: 120, tenantShare: 0.05 } });
    const tenantWaits: string[] = [];
    a.resilience.on('rateLimitWait', (event) => tenantWaits.push(event.reason));
    const controller = new AbortController();
    const x = a.resilience.forTenant('x');
    const burst = Promise.allSettled(Array.from({ length: 3 }, () => x.chat.completions.create(params, { signal: controller.signal })));
    await expect.poll(() => tenantWaits).toEqual(['tenant', 'tenant']);
    await server.waitForRequests(1);
    expect(server.requests).toHaveLength(1);

    const bWaits = rateLimitWaits(b);
    await b.resilience.forTenant('y').chat.completions.create(params);
    expect(bWaits).toEqual([]);
    expect(server.requests).toHaveLength(2);
    controller.abort();
    expect((await burst).map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
  });

  it('when Redis is down, each process paces on its own and no call fails for it', async () => {
    const { a, b, redisServer } = await twoProcesses({ rateLimit: { requestsPerMinute: 600 } });
    const downs: string[] = [];
    a.resilience.on('sharedStateDown', (event) => downs.push(event.backend));
    await redisServer.stop();
    // Each process has its own full bucket now: 10 calls each go through at once.
    await Promise.all([
      ...Array.from({ length: 10 }, () => a.chat.completions.create(params)),
      ...Array.from({ length: 10 }, () => b.chat.completions.create(params)),
    ]);
    expect(downs).toEqual(['redis']);
    expect(a.resilience.stats().shared).toMatchObject({ backend: 'redis', available: false, outages: 1 });
    expect(a.resilience.stats().shared!.localDecisions).toBeGreaterThanOrEqual(10);
  });
});
