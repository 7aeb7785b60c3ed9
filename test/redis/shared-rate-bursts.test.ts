import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { RateLimitTimeoutError, resilient, type ResilienceOptions, type SharedRateAnswer } from '../../src/index.js';
import { createRedisState } from '../../src/redis/index.js';
import { startFaultServer, type FaultServer, type FaultServerOptions } from '../../src/testing/index.js';
import { chatParams, rejectionOf } from '../support/harness.js';
import { backToBack, connectRedis, startRedisServer } from '../support/redis-server.js';

// Every rate here refills one request per 10 s of Redis's (real) time, and every wait asserted is either
// none or one of those intervals: whatever this machine's load, a test ends long before a refill could
// change what it checks, and a call that would need one is refused for its 5 s deadline.
const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function redisState() {
  const redisServer = await startRedisServer();
  const redis = await connectRedis(redisServer);
  // A generous command timeout: a loaded machine must not turn a slow answer into a local decision.
  return { redisServer, redis, shared: createRedisState(redis, { prefix: 'test:', timeout: 10_000 }) };
}

const learned = { requestsPerMinute: 6 };

describe('shared rate limits: what the server grants (scripts)', () => {
  it("reads what is left against the answered reservation's place, and widens bursts only as answers confirm them", async () => {
    const { shared, redis } = await redisState();
    // What a first call answered alone (before any shared reservation) said: 6 a minute, 5 left.
    await shared.rateLearn('k', { ...learned, remainingRequests: 5 }, {});
    const { results } = await backToBack(redis, () => Promise.all(Array.from({ length: 6 }, () => shared.rateReserve('k', 0, {}))));
    const answers = results as SharedRateAnswer[];
    // One second's worth goes at once; the server's word covers four more, which wait for answers (soonest 0)
    // rather than for the refill; the sixth is beyond what the server has (a refill away: 10 s).
    expect(answers.map((answer) => answer.wait === 0)).toEqual([true, false, false, false, false, false]);
    expect(answers.map((answer) => answer.soonest)).toEqual([0, 0, 0, 0, 0, expect.any(Number)]);
    expect(answers[5]!.soonest).toBeGreaterThan(5_000);
    expect(answers.map((answer) => answer.places?.requests)).toEqual([0, 1, 2, 3, 4, 5]);

    // The first one's success (4 left after it) lets two more go, not more.
    const first = answers[0]!;
    await shared.rateLearn('k', { ...learned, remainingRequests: 4 }, {}, {
      places: first.places!, marks: first.marks, tokens: 0, rateLimited: false, succeeded: true, elapsed: 0,
    });
    const checks = await Promise.all(answers.slice(1).map((answer) => shared.rateCheck('k', answer.places!, 0, {})));
    expect(checks.map((check) => check.wait === 0)).toEqual([true, true, false, false, false]);
    // Answered, or over without an answer (a 500 without headers): no longer in flight for those sent after.
    expect(await redis.hmGet('test:rate:k', ['rad', 'ran'])).toEqual(['3', '1']);
    const second = { places: answers[1]!.places!, marks: checks[0]!.marks, tokens: 0, rateLimited: false, succeeded: false, elapsed: 0 };
    await shared.rateLearn('k', {}, {}, second);
    expect(await redis.hmGet('test:rate:k', ['rad', 'ran'])).toEqual(['3', '2']);
  });

  it('a 429 despite headroom paces the limit finely for every process; one of a request sent before that says nothing new', async () => {
    const { shared, redis } = await redisState();
    await shared.rateLearn('k', { ...learned, remainingRequests: 5 }, {});
    const [early, late] = [await shared.rateReserve('k', 0, {}), await shared.rateReserve('k', 0, {})];
    const refused = (answer: SharedRateAnswer) => ({
      places: answer.places!, marks: answer.marks, tokens: 0, rateLimited: true, succeeded: false, limitType: 'requests' as const, elapsed: 0,
    });
    // Refused although 4 were left: the server enforces a shorter window than its headers count.
    await shared.rateLearn('k', { ...learned, remainingRequests: 4 }, {}, refused(early!));
    expect(await redis.hGet('test:rate:k', 'rn')).toBe('1');
    // Another refusal of a request sent before that (the second went at the same time) changes nothing.
    const lateChecked = await shared.rateCheck('k', late!.places!, 0, {});
    await shared.rateLearn('k', { ...learned, remainingRequests: 4 }, {}, refused({ ...late!, marks: lateChecked.marks ?? late!.marks }));
    expect(await redis.hGet('test:rate:k', 'rn')).toBe('1');
    // Finely paced: 5% below the limit, whatever the headers say is left.
    const { results, elapsed } = await backToBack(redis, () => Promise.all([shared.rateReserve('k', 0, {}), shared.rateReserve('k', 0, {})]));
    const interval = Math.floor(10_000 / 0.95); // (each wait is rounded up to whole ms)
    expect(results[1]!.wait - results[0]!.wait).toBeGreaterThanOrEqual(interval - elapsed);
    expect(results[1]!.soonest).toBe(results[1]!.wait);
  });
});

describe('shared rate limits: two processes spend what the server grants', () => {
  /** Two "processes": resilient clients with nothing in common but the Redis they share, against one account. */
  async function twoProcesses(serverOptions: FaultServerOptions, options: ResilienceOptions = {}) {
    const server = await startFaultServer(serverOptions);
    servers.push(server);
    const { redisServer, redis } = await redisState();
    const make = async () =>
      resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0 }), {
        retry: false, bulkhead: false, circuitBreaker: false, timeout: { total: 5_000 },
        shared: createRedisState(await connectRedis(redisServer), { prefix: 'test:', timeout: 10_000 }),
        ...options,
      });
    return { server, redis, a: await make(), b: await make() };
  }

  /** Waits until the limit a process learned is in Redis. */
  async function learnedInRedis(redis: Awaited<ReturnType<typeof redisState>>['redis']) {
    await expect.poll(async () => Promise.all((await redis.keys('test:rate:*')).map((key) => redis.hGet(key, 'rpm')))).toEqual(['6']);
  }

  it("one process learns the account's headroom; the other bursts into it as answers confirm it, and what both sent is spent once", async () => {
    // 6 a minute in a bucket of the whole minute: 6 at once, then one every 10 s. A deadline of 9 s: short of
    // a refill, with room for answers that come back slowly on a loaded machine (real sockets, real Redis).
    const { a, b, server, redis } = await twoProcesses({ capacity: { requestsPerMinute: 6, burstSeconds: 60 } }, { timeout: { total: 9_000 } });
    await a.chat.completions.create(chatParams);
    await learnedInRedis(redis);
    // B never saw a header: 5 calls at once. The shared buckets let one second's worth go and the others as
    // B's answers come back; none waits for a refill (which would pass its 9 s deadline).
    const calls = await Promise.allSettled(Array.from({ length: 5 }, () => b.chat.completions.create(chatParams)));
    expect(calls.map((call) => call.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    // The account is spent: A's next call would wait for a refill, so it is refused without a request.
    expect(await rejectionOf(a.chat.completions.create(chatParams))).toBeInstanceOf(RateLimitTimeoutError);
    expect(server.stats()).toMatchObject({ received: 6, admitted: 6, rateLimited: 0 });
  });

  it('a 429 despite headroom in one process makes the shared pacing finer for both', async () => {
    // 6 a minute announced as a bucket of 6, but enforced one per 10 s.
    const { a, b, server, redis } = await twoProcesses({ capacity: { requestsPerMinute: 6, burstSeconds: 60, shortWindowSeconds: 10 } });
    await a.chat.completions.create(chatParams);
    await learnedInRedis(redis);
    // B's first call goes (one second's worth) and is refused by the 10 s window, with 5 left in the headers;
    // its second, which waited for that answer, now waits for fine pacing (and the pause): past its deadline.
    const [first, second] = await Promise.all([rejectionOf(b.chat.completions.create(chatParams)), rejectionOf(b.chat.completions.create(chatParams))]);
    expect(first).toBeInstanceOf(OpenAI.RateLimitError);
    expect(second).toBeInstanceOf(RateLimitTimeoutError);
    const [key] = await redis.keys('test:rate:*');
    await expect.poll(() => redis.hGet(key!, 'rn')).toBe('1');
    // A, which saw no 429, is paced finely too: its next call is refused without a request.
    expect(await rejectionOf(a.chat.completions.create(chatParams))).toBeInstanceOf(RateLimitTimeoutError);
    expect(server.stats()).toMatchObject({ received: 2, rateLimited: 1 });
  });
});
