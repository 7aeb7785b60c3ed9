import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { resilient, type AttemptStartEvent, type PoolMember, type RateLimitWaitEvent, type ResilienceOptions } from '../../src/index.js';
import { createRedisState } from '../../src/redis/index.js';
import { FakeClock, faults, type FaultServer, type FaultServerOptions } from '../../src/testing/index.js';
import { connectRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { faultServer } from '../support/pool-members.js';

// Pools in two "processes": clients with nothing in common but the members' endpoints and keys, and the
// Redis they share. A member's circuits and limits are stored under its own account (endpoint and key),
// so what one process learns of a member, the other knows too; and so does a plain client of that account.

const gpt41 = { model: 'gpt-4.1', messages: [{ role: 'user' as const, content: 'hi' }] };

/** The member servers, and a way to make a "process": a pool of clients of them sharing `redisServer`. */
async function members(serverOptions: FaultServerOptions[], redisServer: RedisServer) {
  const servers: FaultServer[] = [];
  for (const options of serverOptions) servers.push(await faultServer(options));
  /** A client of member `index` as a process builds it (same endpoint and key, another instance). */
  const client = (index: number, apiKey = `sk-member-${index}`) => new OpenAI({ apiKey, baseURL: servers[index]!.url, maxRetries: 0 });
  const shared = async () => createRedisState(await connectRedis(redisServer), { prefix: 'test:', timeout: 10_000 });
  const process = async (options: ResilienceOptions, entries: PoolMember<OpenAI>[] = servers.map((_, index) => ({ client: client(index), name: `m${index}` }))) => {
    const ai = resilient(entries as [PoolMember<OpenAI>, ...PoolMember[]], {
      pool: { routing: 'ordered' }, retry: false, bulkhead: false, rateLimit: false, shared: await shared(), ...options,
    });
    const starts: AttemptStartEvent[] = [];
    ai.resilience.on('attemptStart', (event) => starts.push(event));
    return { ai, members: () => starts.map((event) => event.member) };
  };
  return { servers, client, shared, process };
}

describe('pools sharing member state through Redis', () => {
  const breaker = { consecutiveFailures: 1, halfOpenAfter: 60_000, jitter: false };

  it('a member\'s circuit opened by one process is skipped by the other, which sends it nothing', async () => {
    const redisServer = await startRedisServer();
    const { servers, process } = await members([{}, {}], redisServer);
    const clock = new FakeClock(1_700_000_000_000);
    const a = await process({ clock, circuitBreaker: breaker });
    const b = await process({ clock, circuitBreaker: breaker });
    servers[0]!.enqueue(faults.serverError(500));
    await expect(a.ai.chat.completions.create(gpt41)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    expect(a.ai.resilience.circuits()).toMatchObject({ 'm0/gpt-4.1': 'open' });
    const admin = await connectRedis(redisServer);
    await expect.poll(async () => (await admin.keys('test:circuit:*')).length).toBe(1);

    // B never saw m0 fail; ordered routing prefers m0, yet B's calls go to m1.
    await b.ai.chat.completions.create(gpt41);
    await b.ai.chat.completions.create(gpt41);
    expect(servers.map((server) => server.requestsTo('/chat/completions').length)).toEqual([1, 2]);
    expect(b.members()).toEqual(['m1', 'm1']);
    expect(b.ai.resilience.circuits()).toMatchObject({ 'm0/gpt-4.1': 'open' });
  });

  it('a circuit opened by a plain client of a member\'s account is skipped by a pool holding that member', async () => {
    const redisServer = await startRedisServer();
    const { servers, client, shared, process } = await members([{}, {}], redisServer);
    const clock = new FakeClock(1_700_000_000_000);
    const plain = resilient(client(0), { clock, retry: false, bulkhead: false, rateLimit: false, shared: await shared(), circuitBreaker: breaker });
    const pool = await process({ clock, circuitBreaker: breaker });
    servers[0]!.enqueue(faults.serverError(500));
    await expect(plain.chat.completions.create(gpt41)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const admin = await connectRedis(redisServer);
    await expect.poll(async () => (await admin.keys('test:circuit:*')).length).toBe(1);

    await pool.ai.chat.completions.create(gpt41);
    expect(pool.members()).toEqual(['m1']);
    expect(servers.map((server) => server.requestsTo('/chat/completions').length)).toEqual([1, 1]);

    // And the other way round: m1's circuit opened by the pool, a plain client of m1's account fails fast.
    servers[1]!.enqueue(faults.serverError(500));
    await expect(pool.ai.chat.completions.create(gpt41)).rejects.toThrow();
    const plainM1 = resilient(client(1), { clock, retry: false, bulkhead: false, rateLimit: false, shared: await shared(), circuitBreaker: breaker });
    await expect.poll(async () => (await admin.keys('test:circuit:*')).length).toBe(2);
    await expect(plainM1.chat.completions.create(gpt41)).rejects.toMatchObject({ name: 'CircuitOpenError' });
    expect(servers[1]!.requestsTo('/chat/completions')).toHaveLength(2);
  });

  it('members on one endpoint with different keys do not share a circuit: each is its own account', async () => {
    const redisServer = await startRedisServer();
    const { servers, client, process } = await members([{}], redisServer);
    const clock = new FakeClock(1_700_000_000_000);
    const entries = () => [{ client: client(0, 'sk-a'), name: 'a' }, { client: client(0, 'sk-b'), name: 'b' }];
    const first = await process({ clock, circuitBreaker: breaker }, entries());
    const second = await process({ clock, circuitBreaker: breaker }, entries());
    servers[0]!.enqueue(faults.serverError(500));
    await expect(first.ai.chat.completions.create(gpt41)).rejects.toThrow();
    const admin = await connectRedis(redisServer);
    await expect.poll(async () => (await admin.keys('test:circuit:*')).length).toBe(1);

    // In the second process, member `a` (sk-a) is skipped; member `b` (sk-b) is not, though it is the same endpoint.
    await second.ai.chat.completions.create(gpt41);
    expect(second.members()).toEqual(['b']);
    expect(servers[0]!.requests.map((request) => request.headers['authorization'])).toEqual(['Bearer sk-a', 'Bearer sk-b']);
  });
});

describe('pools sharing learned rate limits through Redis', () => {
  it('a member\'s limits learned from its headers by one process send the other\'s calls to another member', async () => {
    const redisServer = await startRedisServer();
    // m0's account allows 6 requests a minute: one now, the next in 10 s.
    const { servers, process } = await members([{ capacity: { requestsPerMinute: 6 } }, {}], redisServer);
    const options: ResilienceOptions = { rateLimit: {}, timeout: { total: 5_000 } };
    const a = await process(options);
    const b = await process(options);
    await a.ai.chat.completions.create(gpt41);
    const admin = await connectRedis(redisServer);
    await expect.poll(async () => (await admin.keys('test:rate:*')).length).toBe(1);

    // B never had an answer from m0, yet knows it has no request left for 10 s: its calls go to m1.
    const waits: RateLimitWaitEvent[] = [];
    b.ai.resilience.on('rateLimitWait', (event) => waits.push(event));
    await b.ai.chat.completions.create(gpt41);
    await b.ai.chat.completions.create(gpt41);
    expect(servers.map((server) => server.requestsTo('/chat/completions').length)).toEqual([1, 2]);
    expect(servers[0]!.stats().rateLimited).toBe(0);
    expect(waits).toEqual([]);
  });

  it('a member paused by a 429 in one process is skipped by the other, which does not wait for it', async () => {
    const redisServer = await startRedisServer();
    const { servers, process } = await members([{}, {}], redisServer);
    // The pause (3 s) is well within the calls' deadline: a call that waited for m0 would get there.
    const options: ResilienceOptions = { rateLimit: {}, timeout: { total: 60_000 } };
    const a = await process(options);
    const b = await process(options);
    servers[0]!.enqueue(faults.rateLimited({ retryAfterMs: 3_000, noRetryHeaders: true }));
    await expect(a.ai.chat.completions.create(gpt41)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const admin = await connectRedis(redisServer);
    await expect.poll(async () => (await admin.keys('test:rate:*')).length).toBe(1);

    const waits: RateLimitWaitEvent[] = [];
    b.ai.resilience.on('rateLimitWait', (event) => waits.push(event));
    await b.ai.chat.completions.create(gpt41);
    expect(b.members()).toEqual(['m1']);
    expect(servers.map((server) => server.requestsTo('/chat/completions').length)).toEqual([1, 1]);
    expect(waits).toEqual([]);
  });
});
