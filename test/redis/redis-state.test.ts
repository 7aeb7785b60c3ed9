import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { resilient } from '../../src/index.js';
import { createRedisState } from '../../src/redis/index.js';
import { connectRedis, startRedisServer } from '../support/redis-server.js';

const pause = { halfOpenAfter: 100, maxHalfOpenAfter: 250 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function state(options?: Parameters<typeof createRedisState>[1]) {
  const server = await startRedisServer();
  const redis = await connectRedis(server);
  return { server, redis, shared: createRedisState(redis, { prefix: 'test:', ...options }) };
}

describe('createRedisState: circuits', () => {
  it('is closed until opened, then open for the pause, then lets one probe through per lease', async () => {
    const { shared } = await state();
    expect(await shared.circuitAdmit('acct:m', 1)).toEqual({ state: 'closed' });
    expect(await shared.circuitOpen('acct:m', pause, false)).toEqual({ retryIn: 100, openings: 1 });
    const open = await shared.circuitAdmit('acct:m', 1);
    expect(open).toMatchObject({ state: 'open', openings: 1 });
    expect(open.state === 'open' && open.retryIn).toBeGreaterThan(50);
    await sleep(110);
    expect(await shared.circuitAdmit('acct:m', 1)).toEqual({ state: 'probe', openings: 1 });
    const probing = await shared.circuitAdmit('acct:m', 1);
    expect(probing).toMatchObject({ state: 'probing', openings: 1 });
    expect(probing.state === 'probing' && probing.retryIn).toBeGreaterThan(29_000);
    // A probe that says nothing about health gives its lease back.
    await shared.circuitRelease('acct:m');
    expect(await shared.circuitAdmit('acct:m', 1)).toEqual({ state: 'probe', openings: 1 });
    await shared.circuitClose('acct:m');
    expect(await shared.circuitAdmit('acct:m', 1)).toEqual({ state: 'closed' });
  });

  it('allows `halfOpenProbes` probes at once, and a lapsed lease frees its place', async () => {
    const { shared } = await state({ probeLease: 60 });
    await shared.circuitOpen('k', { halfOpenAfter: 1, maxHalfOpenAfter: 1 }, false);
    await sleep(5);
    expect((await shared.circuitAdmit('k', 2)).state).toBe('probe');
    expect((await shared.circuitAdmit('k', 2)).state).toBe('probe');
    expect((await shared.circuitAdmit('k', 2)).state).toBe('probing');
    await sleep(70);
    expect((await shared.circuitAdmit('k', 2)).state).toBe('probe');
  });

  it('doubles the pause each time a probe fails, up to maxHalfOpenAfter; an open circuit is not reopened by more failures', async () => {
    const { shared } = await state();
    expect(await shared.circuitOpen('k', pause, false)).toEqual({ retryIn: 100, openings: 1 });
    const again = await shared.circuitOpen('k', pause, false);
    expect(again.openings).toBe(1);
    expect(again.retryIn).toBeLessThanOrEqual(100);
    expect(await shared.circuitOpen('k', pause, true)).toEqual({ retryIn: 200, openings: 2 });
    expect(await shared.circuitOpen('k', pause, true)).toEqual({ retryIn: 250, openings: 3 });
    await shared.circuitClose('k');
    expect(await shared.circuitOpen('k', pause, false)).toEqual({ retryIn: 100, openings: 1 });
  });

  it('keeps everything under the prefix, and an open circuit expires on its own', async () => {
    const { shared, redis } = await state();
    await shared.circuitOpen('acct:m', pause, false);
    await shared.rateReserve('acct:m', 5, { requestsPerMinute: 60 });
    expect((await redis.keys('*')).sort()).toEqual(['test:circuit:acct:m', 'test:rate:acct:m']);
    const ttl = await redis.pTTL('test:circuit:acct:m');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100 + 2 * 30_000);
  });
});

describe('createRedisState: rate limits', () => {
  it('knows nothing (and takes nothing) until a limit is configured or learned', async () => {
    const { shared, redis } = await state();
    expect(await shared.rateReserve('acct:m', 10, {})).toBeUndefined();
    expect(await redis.keys('*')).toEqual([]);
  });

  it('holds one second of a configured limit, then makes callers wait in turn', async () => {
    const { shared } = await state();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await shared.rateReserve('acct:m', 0, { requestsPerMinute: 120 }));
    expect(answers[0]).toMatchObject({ wait: 0 });
    expect(answers[1]).toMatchObject({ wait: 0 });
    expect(answers[2]).toMatchObject({ reason: 'requests' });
    expect(answers[2]!.wait).toBeGreaterThan(400);
    expect(answers[2]!.wait).toBeLessThanOrEqual(500);
    // Giving the reservation back lets the next caller through at once.
    await shared.rateAdjust('acct:m', 2, 0, { requestsPerMinute: 120 });
    expect(await shared.rateReserve('acct:m', 0, { requestsPerMinute: 120 })).toMatchObject({ wait: 0 });
  });

  it('holds a whole minute of tokens, paces them, and takes more when usage exceeds the estimate', async () => {
    const { shared } = await state();
    const configured = { tokensPerMinute: 60_000 };
    expect(await shared.rateReserve('acct:m', 60_000, configured)).toMatchObject({ wait: 0 });
    await shared.rateAdjust('acct:m', 0, -500, configured);
    const answer = await shared.rateReserve('acct:m', 1, configured);
    expect(answer).toMatchObject({ reason: 'tokens' });
    expect(answer!.wait).toBeGreaterThan(400);
  });

  it('learns limits and what is left from headers, but never overrides a configured limit', async () => {
    const { shared } = await state();
    await shared.rateLearn('acct:m', { requestsPerMinute: 600, remainingRequests: 0 }, {});
    const answer = await shared.rateReserve('acct:m', 0, {});
    expect(answer).toMatchObject({ reason: 'requests' });
    expect(answer!.wait).toBeGreaterThan(90);
    expect(answer!.wait).toBeLessThanOrEqual(100);

    await shared.rateLearn('acct:n', { requestsPerMinute: 6 }, { requestsPerMinute: 6_000 });
    for (let i = 0; i < 50; i++) expect(await shared.rateReserve('acct:n', 0, { requestsPerMinute: 6_000 })).toMatchObject({ wait: 0 });
  });

  it('pauses a model for every caller after a 429', async () => {
    const { shared } = await state();
    await shared.ratePause('acct:m', 300, { requestsPerMinute: 6_000 });
    expect(await shared.rateReserve('acct:m', 0, {})).toMatchObject({ reason: 'paused' });
    const answer = await shared.rateReserve('acct:m', 0, { requestsPerMinute: 6_000 });
    expect(answer).toMatchObject({ reason: 'paused' });
    expect(answer!.wait).toBeGreaterThan(250);
  });

  it('holds the buckets empty during a pause, so the calls it holds are spread after it', async () => {
    const { shared } = await state();
    const configured = { requestsPerMinute: 6_000 }; // one per 10 ms, 100 at once
    await shared.ratePause('acct:m', 300, configured);
    const dueAt: number[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await shared.rateReserve('acct:m', 0, configured);
      expect(answer).toMatchObject({ reason: 'paused' });
      if (i === 0) expect(answer!.wait).toBeGreaterThan(250);
      dueAt.push(Date.now() + answer!.wait);
    }
    // One refill interval (10 ms) apart after the pause, instead of all at its end.
    expect(dueAt[2]! - dueAt[0]!).toBeGreaterThanOrEqual(12);
  });
});

describe('createRedisState: the client', () => {
  it('adds one error listener to the client, however many resilient clients use the state', async () => {
    const { redis } = await state();
    const before = redis.listenerCount('error');
    const shared = createRedisState(redis);
    for (let i = 0; i < 50; i++) resilient(new OpenAI({ apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9/v1' }), { shared });
    expect(redis.listenerCount('error')).toBe(before + 1);
  });

  it('keeps the last connection error as the reason the state is unavailable', async () => {
    const { server, redis } = await state();
    const shared = createRedisState(redis);
    await server.stop();
    await expect.poll(() => shared.ready).toBe(false);
    expect(shared.lastError).toBeInstanceOf(Error);
  });
});

describe('createRedisState: options', () => {
  it('throws a TypeError naming the option', async () => {
    const { redis } = await state();
    expect(() => createRedisState(redis, { timeout: 0 })).toThrow(/`createRedisState.timeout`/);
    expect(() => createRedisState(redis, { prefix: 1 as unknown as string })).toThrow(/`createRedisState.prefix`/);
    expect(() => createRedisState(redis, { ttl: 1 } as never)).toThrow(/unknown option `createRedisState.ttl`/);
    expect(() => createRedisState({} as never)).toThrow(TypeError);
    expect(() => createRedisState(redis, { probeLease: 1.5 })).toThrow(TypeError);
  });

  it('reports the client as not ready while it is disconnected, and ready again after it reconnects', async () => {
    const { server, shared } = await state();
    expect(shared.ready).toBe(true);
    await server.stop();
    await expect.poll(() => shared.ready).toBe(false);
    await server.start();
    await expect.poll(() => shared.ready, { timeout: 3_000 }).toBe(true);
    // The restarted server has forgotten the scripts: they are sent again in full.
    expect(await shared.circuitAdmit('k', 1)).toEqual({ state: 'closed' });
  });
});

describe('createRedisState: pauses cut short and their probe', () => {
  it('answers `probing` (taking nothing) while a pause cut short runs, then lets one probe through per lease', async () => {
    const { shared } = await state();
    const configured = { requestsPerMinute: 6_000 };
    await shared.ratePause('acct:long', 60_000, configured, true);
    const during = await shared.rateReserve('acct:long', 0, configured, 60_000);
    expect(during).toMatchObject({ reason: 'probing' });
    expect(during!.wait).toBeGreaterThan(50_000);

    await shared.ratePause('acct:m', 10, configured, true);
    await sleep(30);
    expect(await shared.rateReserve('acct:m', 0, configured, 60_000)).toMatchObject({ probe: true });
    const waiting = await shared.rateReserve('acct:m', 0, configured, 60_000);
    expect(waiting).toMatchObject({ reason: 'probing' });
    expect(waiting!.wait).toBeLessThanOrEqual(1_000);
    // A probe that ended without an answer frees its lease: the next call probes.
    await shared.rateProbeEnd('acct:m', false);
    expect(await shared.rateReserve('acct:m', 0, configured, 60_000)).toMatchObject({ probe: true });
    // Its success ends the probing for everyone.
    await shared.rateProbeEnd('acct:m', true);
    const after = await shared.rateReserve('acct:m', 0, configured, 60_000);
    expect(after).not.toHaveProperty('probe');
    expect(after!.reason).not.toBe('probing');
  });

  it('counts a pause for a reader only up to its own maxPause from when it was set', async () => {
    const { shared } = await state();
    const configured = { requestsPerMinute: 6_000 };
    await shared.ratePause('acct:m', 3_600_000, configured);
    expect(await shared.rateReserve('acct:m', 0, configured, 7_200_000)).toMatchObject({ reason: 'paused' });
    await sleep(30);
    // Past 10 ms from the pause, a reader allowing 10 ms waits only for the held-empty bucket's next request.
    const answer = await shared.rateReserve('acct:m', 0, configured, 10);
    expect(answer).toMatchObject({ reason: 'requests' });
    expect(answer!.wait).toBeLessThanOrEqual(20);
  });
});
