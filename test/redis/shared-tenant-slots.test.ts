import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import type { ResilientClient } from '../../src/index.js';
import type OpenAI from 'openai';
import { connectRedis } from '../support/redis-server.js';
import { sharedClients } from './fixtures/shared-clients.js';

const params = { model: 'gpt-4.1-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
// Ten calls at once per process, two per tenant: what holds a call here is its tenant's cap across processes.
const options = { bulkhead: { maxConcurrent: 10, maxConcurrentPerTenant: 2 } };
/** Longer than a waiting tenant takes to ask again (SHARED_SLOT_POLL, 250 ms): what has not gone by then is held. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

/** Calls of `tenant` on `ai` whose requests the server holds open until they are aborted. */
function held(ai: ResilientClient<OpenAI>, tenant: string, count: number) {
  const controller = new AbortController();
  const calls = Array.from({ length: count }, () => ai.resilience.forTenant(tenant).chat.completions.create(params, { signal: controller.signal }));
  const settled = Promise.allSettled(calls);
  return { abort: () => controller.abort(), settled };
}

describe("a tenant's concurrency shared through Redis", () => {
  it("a tenant's calls in flight across processes stay within maxConcurrentPerTenant; a slot freed in one process goes to another", async () => {
    const { clients: [a, b, c], server } = await sharedClients(3, options);
    server.enqueue(...Array.from({ length: 6 }, () => faults.stall()));
    const first = held(a!, 'customer-42', 2);
    await server.waitForRequests(2);
    const others = [held(b!, 'customer-42', 2), held(c!, 'customer-42', 2)];
    // Another tenant is not held by it.
    const other = held(b!, 'customer-7', 1);
    await server.waitForRequests(3);
    await settle();
    expect(server.requests).toHaveLength(3);
    // A's calls end: two of the four waiting in B and C go (when their process asks again), not more.
    first.abort();
    await server.waitForRequests(5);
    await settle();
    expect(server.requests).toHaveLength(5);
    expect(server.openRequests).toBe(2 + 1);
    for (const calls of [...others, other]) calls.abort();
    await Promise.all([first, ...others, other].map((calls) => calls.settled));
  });

  it('takes the slots atomically: of nine calls at once from three processes, two go', async () => {
    const { clients, server } = await sharedClients(3, options);
    server.enqueue(...Array.from({ length: 9 }, () => faults.stall()));
    const calls = clients.map((ai) => held(ai, 'customer-42', 3));
    await server.waitForRequests(2);
    await settle();
    expect(server.requests).toHaveLength(2);
    for (const call of calls) call.abort();
    await Promise.all(calls.map((call) => call.settled));
  });

  it('a process that dies without giving its leases back frees its slots when they lapse', async () => {
    const { clients: [a, b], connections, server } = await sharedClients(2, options, { redis: { slotLease: 600 } });
    server.enqueue(...Array.from({ length: 4 }, () => faults.stall()));
    const dead = held(a!, 'customer-42', 2);
    await server.waitForRequests(2);
    const waiting = held(b!, 'customer-42', 2);
    await settle();
    expect(server.requests).toHaveLength(2);
    // A loses Redis for good with its calls still in flight: it renews nothing and gives nothing back.
    connections[0]!.destroy();
    // Its leases lapse within 600 ms; B asks again within 250 ms.
    await server.waitForRequests(4, 3_000);
    for (const calls of [dead, waiting]) calls.abort();
    await Promise.all([dead.settled, waiting.settled]);
  });

  it('renews the leases of calls still in flight, gives them back when they end, and keeps one key per tenant fingerprint', async () => {
    const { clients: [a, b], server, redisServer } = await sharedClients(2, options, { redis: { slotLease: 600 } });
    server.enqueue(...Array.from({ length: 2 }, () => faults.stall()));
    const long = held(a!, 'customer-42', 2);
    await server.waitForRequests(2);
    const redis = await connectRedis(redisServer);
    const keys = await redis.keys('test:slots:*');
    // The tenant's id never reaches Redis: a fingerprint names it.
    expect(keys).toEqual([expect.stringMatching(/^test:slots:[0-9a-f]{32}$/)]);
    // Past two leases, A still holds both slots (it renews them): B's call waits.
    const waiting = held(b!, 'customer-42', 1);
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(server.requests).toHaveLength(2);
    expect(await redis.zCard(keys[0]!)).toBe(2);
    const ttl = await redis.pTTL(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600);
    // A's calls end: their leases are given back, B's call goes and ends, and the set empties.
    long.abort();
    await waiting.settled;
    expect(server.requests).toHaveLength(3);
    await expect.poll(() => redis.zCard(keys[0]!)).toBe(0);
    await long.settled;
  });

  it('when Redis is down, each process caps the tenant on its own, and no call fails for it', async () => {
    const { clients: [a, b], states, server, redisServer } = await sharedClients(2, options);
    const downs: string[] = [];
    b!.resilience.on('sharedStateDown', (event) => downs.push(event.backend));
    await redisServer.stop();
    await expect.poll(() => states.every((state) => !state.ready)).toBe(true);
    server.enqueue(...Array.from({ length: 6 }, () => faults.stall()));
    const calls = [held(a!, 'customer-42', 3), held(b!, 'customer-42', 3)];
    // Two in each process, as without shared state.
    await server.waitForRequests(4);
    await settle();
    expect(server.requests).toHaveLength(4);
    expect(downs).toEqual(['redis']);
    for (const call of calls) call.abort();
    await Promise.all(calls.map((call) => call.settled));
  });
});
