import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { resilient } from '../../src/index.js';
import { createRedisState, type RedisState } from '../../src/redis/index.js';
import { backToBack, connectRedis, startRedisServer } from '../support/redis-server.js';

// Every pause, lease and refill is timed by Redis's clock (the scripts read `TIME`). Where a test needs
// two operations to happen within a pause, it sends them back to back (one pipeline) and reads how much
// Redis time passed between them; waiting for a pause to end sleeps in real time (longer is harmless).
const pause = { halfOpenAfter: 100, maxHalfOpenAfter: 250 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function state(options?: Parameters<typeof createRedisState>[1]) {
  const server = await startRedisServer();
  const redis = await connectRedis(server);
  await loadScripts(createRedisState(redis, { prefix: 'warm-up:' }));
  await redis.flushAll();
  return { server, redis, shared: createRedisState(redis, { prefix: 'test:', ...options }) };
}

/** Runs every script once, so that later runs are one command each (no NOSCRIPT round trip in between). */
async function loadScripts(shared: RedisState): Promise<void> {
  await shared.circuitAdmit('k', 1);
  await shared.circuitOpen('k', pause, false);
  await shared.circuitRelease('k');
  await shared.circuitClose('k');
  await shared.rateReserve('k', 0, { requestsPerMinute: 60 });
  await shared.rateAdjust('k', 0, 0, { requestsPerMinute: 60 });
  await shared.rateLearn('k', { requestsPerMinute: 60 }, {});
  await shared.ratePause('k', 1, { requestsPerMinute: 60 });
}

describe('createRedisState: circuits', () => {
  it('is closed until opened, then open for the pause, then lets one probe through per lease', async () => {
    const { shared, redis } = await state();
    expect(await shared.circuitAdmit('acct:m', 1)).toEqual({ state: 'closed' });
    const opening = await backToBack(redis, () => Promise.all([shared.circuitOpen('acct:m', pause, false), shared.circuitAdmit('acct:m', 1)]));
    const [opened, open] = opening.results;
    expect(opened).toEqual({ retryIn: 100, openings: 1 });
    expect(open).toMatchObject({ state: 'open', openings: 1 });
    expect(open.state === 'open' && open.retryIn).toBeGreaterThanOrEqual(100 - opening.elapsed);
    await sleep(110);
    const probing = await backToBack(redis, () => Promise.all([shared.circuitAdmit('acct:m', 1), shared.circuitAdmit('acct:m', 1)]));
    expect(probing.results[0]).toEqual({ state: 'probe', openings: 1 });
    expect(probing.results[1]).toMatchObject({ state: 'probing', openings: 1 });
    expect(probing.results[1].state === 'probing' && probing.results[1].retryIn).toBeGreaterThanOrEqual(30_000 - probing.elapsed);
    // A probe that says nothing about health gives its lease back.
    await shared.circuitRelease('acct:m');
    expect(await shared.circuitAdmit('acct:m', 1)).toEqual({ state: 'probe', openings: 1 });
    await shared.circuitClose('acct:m');
    expect(await shared.circuitAdmit('acct:m', 1)).toEqual({ state: 'closed' });
  });

  it('allows `halfOpenProbes` probes at once, and a lapsed lease frees its place', async () => {
    const { shared, redis } = await state({ probeLease: 60 });
    // (A long maxHalfOpenAfter keeps the circuit from expiring however long the sleeps below overrun.)
    await shared.circuitOpen('k', { halfOpenAfter: 1, maxHalfOpenAfter: 600_000 }, false);
    await sleep(5);
    // Within one lease (60 ms of Redis time): two probes, then the third is refused.
    const admits = await backToBack(redis, () => Promise.all([1, 2, 3].map(() => shared.circuitAdmit('k', 2))));
    expect(admits.results.map((answer) => answer.state)).toEqual(['probe', 'probe', 'probing']);
    await sleep(70);
    expect((await shared.circuitAdmit('k', 2)).state).toBe('probe');
  });

  it('doubles the pause each time a probe fails, up to maxHalfOpenAfter; an open circuit is not reopened by more failures', async () => {
    const { shared, redis } = await state();
    const twice = await backToBack(redis, () => Promise.all([shared.circuitOpen('k', pause, false), shared.circuitOpen('k', pause, false)]));
    const [first, again] = twice.results;
    expect(first).toEqual({ retryIn: 100, openings: 1 });
    // Still open (within the same 100 ms of Redis time): not reopened, the pause runs on.
    expect(again.openings).toBe(1);
    expect(again.retryIn).toBeLessThanOrEqual(100);
    expect(again.retryIn).toBeGreaterThanOrEqual(100 - twice.elapsed);
    expect(await shared.circuitOpen('k', pause, true)).toEqual({ retryIn: 200, openings: 2 });
    expect(await shared.circuitOpen('k', pause, true)).toEqual({ retryIn: 250, openings: 3 });
    await shared.circuitClose('k');
    expect(await shared.circuitOpen('k', pause, false)).toEqual({ retryIn: 100, openings: 1 });
  });

  it("multiplies the pause by the opening process's jitter factor, growth and cap included", async () => {
    const { shared } = await state();
    expect(await shared.circuitOpen('k', { ...pause, factor: 1.2 }, false)).toEqual({ retryIn: 120, openings: 1 });
    expect(await shared.circuitOpen('k', { ...pause, factor: 0.8 }, true)).toEqual({ retryIn: 160, openings: 2 });
    expect(await shared.circuitOpen('k', { ...pause, factor: 1.2 }, true)).toEqual({ retryIn: 300, openings: 3 });
    // A constant pause (maxHalfOpenAfter = halfOpenAfter) stays around halfOpenAfter however often it reopens.
    const constant = { halfOpenAfter: 1_000, maxHalfOpenAfter: 1_000 };
    for (let i = 0; i < 70; i++) await shared.circuitOpen('c', { ...constant, factor: 0.9 }, true);
    expect(await shared.circuitOpen('c', { ...constant, factor: 1.1 }, true)).toEqual({ retryIn: 1_100, openings: 71 });
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
    const { shared, redis } = await state();
    const reserved = await backToBack(redis, () => Promise.all([1, 2, 3].map(() => shared.rateReserve('acct:m', 0, { requestsPerMinute: 120 }))));
    const answers = reserved.results;
    expect(answers[0]).toMatchObject({ wait: 0 });
    expect(answers[1]).toMatchObject({ wait: 0 });
    // Two a second: the third waits for the next half second, less what Redis's clock moved meanwhile.
    expect(answers[2]).toMatchObject({ reason: 'requests' });
    expect(answers[2]!.wait).toBeGreaterThanOrEqual(500 - reserved.elapsed);
    expect(answers[2]!.wait).toBeLessThanOrEqual(500);
    // Giving the reservation back lets the next caller through at once.
    await shared.rateAdjust('acct:m', 2, 0, { requestsPerMinute: 120 });
    expect(await shared.rateReserve('acct:m', 0, { requestsPerMinute: 120 })).toMatchObject({ wait: 0 });
  });

  it('holds a whole minute of tokens, paces them, and takes more when usage exceeds the estimate', async () => {
    const { shared, redis } = await state();
    const configured = { tokensPerMinute: 60_000 }; // 1 000 a second
    const { results, elapsed } = await backToBack(redis, () =>
      Promise.all([shared.rateReserve('acct:m', 60_000, configured), shared.rateAdjust('acct:m', 0, -500, configured), shared.rateReserve('acct:m', 1, configured)]),
    );
    expect(results[0]).toMatchObject({ wait: 0 });
    // 501 tokens in debt: about half a second, less what Redis's clock moved meanwhile.
    expect(results[2]).toMatchObject({ reason: 'tokens' });
    expect(results[2]!.wait).toBeGreaterThanOrEqual(501 - elapsed);
    expect(results[2]!.wait).toBeLessThanOrEqual(501);
  });

  it('learns limits and what is left from headers, but never overrides a configured limit', async () => {
    const { shared, redis } = await state();
    const { results, elapsed } = await backToBack(redis, () =>
      Promise.all([shared.rateLearn('acct:m', { requestsPerMinute: 600, remainingRequests: 0 }, {}), shared.rateReserve('acct:m', 0, {})]),
    );
    const answer = results[1];
    expect(answer).toMatchObject({ reason: 'requests' });
    expect(answer!.wait).toBeGreaterThanOrEqual(100 - elapsed);
    expect(answer!.wait).toBeLessThanOrEqual(100);

    await shared.rateLearn('acct:n', { requestsPerMinute: 6 }, { requestsPerMinute: 6_000 });
    for (let i = 0; i < 50; i++) expect(await shared.rateReserve('acct:n', 0, { requestsPerMinute: 6_000 })).toMatchObject({ wait: 0 });
  });

  it('pauses a model for every caller after a 429', async () => {
    const { shared, redis } = await state();
    const { results, elapsed } = await backToBack(redis, () =>
      Promise.all([
        shared.ratePause('acct:m', 300, { requestsPerMinute: 6_000 }),
        shared.rateReserve('acct:m', 0, {}),
        shared.rateReserve('acct:m', 0, { requestsPerMinute: 6_000 }),
      ]),
    );
    expect(results[1]).toMatchObject({ reason: 'paused' });
    expect(results[2]).toMatchObject({ reason: 'paused' });
    expect(results[2]!.wait).toBeGreaterThanOrEqual(300 - elapsed);
  });

  it('holds the buckets empty during a pause, so the calls it holds are spread after it', async () => {
    const { shared, redis } = await state();
    const configured = { requestsPerMinute: 6_000 }; // one per 10 ms, 100 at once
    const { results, elapsed } = await backToBack(redis, () =>
      Promise.all([shared.ratePause('acct:m', 300, configured), ...[1, 2, 3].map(() => shared.rateReserve('acct:m', 0, configured))]),
    );
    const answers = results.slice(1);
    for (const answer of answers) expect(answer).toMatchObject({ reason: 'paused' });
    // The k-th call is due k refill intervals (10 ms) after the pause, instead of all at its end: its wait
    // is 300 + 10k ms from the pause, less the Redis time that passed before it asked.
    answers.forEach((answer, k) => {
      expect(answer!.wait).toBeLessThanOrEqual(300 + 10 * (k + 1));
      expect(answer!.wait).toBeGreaterThanOrEqual(300 + 10 * (k + 1) - elapsed);
    });
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
    expect(() => createRedisState(redis, { slotLease: 2 })).toThrow(/`createRedisState.slotLease`/);
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
