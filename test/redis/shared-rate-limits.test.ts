import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { RateLimitTimeoutError, resilient, type ResilienceOptions } from '../../src/index.js';
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
      shared: createRedisState(await connectRedis(redisServer), { prefix: 'test:' }),
      ...options,
    });
  return { server, redisServer, a: await make(), b: await make() };
}

describe('shared rate limits', () => {
  it('two processes share one configured limit: what one used, the other waits for', async () => {
    const { a, b, server } = await twoProcesses({ rateLimit: { requestsPerMinute: 120 }, timeout: { total: 400 } });
    // The bucket holds one second's worth (2 requests): A spends it.
    await Promise.all([a.chat.completions.create(params), a.chat.completions.create(params)]);
    // B would have to wait ~500 ms for the next request, past its 400 ms deadline: refused without a request.
    await expect(b.chat.completions.create(params)).rejects.toBeInstanceOf(RateLimitTimeoutError);
    expect(server.requests).toHaveLength(2);
  });

  it('a limit learned from headers by one process paces the other', async () => {
    const { a, b, server, redisServer } = await twoProcesses({ timeout: { total: 500 } }, { capacity: { requestsPerMinute: 60 } });
    await a.chat.completions.create(params);
    // What A learned is written to Redis after its call returns.
    const redis = await connectRedis(redisServer);
    await expect.poll(async () => Promise.all((await redis.keys('test:rate:*')).map((key) => redis.hGet(key, 'rpm')))).toEqual(['60']);
    // The learned bucket (one request per second) has been spent by A's call... the shared level was set
    // from `x-ratelimit-remaining-requests`; B's calls can take at most what is left of this second.
    const outcomes = await Promise.allSettled([b.chat.completions.create(params), b.chat.completions.create(params)]);
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const outcome of refused) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(RateLimitTimeoutError);
    // No 429 was provoked: the server admitted every request it got.
    expect(server.stats().rateLimited).toBe(0);
  });

  it('a 429 pauses the model for every process', async () => {
    const { a, b, server } = await twoProcesses({ rateLimit: { requestsPerMinute: 6_000 }, timeout: { total: 2_000 } });
    server.enqueue(faults.rateLimited({ retryAfterMs: 300, noRetryHeaders: true }));
    await expect(a.chat.completions.create(params)).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const waits: Array<{ reason: string; delay: number }> = [];
    b.resilience.on('rateLimitWait', (event) => waits.push({ reason: event.reason, delay: event.delay }));
    const started = Date.now();
    await b.chat.completions.create(params);
    expect(waits).toHaveLength(1);
    expect(waits[0]!.reason).toBe('paused');
    expect(waits[0]!.delay).toBeGreaterThan(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it("a tenant over its share reserves no shared capacity while it waits for its share, so another process's call goes at once", async () => {
    // 120 per minute for the model (2 at once); each tenant may use half (1 at once, then 1 per second).
    const { a, b, server } = await twoProcesses({ rateLimit: { requestsPerMinute: 120, tenantShare: 0.5 } });
    const tenantWaits: string[] = [];
    a.resilience.on('rateLimitWait', (event) => tenantWaits.push(event.reason));
    const controller = new AbortController();
    const x = a.resilience.forTenant('x');
    const burst = Promise.allSettled(Array.from({ length: 3 }, () => x.chat.completions.create(params, { signal: controller.signal })));
    await expect.poll(() => tenantWaits).toEqual(['tenant', 'tenant']);
    expect(server.requests).toHaveLength(1);

    const bWaits: number[] = [];
    b.resilience.on('rateLimitWait', (event) => bWaits.push(event.delay));
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
