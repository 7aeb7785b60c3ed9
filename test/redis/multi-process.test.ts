/**
 * `openai-resilient/redis` across real OS processes: worker processes (`fixtures/worker.ts`, started with
 * `child_process.fork()`) with nothing in common but one `redis-server` and one fault server (in this
 * process, which counts what reaches it).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { faults, startFaultServer, type FaultServer, type FaultServerOptions } from '../../src/testing/index.js';
import { connectRedis, redisTime, startRedisServer, type RedisServer } from '../support/redis-server.js';
import type { CallOutcome, CallParams, RunResult, WorkerEvent, WorkerInit } from './fixtures/protocol.js';
import { bundleWorker, startWorkers, type Worker } from './fixtures/workers.js';

const PREFIX = 'test:';
const MODEL = 'gpt-4.1-mini';
const params: CallParams = { model: MODEL, content: 'hi' };

let bundle: Awaited<ReturnType<typeof bundleWorker>>;
beforeAll(async () => {
  bundle = await bundleWorker();
});
afterAll(() => bundle?.dispose());

const faultServers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(faultServers.splice(0).map((server) => server.close()));
});

async function faultServer(options?: FaultServerOptions): Promise<FaultServer> {
  const server = await startFaultServer(options);
  faultServers.push(server);
  return server;
}

function workerInit(redis: RedisServer, server: FaultServer, options: Partial<WorkerInit> = {}): WorkerInit {
  return {
    redisUrl: redis.url,
    baseURL: server.url,
    apiKey: 'sk-test-key',
    // A generous timeout: a loaded machine must not turn a slow answer into an outage (and a decision
    // taken on local state); an outage that is one (a killed Redis) is seen at once from the connection.
    state: { prefix: PREFIX, timeout: 10_000, retryInterval: 100 },
    ...options,
  };
}

const failures = (result: RunResult): CallOutcome[] => result.outcomes.filter((outcome) => !outcome.ok);
const reasonsOpened = (worker: Worker): string[] =>
  worker.events.flatMap((event) => (event.name === 'circuitOpen' ? [event.reason] : []));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` in real time; fails after `timeoutMs`. */
async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(5);
  }
}

/** Every key of the Redis server, with every string its value holds (strings and hashes). */
async function dumpRedis(redis: RedisServer): Promise<Map<string, string[]>> {
  const client = await connectRedis(redis);
  const keys = (await client.sendCommand(['KEYS', '*'])) as string[];
  const dump = new Map<string, string[]>();
  for (const key of keys) {
    const type = String(await client.sendCommand(['TYPE', key]));
    expect(['string', 'hash'], `type of ${key}`).toContain(type);
    const reply = await client.sendCommand(type === 'string' ? ['GET', key] : ['HGETALL', key]);
    // A hash comes as [field, value, ...] (RESP2) or as a map (RESP3).
    const strings: unknown[] =
      Array.isArray(reply) ? reply
      : reply instanceof Map ? [...reply].flat()
      : typeof reply === 'object' && reply !== null ? Object.entries(reply).flat()
      : [reply];
    dump.set(key, strings.map(String));
  }
  return dump;
}

describe('openai-resilient/redis across processes', () => {
  it('three processes on one Redis are never sent faster than one shared rateLimit.requestsPerMinute allows', { timeout: 30_000 }, async () => {
    // A limit low enough that three unpaced processes far exceed it even on a busy machine.
    const requestsPerMinute = 600;
    const burst = requestsPerMinute / 60; // the shared bucket holds one second's worth: 10
    const interval = 60_000 / requestsPerMinute; // then one request every 100 ms, whoever sends it
    const callsEach = 15;
    const server = await faultServer();
    const redis = await startRedisServer();
    // `learn: false`: the configured limit alone (the fault server's static headers would say 499 are left
    // whatever is sent, and x-ratelimit-remaining-* says what may go once heard).
    const workers = await startWorkers(bundle.path, ['a', 'b', 'c'], workerInit(redis, server, { rateLimit: { requestsPerMinute, learn: false } }));

    // Five loops per process, each calling again as soon as its call is over: unpaced, far beyond 10/s
    // (each process alone would allow itself 10 at once and 10/s; together, without sharing, 30 and 30/s).
    const startedAt = await redisTime(await connectRedis(redis));
    const startAt = Date.now() + 100;
    const results = await Promise.all(workers.map((worker) => worker.run(params, { calls: callsEach, concurrency: 5, startAt })));

    for (const result of results) expect(failures(result)).toEqual([]);
    for (const result of results) expect(result.shared).toMatchObject({ backend: 'redis', available: true, outages: 0, localDecisions: 0 });
    const times = server.requestsTo('/chat/completions').map((request) => request.receivedAt).sort((a, b) => a - b);
    expect(times).toHaveLength(3 * callsEach);

    // The bucket lives in Redis and is timed by Redis's clock: since `startedAt` (read before any call) it
    // can have granted the burst plus one request per interval, so the k-th request of the run, whichever
    // process sent it, cannot be due before startedAt + (k - burst) × interval. A process waits for what
    // it was granted (a timer set after the grant), so it cannot send earlier either: a busy machine only
    // makes requests later (and bunched), never sooner. The same host's wall clock stamps the arrivals;
    // 5 ms covers rounding to milliseconds. Unshared, three buckets would let the 30th request through at once.
    expect(earlyArrivals(times, startedAt, burst, interval)).toEqual([]);
    // And the run as a whole: 45 requests cannot have taken less than (45 - 10) × 100 ms of Redis time.
    expect(times.at(-1)! - startedAt).toBeGreaterThanOrEqual((3 * callsEach - burst) * interval - 5);
  });

  it('a circuit opened by one process makes the others fail fast, and only one process probes', { timeout: 30_000 }, async () => {
    // The processes run on fake clocks: the pause lasts until the test ends it (every clock and the circuit
    // stored in Redis move on together), so it cannot run out while B and C are still asking. Calls do not
    // wait for the probe here (`waitForProbe: 0`): shared-circuits.test.ts covers the wait.
    const halfOpenAfter = 60_000;
    const server = await faultServer();
    const redis = await startRedisServer();
    const circuitBreaker = { consecutiveFailures: 2, halfOpenAfter, jitter: false, waitForProbe: 0 };
    const workers = await startWorkers(bundle.path, ['a', 'b', 'c'], workerInit(redis, server, { circuitBreaker, fakeClock: true }));
    const [a, b, c] = workers;
    const client = await connectRedis(redis);
    const sharedCircuits = async () => (await client.keys(`${PREFIX}circuit:*`)) as string[];

    // A sees two 5xx in a row and opens its circuit, which it writes to Redis.
    server.enqueue(faults.serverError(500), faults.serverError(502));
    const opened = await a!.run(params, { calls: 2 });
    expect(opened.outcomes.map((outcome) => outcome.error?.kind)).toEqual(['server_error', 'server_error']);
    expect(reasonsOpened(a!)).toEqual(['consecutive_failures']);
    await eventually(async () => (await sharedCircuits()).length === 1, 'the open circuit written to Redis');

    // B and C have seen no failure, yet refuse at once, without a request.
    const refused = await Promise.all([b!, c!].map((worker) => worker.run(params, { calls: 3 })));
    for (const result of refused) {
      expect(result.outcomes.map((outcome) => [outcome.ok, outcome.error?.name, outcome.error?.kind])).toEqual(
        Array(3).fill([false, 'CircuitOpenError', 'circuit_open']),
      );
      expect(result.circuits).toEqual({ [MODEL]: 'open' });
    }
    expect(reasonsOpened(b!)).toEqual(['shared']);
    expect(reasonsOpened(c!)).toEqual(['shared']);
    expect(server.requests).toHaveLength(2);

    // The pause is over, for every process and in Redis. All three call at once, with their answers held:
    // one holds the probe lease and its request is in flight; the other two fail fast instead of probing.
    await Promise.all(workers.map((worker) => worker.advance(halfOpenAfter)));
    for (const key of await sharedCircuits()) await client.hIncrBy(key, 'retryAt', -halfOpenAfter);
    for (const worker of workers) worker.holdAnswers();
    const startAt = Date.now() + 150;
    const ended: number[] = [];
    const probing = workers.map((worker, i) => worker.run(params, { calls: 1, startAt }).then((result) => (ended.push(i), result)));
    await server.waitForRequests(3);
    await eventually(() => ended.length === 2, 'two calls refused while the probe is in flight');
    expect(server.requests).toHaveLength(3);
    const prober = [0, 1, 2].find((i) => !ended.includes(i));
    for (const worker of workers) worker.releaseAnswers();
    const outcomes = (await Promise.all(probing)).map((result) => result.outcomes[0]!);
    const probes = outcomes.filter((outcome) => outcome.ok);
    const others = outcomes.filter((outcome) => !outcome.ok);
    expect(probes).toHaveLength(1);
    expect(others.map((outcome) => outcome.error?.name)).toEqual(['CircuitOpenError', 'CircuitOpenError']);
    expect(outcomes.indexOf(probes[0]!)).toBe(prober);

    // The probe succeeded: closed for everyone.
    await eventually(async () => (await sharedCircuits()).length === 0, 'the circuit closed in Redis');
    const after = await Promise.all(workers.map((worker) => worker.run(params, { calls: 1 })));
    for (const result of after) {
      expect(failures(result)).toEqual([]);
      expect(result.circuits).toEqual({ [MODEL]: 'closed' });
    }
    expect(server.requests).toHaveLength(6);
  });

  it('a response cached by one process is served to another; Redis never sees the prompt or the API key', { timeout: 30_000 }, async () => {
    const secret = randomUUID();
    const apiKey = `sk-proj-${secret.replaceAll('-', '')}`;
    const prompt = `What is the launch code ${secret}?`;
    const request: CallParams = { model: MODEL, content: prompt, temperature: 0 };
    const server = await faultServer();
    const redis = await startRedisServer();
    const [a, b] = await startWorkers(bundle.path, ['a', 'b'], workerInit(redis, server, { apiKey, cache: true }));

    const first = await a!.run(request, { calls: 1 });
    expect(failures(first)).toEqual([]);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers['authorization']).toBe(`Bearer ${apiKey}`);
    const client = await connectRedis(redis);
    await eventually(
      async () => ((await client.sendCommand(['KEYS', `${PREFIX}cache:*`])) as string[]).length === 1,
      'the cache entry written to Redis',
    );

    const second = await b!.run(request, { calls: 1 });
    expect(failures(second)).toEqual([]);
    expect(second.outcomes[0]!.responseId).toBe(first.outcomes[0]!.responseId);
    expect(second.outcomes[0]!.text).toBe(first.outcomes[0]!.text);
    expect(server.requests).toHaveLength(1);
    expect(b!.events.filter((event) => event.name === 'cacheHit')).toHaveLength(1);

    const dump = await dumpRedis(redis);
    expect([...dump.keys()].some((key) => key.startsWith(`${PREFIX}cache:`))).toBe(true);
    const needles = [prompt, secret, apiKey, apiKey.slice(8), 'launch code'];
    for (const [key, values] of dump) {
      expect(key.startsWith(PREFIX), key).toBe(true);
      // Raw, and decoded in case a value is merely base64 (a sealed value is: it must not open by itself).
      const texts = [key, ...values, ...values.map((value) => Buffer.from(value, 'base64').toString('latin1'))];
      for (const text of texts) for (const needle of needles) expect(text, `${key} holds ${needle}`).not.toContain(needle);
    }
  });

  it('stopping and restarting redis-server mid-run loses no call, and the shared state is used again', { timeout: 30_000 }, async () => {
    const server = await faultServer({ latencyMs: 10 });
    const redis = await startRedisServer();
    const init = workerInit(redis, server, {
      // Calls refused by the circuit A opens fail at once, however long this machine takes to make them.
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfter: 5_000, waitForProbe: 0 },
      rateLimit: { requestsPerMinute: 60_000, tokensPerMinute: 100_000_000 },
      cache: true,
    });
    const workers = await startWorkers(bundle.path, ['a', 'b', 'c'], init);
    const [a, b, c] = workers;
    const count = () => server.requests.length;
    const hasEvent = (name: WorkerEvent['name']) => (event: WorkerEvent) => event.name === name;

    // A steady stream of calls (each a different cacheable request: a cache read and write each).
    const stream: CallParams = { model: MODEL, content: 'steady', temperature: 0, uniquePrompt: true };
    const runs = workers.map((worker) => worker.run(stream, { concurrency: 2 }));
    await eventually(() => count() >= 30, 'calls before the outage');

    await redis.stop();
    await Promise.all(workers.map((worker) => worker.waitForEvent(hasEvent('sharedStateDown'))));
    const down = { at: Date.now(), requests: count() };
    await eventually(() => count() >= down.requests + 50 && Date.now() >= down.at + 300, 'calls during the outage');

    await redis.start();
    await Promise.all(workers.map((worker) => worker.waitForEvent(hasEvent('sharedStateUp'))));
    const up = count();
    await eventually(() => count() >= up + 50, 'calls after the restart');
    for (const worker of workers) worker.stop();
    const results = await Promise.all(runs);

    for (const [i, result] of results.entries()) {
      const worker = workers[i]!;
      expect(failures(result), `failed calls of ${worker.name}`).toEqual([]);
      expect(result.outcomes.length).toBeGreaterThan(10);
      // Down, then up again (a loaded machine may add a short outage of its own: always in pairs).
      const names = worker.events.map((event) => event.name).filter((name) => name.startsWith('shared'));
      expect(names.length, JSON.stringify(worker.events)).toBeGreaterThanOrEqual(2);
      expect(names).toEqual(Array.from({ length: names.length }, (_, j) => (j % 2 === 0 ? 'sharedStateDown' : 'sharedStateUp')));
      expect(result.shared).toMatchObject({ backend: 'redis', available: true, outages: names.length / 2 });
      expect(result.shared!.unavailableSince).toBeUndefined();
    }
    // Decisions were taken locally during the outage (on a loaded machine one worker may have spent the
    // whole outage waiting for a command already sent, so this is counted over all of them).
    expect(results.reduce((sum, result) => sum + result.shared!.localDecisions, 0)).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(results.reduce((sum, result) => sum + result.outcomes.length, 0));

    // The restarted (empty) Redis holds state written since: rate buckets and cache entries.
    const keys = [...(await dumpRedis(redis)).keys()];
    expect(keys.some((key) => key.startsWith(`${PREFIX}rate:`))).toBe(true);
    expect(keys.some((key) => key.startsWith(`${PREFIX}cache:`))).toBe(true);

    // And circuits are shared again: one opened by A is open for B and C.
    const before = count();
    server.enqueue(faults.serverError(500), faults.serverError(500));
    const opened = await a!.run(params, { calls: 2 });
    expect(opened.outcomes.map((outcome) => outcome.error?.kind)).toEqual(['server_error', 'server_error']);
    const client = await connectRedis(redis);
    const circuits = async () => ((await client.sendCommand(['KEYS', `${PREFIX}circuit:*`])) as string[]).length;
    await eventually(async () => (await circuits()) === 1, 'the open circuit in Redis');
    const refused = await Promise.all([b!, c!].map((worker) => worker.run(params, { calls: 1 })));
    for (const result of refused) expect(result.outcomes[0]!.error?.name).toBe('CircuitOpenError');
    expect(reasonsOpened(b!)).toEqual(['shared']);
    expect(reasonsOpened(c!)).toEqual(['shared']);
    expect(count()).toBe(before + 2);
  });

  it("one tenant's calls in flight in three processes never exceed maxConcurrentPerTenant", { timeout: 30_000 }, async () => {
    // Every answer takes 50 ms: calls overlap, and three processes of three loops would have up to 9 open.
    const server = await faultServer({ latencyMs: 50 });
    const redis = await startRedisServer();
    const bulkhead = { maxConcurrent: 10, maxConcurrentPerTenant: 2 };
    const workers = await startWorkers(bundle.path, ['a', 'b', 'c'], workerInit(redis, server, { bulkhead }));
    let maxOpen = 0;
    const sampler = setInterval(() => (maxOpen = Math.max(maxOpen, server.openRequests)), 1);
    try {
      const startAt = Date.now() + 100;
      const flood = { ...params, tenant: 'flooding' };
      const results = await Promise.all(workers.map((worker) => worker.run(flood, { calls: 6, concurrency: 3, startAt })));
      for (const result of results) expect(failures(result)).toEqual([]);
      for (const result of results) expect(result.shared).toMatchObject({ available: true, localDecisions: 0 });
      expect(server.requests).toHaveLength(18);
      expect(maxOpen).toBeGreaterThan(0);
      expect(maxOpen).toBeLessThanOrEqual(2);
    } finally {
      clearInterval(sampler);
    }
  });

  it("one tenant flooding three processes never gets more than its tenantShare of the model's rate in all", { timeout: 30_000 }, async () => {
    // The model allows 6 000 a minute (never what holds a call here); the tenant's share of 10% is 600 a
    // minute: a bucket of one second's worth (10), then one request every 100 ms, whichever process sends it.
    const burst = 10;
    const interval = 100;
    const callsEach = 10;
    const server = await faultServer();
    const redis = await startRedisServer();
    const rateLimit = { requestsPerMinute: 6_000, learn: false, tenantShare: 0.1 };
    const workers = await startWorkers(bundle.path, ['a', 'b', 'c'], workerInit(redis, server, { rateLimit }));
    const startedAt = await redisTime(await connectRedis(redis));
    const startAt = Date.now() + 100;
    const flood = { ...params, tenant: 'flooding' };
    const results = await Promise.all(workers.map((worker) => worker.run(flood, { calls: callsEach, concurrency: 5, startAt })));
    for (const result of results) expect(failures(result)).toEqual([]);
    for (const result of results) expect(result.shared).toMatchObject({ available: true, localDecisions: 0 });
    const times = server.requestsTo('/chat/completions').map((request) => request.receivedAt).sort((a, b) => a - b);
    expect(times).toHaveLength(3 * callsEach);
    // As for the model's rate above: the k-th request cannot be due before startedAt + (k - burst) × interval
    // on Redis's clock. Unshared, three buckets of 10 would let all 30 through at once.
    expect(earlyArrivals(times, startedAt, burst, interval)).toEqual([]);
  });

  it("one tenant's token budget holds across three processes, and across a restart", { timeout: 30_000 }, async () => {
    // 200 tokens a minute for each tenant; a call reserves its counted input and 10 tokens of output, more
    // than the 9 the server reports (its prompt's JSON / 4, and one token of answer), so what the server is
    // sent stays within the limit. Unshared, each of the three processes would let 200 through: 600 in all.
    const server = await faultServer({ latencyMs: 20 });
    const redis = await startRedisServer();
    const budgets = { tokens: 200, window: 60_000, assumedOutputTokens: 10 };
    const workers = await startWorkers(bundle.path, ['a', 'b', 'c'], workerInit(redis, server, { budgets }));
    const startAt = Date.now() + 100;
    const metered = { ...params, tenant: 'metered' };
    const results = await Promise.all(workers.map((worker) => worker.run(metered, { calls: 15, concurrency: 3, startAt })));
    for (const result of results) expect(result.shared).toMatchObject({ available: true, localDecisions: 0 });
    const refused = results.flatMap((result) => failures(result).map((outcome) => outcome.error?.kind));
    expect(new Set(refused)).toEqual(new Set(['budget_exceeded']));
    // What the server was sent (and reported as usage) for the tenant, from all three.
    const usage = (request: { body: unknown }) => Math.ceil(JSON.stringify((request.body as { messages: unknown }).messages).length / 4) + 1;
    const tokens = server.requestsTo('/chat/completions').reduce((sum, request) => sum + usage(request), 0);
    expect(tokens).toBeLessThanOrEqual(budgets.tokens);
    // Settled with the usage reported, the budget is used up, not just reserved.
    expect(tokens).toBeGreaterThan(budgets.tokens / 2);
    // A process started afterwards (a restart) finds the budget spent: at most what was left goes through
    // (alone it would let 200 tokens through); another tenant's budget is its own.
    const [d] = await startWorkers(bundle.path, ['d'], workerInit(redis, server, { budgets }));
    const again = await d!.run(metered, { calls: 5, concurrency: 1 });
    expect(failures(again).map((outcome) => outcome.error?.kind)).toContain('budget_exceeded');
    expect(server.requestsTo('/chat/completions').reduce((sum, request) => sum + usage(request), 0)).toBeLessThanOrEqual(budgets.tokens);
    const other = await d!.run({ ...params, tenant: 'other' }, { calls: 1, concurrency: 1 });
    expect(failures(other)).toEqual([]);
  });
});

/**
 * The requests that arrived before a shared bucket could have granted them: the k-th request of a run
 * (arrival `times`, sorted) is due no sooner than `startedAt + (k - burst) × interval` on Redis's clock;
 * 5 ms covers rounding to milliseconds.
 */
function earlyArrivals(times: readonly number[], startedAt: number, burst: number, interval: number): string[] {
  return times.flatMap((at, i) => {
    const due = startedAt + (i + 1 - burst) * interval;
    return at < due - 5 ? [`request ${i + 1} arrived ${due - at} ms before it was due`] : [];
  });
}
