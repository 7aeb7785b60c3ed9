import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitOpenError, resilient, type CircuitOpenEvent, type ResilienceOptions } from '../../src/index.js';
import { createRedisState, type RedisStateOptions } from '../../src/redis/index.js';
import { FakeClock, faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { connectRedis, startRedisServer } from '../support/redis-server.js';

const params = { model: 'gpt-4.1-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
const HALF_OPEN_AFTER = 60_000;
const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

// Time here is logical, not measured: both clients run on one FakeClock, and a pause ends when the test
// says so (`pauseOver`: the fake clock and the circuits stored in Redis move on together), so a circuit
// is open for as long as a test needs it, however slowly this machine runs it. What one process writes to
// Redis is awaited by reading Redis, and a probe is held in flight by holding its answer.

/** Two "processes": resilient clients with nothing in common but the Redis they share (and a fake clock). */
async function twoProcesses(options: ResilienceOptions = {}, redisOptions: RedisStateOptions = {}) {
  const server = await startFaultServer();
  servers.push(server);
  const redisServer = await startRedisServer();
  const clock = new FakeClock(1_700_000_000_000);
  const make = async (fetch?: typeof globalThis.fetch) => {
    const redis = await connectRedis(redisServer);
    const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0, ...(fetch ? { fetch } : {}) }), {
      clock,
      retry: false, bulkhead: false, rateLimit: false,
      shared: createRedisState(redis, { prefix: 'test:', ...redisOptions }),
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfter: HALF_OPEN_AFTER },
      ...options,
    });
    const opened: CircuitOpenEvent[] = [];
    ai.resilience.on('circuitOpen', (event) => opened.push(event));
    return { ai, redis, opened, reasons: () => opened.map((event) => event.reason) };
  };
  const gate = answerGate();
  const admin = await connectRedis(redisServer);
  /** The circuits stored in Redis (the shared state), by key. */
  const circuits = async () => Object.fromEntries(await Promise.all((await admin.keys('test:circuit:*')).map(async (key) => [key, await admin.hGetAll(key)] as const)));
  /** The pause is over: the fake clock moves past it, and so does every circuit stored in Redis. */
  const pauseOver = async (ms = HALF_OPEN_AFTER) => {
    for (const key of await admin.keys('test:circuit:*')) {
      await admin.hIncrBy(key, 'retryAt', -ms);
      await admin.hIncrBy(key, 'leaseUntil', -ms);
    }
    await clock.advance(ms);
  };
  return { server, redisServer, clock, admin, gate, circuits, pauseOver, a: await make(gate.fetch), b: await make() };
}

/**
 * A `fetch` whose answers wait while the gate is shut: the request reaches the server at once, the client
 * sees the answer only once the gate opens. It keeps a probe in flight for as long as a test needs.
 */
function answerGate() {
  let opened: Promise<void> = Promise.resolve();
  let open = () => {};
  return {
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      const gate = opened;
      const response = await fetch(input, init);
      await gate;
      return response;
    }) as typeof globalThis.fetch,
    shut: () => {
      opened = new Promise((resolve) => (open = resolve));
    },
    open: () => open(),
  };
}

describe('shared circuits', () => {
  it('a circuit opened by one process makes the other fail fast, without a request', async () => {
    const { server, circuits, a, b } = await twoProcesses();
    server.enqueue(faults.serverError(500), faults.serverError(500));
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect.poll(async () => Object.keys(await circuits())).toHaveLength(1);
    await expect(b.ai.chat.completions.create(params)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(server.requests).toHaveLength(2);
    expect(a.reasons()).toEqual(['consecutive_failures']);
    expect(b.reasons()).toEqual(['shared']);
    expect(b.ai.resilience.circuits()).toEqual({ 'gpt-4.1-mini': 'open' });
  });

  it('after the pause only one process probes; its success closes the circuit for both', async () => {
    const { server, circuits, pauseOver, gate, a, b } = await twoProcesses();
    server.enqueue(faults.serverError(500), faults.serverError(500));
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect.poll(async () => Object.keys(await circuits())).toHaveLength(1);
    await pauseOver();
    gate.shut();
    const probe = a.ai.chat.completions.create(params);
    await server.waitForRequests(3);
    // A holds the probe lease (its answer is held): B fails fast instead of probing too.
    await expect(b.ai.chat.completions.create(params)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(server.requests).toHaveLength(3);
    gate.open();
    await probe;
    await expect.poll(async () => Object.keys(await circuits())).toEqual([]);
    await b.ai.chat.completions.create(params);
    expect(server.requests).toHaveLength(4);
    expect(b.ai.resilience.circuits()['gpt-4.1-mini']).toBe('closed');
  });

  it('a failed probe reopens the circuit everywhere, for twice the pause', async () => {
    const { server, circuits, pauseOver, a, b } = await twoProcesses();
    server.enqueue(faults.serverError(500), faults.serverError(500), faults.serverError(503));
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect.poll(async () => Object.keys(await circuits())).toHaveLength(1);
    await pauseOver();
    // B is first after the pause: its probe fails.
    await expect(b.ai.chat.completions.create(params)).rejects.toThrow(/503|overloaded|Service Unavailable/i);
    await expect.poll(() => b.reasons()).toEqual(['probe_failed']);
    expect(b.opened[0]!.retryAfter).toBe(2 * HALF_OPEN_AFTER);
    expect(Object.values(await circuits()).map((circuit) => circuit['openings'])).toEqual(['2']);
    // A, whose own pause is over too, asks the shared state and finds it open again.
    await expect(a.ai.chat.completions.create(params)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(a.reasons()).toEqual(['consecutive_failures', 'shared']);
    expect(server.requests).toHaveLength(3);
  });

  it('while Redis is down, circuits are per process again, and calls never fail because of Redis', async () => {
    const { server, a, b, redisServer } = await twoProcesses();
    const downs: string[] = [];
    a.ai.resilience.on('sharedStateDown', (event) => downs.push(event.operation));
    await redisServer.stop();
    server.enqueue(faults.serverError(500), faults.serverError(500));
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow(/500|server/i);
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow(/500|server/i);
    await expect(a.ai.chat.completions.create(params)).rejects.toBeInstanceOf(CircuitOpenError);
    // B never heard of it: its calls go through.
    await b.ai.chat.completions.create(params);
    expect(downs).toHaveLength(1);
    expect(a.ai.resilience.stats().shared).toMatchObject({ available: false, outages: 1 });
  });

  it('a Redis that does not answer in time is left alone for `retryInterval`, then used again', async () => {
    const { server, clock, admin, a } = await twoProcesses({}, { timeout: 50, retryInterval: 200 });
    const events: string[] = [];
    a.ai.resilience.on('sharedStateDown', () => events.push('down'));
    a.ai.resilience.on('sharedStateUp', () => events.push('up'));
    await admin.sendCommand(['CLIENT', 'PAUSE', '300', 'ALL']);
    // The first call waits for Redis until its 50 ms timeout (on the fake clock), then goes on without it.
    const first = a.ai.chat.completions.create(params);
    await clock.until((timers) => timers.some((timer) => timer.delay === 50));
    await clock.advance(50);
    await first;
    expect(events).toEqual(['down']);
    // The second, within `retryInterval`, does not ask Redis at all: it needs no time to pass.
    await a.ai.chat.completions.create(params);
    expect(clock.pending().filter((timer) => timer.delay === 50)).toEqual([]);
    // Once Redis answers again (a PING waits for the end of its pause) and `retryInterval` has passed, it is used again.
    await admin.ping();
    await clock.advance(200);
    await a.ai.chat.completions.create(params);
    expect(events).toEqual(['down', 'up']);
    expect(a.ai.resilience.stats().shared).toMatchObject({ available: true, outages: 1 });
    expect(server.requests).toHaveLength(3);
  });

  it('scopes circuits to the account: another API key does not share them', async () => {
    const { server, circuits, clock, a, redisServer } = await twoProcesses();
    const other = resilient(new OpenAI({ apiKey: 'sk-other-key', baseURL: server.url, maxRetries: 0 }), {
      clock,
      retry: false, bulkhead: false, rateLimit: false,
      shared: createRedisState(await connectRedis(redisServer), { prefix: 'test:' }),
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfter: HALF_OPEN_AFTER },
    });
    server.enqueue(faults.serverError(500), faults.serverError(500));
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect.poll(async () => Object.keys(await circuits())).toHaveLength(1);
    await other.chat.completions.create(params);
    const keys = Object.keys(await circuits());
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^test:circuit:[0-9a-f]{32}:gpt-4\.1-mini$/);
    expect(keys[0]).not.toContain('sk-');
  });
});
