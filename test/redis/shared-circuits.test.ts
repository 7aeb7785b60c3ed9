import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitOpenError, resilient, type ResilienceOptions } from '../../src/index.js';
import { createRedisState, type RedisStateOptions } from '../../src/redis/index.js';
import { faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { connectRedis, startRedisServer } from '../support/redis-server.js';

const params = { model: 'gpt-4.1-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Two "processes": resilient clients with nothing in common but the Redis they share. */
async function twoProcesses(options: ResilienceOptions = {}, redisOptions: RedisStateOptions = {}) {
  const server = await startFaultServer();
  servers.push(server);
  const redisServer = await startRedisServer();
  const make = async () => {
    const redis = await connectRedis(redisServer);
    const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0 }), {
      retry: false, bulkhead: false, rateLimit: false,
      shared: createRedisState(redis, { prefix: 'test:', ...redisOptions }),
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfter: 100 },
      ...options,
    });
    const opened: string[] = [];
    ai.resilience.on('circuitOpen', (event) => opened.push(event.reason));
    return { ai, redis, opened };
  };
  return { server, redisServer, a: await make(), b: await make() };
}

/** Lets the shared write that follows a call's outcome land. */
const settle = () => sleep(20);

describe('shared circuits', () => {
  it('a circuit opened by one process makes the other fail fast, without a request', async () => {
    const { server, a, b } = await twoProcesses();
    server.enqueue(faults.serverError(500), faults.serverError(500));
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await settle();
    await expect(b.ai.chat.completions.create(params)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(server.requests).toHaveLength(2);
    expect(a.opened).toEqual(['consecutive_failures']);
    expect(b.opened).toEqual(['shared']);
    expect(b.ai.resilience.circuits()).toEqual({ 'gpt-4.1-mini': 'open' });
  });

  it('after the pause only one process probes; its success closes the circuit for both', async () => {
    const { server, a, b } = await twoProcesses();
    server.enqueue(faults.serverError(500), faults.serverError(500));
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await settle();
    await sleep(110);
    server.enqueue(faults.delay(150));
    const probe = a.ai.chat.completions.create(params);
    await server.waitForRequests(3);
    // A holds the probe lease: B fails fast instead of probing too.
    await expect(b.ai.chat.completions.create(params)).rejects.toBeInstanceOf(CircuitOpenError);
    await probe;
    await settle();
    await b.ai.chat.completions.create(params);
    expect(server.requests).toHaveLength(4);
    expect(b.ai.resilience.circuits()['gpt-4.1-mini']).toBe('closed');
  });

  it('a failed probe reopens the circuit everywhere, for twice the pause', async () => {
    const { server, a, b, redisServer } = await twoProcesses();
    server.enqueue(faults.serverError(500), faults.serverError(500), faults.serverError(503));
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await settle();
    await sleep(110);
    // B is first after the pause: its probe fails.
    await expect(b.ai.chat.completions.create(params)).rejects.toThrow(/503|overloaded|Service Unavailable/i);
    await settle();
    expect(b.opened).toEqual(['probe_failed']);
    const [key] = Object.keys(await hashes(redisServer));
    expect((await (await connectRedis(redisServer)).hGetAll(key!))['openings']).toBe('2');
    await sleep(110);
    // 100 ms was the first pause; the second is 200 ms: still open for A.
    await expect(a.ai.chat.completions.create(params)).rejects.toBeInstanceOf(CircuitOpenError);
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
    const { server, a, redisServer } = await twoProcesses({}, { timeout: 50, retryInterval: 200 });
    const events: string[] = [];
    a.ai.resilience.on('sharedStateDown', () => events.push('down'));
    a.ai.resilience.on('sharedStateUp', () => events.push('up'));
    const admin = await connectRedis(redisServer);
    await admin.sendCommand(['CLIENT', 'PAUSE', '300', 'ALL']);
    const started = Date.now();
    await a.ai.chat.completions.create(params);
    await a.ai.chat.completions.create(params);
    expect(events).toEqual(['down']);
    // One timeout was paid; the second call did not wait for Redis.
    expect(Date.now() - started).toBeLessThan(250);
    await sleep(350);
    await a.ai.chat.completions.create(params);
    expect(events).toEqual(['down', 'up']);
    expect(a.ai.resilience.stats().shared).toMatchObject({ available: true, outages: 1 });
    expect(server.requests).toHaveLength(3);
  });

  it('scopes circuits to the account: another API key does not share them', async () => {
    const { server, a, redisServer } = await twoProcesses();
    const other = resilient(new OpenAI({ apiKey: 'sk-other-key', baseURL: server.url, maxRetries: 0 }), {
      retry: false, bulkhead: false, rateLimit: false,
      shared: createRedisState(await connectRedis(redisServer), { prefix: 'test:' }),
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfter: 100 },
    });
    server.enqueue(faults.serverError(500), faults.serverError(500));
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await expect(a.ai.chat.completions.create(params)).rejects.toThrow();
    await settle();
    await other.chat.completions.create(params);
    const keys = Object.keys(await hashes(redisServer));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^test:circuit:[0-9a-f]{32}:gpt-4\.1-mini$/);
    expect(keys[0]).not.toContain('sk-');
  });
});

async function hashes(redisServer: Awaited<ReturnType<typeof startRedisServer>>): Promise<Record<string, true>> {
  const redis = await connectRedis(redisServer);
  return Object.fromEntries((await redis.keys('test:circuit:*')).map((key) => [key, true as const]));
}
