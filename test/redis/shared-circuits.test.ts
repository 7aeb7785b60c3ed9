import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitOpenError, resilient, type CircuitOpenEvent, type ResilienceOptions } from '../../src/index.js';
import { createRedisState, type RedisStateOptions } from '../../src/redis/index.js';
import { FakeClock, faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { connectRedis, redisTime, startRedisServer } from '../support/redis-server.js';
import { answerGate } from '../support/answer-gate.js';

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
async function twoProcesses(options: Omit<ResilienceOptions, 'circuitBreaker'> & { circuitBreaker?: object } = {}, redisOptions: RedisStateOptions = {}) {
  const server = await startFaultServer();
  servers.push(server);
  const redisServer = await startRedisServer();
  const clock = new FakeClock(1_700_000_000_000);
  const make = async (fetch?: typeof globalThis.fetch) => {
    const redis = await connectRedis(redisServer);
    const state = createRedisState(redis, { prefix: 'test:', ...redisOptions });
    /** How many times this process asked Redis about a circuit. */
    const asked = { circuitAdmit: 0 };
    const circuitAdmit = state.circuitAdmit.bind(state);
    state.circuitAdmit = (...args) => {
      asked.circuitAdmit++;
      return circuitAdmit(...args);
    };
    const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0, ...(fetch ? { fetch } : {}) }), {
      clock,
      retry: false, bulkhead: false, rateLimit: false,
      shared: state,
      ...options,
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfter: HALF_OPEN_AFTER, jitter: false, ...options.circuitBreaker },
    });
    const opened: CircuitOpenEvent[] = [];
    ai.resilience.on('circuitOpen', (event) => opened.push(event));
    return { ai, redis, asked, opened, reasons: () => opened.map((event) => event.reason) };
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

  /** A opens the shared circuit (two 5xx in a row), and the pause is over: for the clock and in Redis. */
  async function openedThenOver(t: Awaited<ReturnType<typeof twoProcesses>>) {
    t.server.enqueue(faults.serverError(500), faults.serverError(500));
    await expect(t.a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect(t.a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect.poll(async () => Object.keys(await t.circuits())).toHaveLength(1);
    await t.pauseOver();
  }

  it('after the pause only one process probes; with waitForProbe: 0 the other fails fast meanwhile', async () => {
    const t = await twoProcesses({ circuitBreaker: { waitForProbe: 0 } });
    const { server, circuits, gate, a, b } = t;
    await openedThenOver(t);
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

  it("a call in the other process waits for the probe's verdict, asking Redis again every quarter pause, and goes once it closed the circuit", async () => {
    const t = await twoProcesses();
    const { server, clock, circuits, gate, a, b } = t;
    await openedThenOver(t);
    gate.shut();
    const probe = a.ai.chat.completions.create(params);
    await server.waitForRequests(3);
    // A holds the probe lease: B's call is not sent; it will ask Redis again a quarter of a pause later.
    const waiting = b.ai.chat.completions.create(params);
    await clock.until((timers) => timers.some((timer) => timer.delay === HALF_OPEN_AFTER / 4));
    expect(server.requests).toHaveLength(3);
    // Still probing at the next look: B waits on, without a request.
    await clock.advance(HALF_OPEN_AFTER / 4);
    await clock.until((timers) => timers.some((timer) => timer.delay === HALF_OPEN_AFTER / 4));
    expect(server.requests).toHaveLength(3);
    gate.open();
    await probe;
    await expect.poll(async () => Object.keys(await circuits())).toEqual([]);
    await clock.advance(HALF_OPEN_AFTER / 4);
    expect((await waiting).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(4);
    expect(b.ai.resilience.circuits()['gpt-4.1-mini']).toBe('closed');
  });

  it('however many calls wait in a process while another probes, one of them asks Redis each quarter pause, for all', async () => {
    const t = await twoProcesses();
    const { server, clock, circuits, gate, a, b } = t;
    await openedThenOver(t);
    gate.shut();
    const probe = a.ai.chat.completions.create(params);
    await server.waitForRequests(3);
    // Five calls in B, each told once that A probes; then they wait together.
    const waiting = Array.from({ length: 5 }, () => b.ai.chat.completions.create(params));
    await clock.until((timers) => timers.some((timer) => timer.delay === HALF_OPEN_AFTER / 4));
    await expect.poll(() => b.asked.circuitAdmit).toBe(5);
    for (const round of [1, 2]) {
      await clock.advance(HALF_OPEN_AFTER / 4);
      await clock.until((timers) => timers.some((timer) => timer.delay === HALF_OPEN_AFTER / 4));
      expect(b.asked.circuitAdmit).toBe(5 + round);
    }
    expect(server.requests).toHaveLength(3);
    // A's probe succeeds: at the next look, the one asking finds the circuit closed and all five go.
    gate.open();
    await probe;
    await expect.poll(async () => Object.keys(await circuits())).toEqual([]);
    await clock.advance(HALF_OPEN_AFTER / 4);
    expect((await Promise.all(waiting)).map((completion) => completion.object)).toEqual(Array(5).fill('chat.completion'));
    expect(server.requests).toHaveLength(8);
    expect(b.asked.circuitAdmit).toBe(5 + 2 + 5);
  });

  it("a failed probe in one process fails the other's waiting call when no probe is due within waitForProbe, or keeps it waiting for the next one", async () => {
    // waitForProbe 2 s against a 60 s pause: the next probe is not due in time.
    const short = await twoProcesses();
    await openedThenOver(short);
    short.gate.shut();
    short.server.enqueue(faults.serverError(503));
    const failing = short.a.ai.chat.completions.create(params);
    await short.server.waitForRequests(3);
    const refused = expect(short.b.ai.chat.completions.create(params)).rejects.toBeInstanceOf(CircuitOpenError);
    await short.clock.until((timers) => timers.some((timer) => timer.delay === HALF_OPEN_AFTER / 4));
    short.gate.open();
    await expect(failing).rejects.toThrow(/503/);
    await expect.poll(() => short.a.reasons()).toEqual(['consecutive_failures', 'probe_failed']);
    await short.clock.advance(HALF_OPEN_AFTER / 4);
    await refused;
    expect(short.server.requests).toHaveLength(3);

    // waitForProbe longer than the pause: B's call waits for the next probe, which it then is.
    const long = await twoProcesses({ circuitBreaker: { waitForProbe: 3 * HALF_OPEN_AFTER } });
    await openedThenOver(long);
    long.gate.shut();
    long.server.enqueue(faults.serverError(503));
    const probe = long.a.ai.chat.completions.create(params);
    await long.server.waitForRequests(3);
    const waiting = long.b.ai.chat.completions.create(params);
    await long.clock.until((timers) => timers.some((timer) => timer.delay === HALF_OPEN_AFTER / 4));
    long.gate.open();
    await expect(probe).rejects.toThrow(/503/);
    await expect.poll(() => long.a.reasons()).toEqual(['consecutive_failures', 'probe_failed']);
    // B looks again, finds the circuit reopened for a pause, and waits for it to end (no request meanwhile).
    await long.clock.advance(HALF_OPEN_AFTER / 4);
    await expect.poll(() => long.b.reasons()).toEqual(['shared']);
    expect(long.server.requests).toHaveLength(3);
    await long.pauseOver();
    expect((await waiting).object).toBe('chat.completion');
    expect(long.server.requests).toHaveLength(4);
    await expect.poll(async () => Object.keys(await long.circuits())).toEqual([]);
  });

  it('a failed probe reopens the circuit everywhere, for twice the pause when maxHalfOpenAfter allows it', async () => {
    const t = await twoProcesses({ circuitBreaker: { maxHalfOpenAfter: 4 * HALF_OPEN_AFTER } });
    const { server, circuits, a, b } = t;
    await openedThenOver(t);
    server.enqueue(faults.serverError(503));
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

  it('the shared pause is drawn from halfOpenAfter to 1.2 times it (jitter) and does not grow by default', async () => {
    const t = await twoProcesses({ circuitBreaker: { jitter: true } });
    const { server, circuits, admin, a, b } = t;
    /** Redis's clock before and after `open`, and the pause's end it wrote: bounds on the pause, however slow this machine. */
    const pauseOf = async (open: () => Promise<unknown>, openings: number) => {
      const before = await redisTime(admin);
      await open();
      await expect.poll(async () => Object.values(await circuits())[0]?.['openings']).toBe(String(openings));
      const after = await redisTime(admin);
      const retryAt = Number(Object.values(await circuits())[0]!['retryAt']);
      return { atLeast: retryAt - after, atMost: retryAt - before };
    };
    server.enqueue(faults.serverError(500), faults.serverError(500));
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    const first = await pauseOf(() => expect(a.ai.chat.completions.create(params)).rejects.toThrow(), 1);
    await t.pauseOver(1.2 * HALF_OPEN_AFTER);
    server.enqueue(faults.serverError(503));
    const second = await pauseOf(() => expect(b.ai.chat.completions.create(params)).rejects.toThrow(/503/), 2);
    for (const pause of [first, second]) {
      expect(pause.atMost).toBeGreaterThanOrEqual(HALF_OPEN_AFTER);
      expect(pause.atLeast).toBeLessThanOrEqual(1.2 * HALF_OPEN_AFTER);
    }
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
