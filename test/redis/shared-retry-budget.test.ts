import { describe, expect, it } from 'vitest';
import type { BudgetExhaustedEvent } from '../../src/index.js';
import { connectRedis } from '../support/redis-server.js';
import { sharedClients } from './fixtures/shared-clients.js';

const params = { model: 'gpt-4.1-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
// Every request fails with a 500; a retry goes after 1 ms (no backoff to wait for).
const failing = { server: { randomFailures: { rate: 1 } } };
const retry = (budget: { ratio: number; minRetries: number }) => ({ retry: { maxRetries: 1, initialDelay: 1, jitter: false, budget: { ...budget, window: 60_000 } } });

describe('the retry budget shared through Redis', () => {
  it('an outage seen by three processes adds minRetries + ratio × calls in all, not per process', async () => {
    const { clients, server } = await sharedClients(3, retry({ ratio: 0, minRetries: 2 }), failing);
    const spent: BudgetExhaustedEvent[] = [];
    for (const ai of clients) ai.resilience.on('budgetExhausted', (event) => spent.push(event));
    for (const ai of clients) {
      for (let i = 0; i < 4; i++) await expect(ai.chat.completions.create(params)).rejects.toThrow();
    }
    // 12 calls and 2 retries across the three (each process alone would have allowed itself 2).
    expect(server.requests).toHaveLength(14);
    expect(spent).toHaveLength(10);
  });

  it("counts every process's calls: a process that made few may retry on the calls of the others", async () => {
    const { clients: [a, b], server, redisServer } = await sharedClients(2, retry({ ratio: 0.5, minRetries: 0 }), failing);
    // A's 4 calls (not retried) count in the account's budget.
    for (let i = 0; i < 4; i++) await expect(a!.chat.completions.create(params, { maxRetries: 0 })).rejects.toThrow();
    // B made 2 calls: alone it could retry one (0.5 × 2); with A's, both (0.5 × 6 = 3).
    for (let i = 0; i < 2; i++) await expect(b!.chat.completions.create(params)).rejects.toThrow();
    expect(server.requests).toHaveLength(4 + 2 + 2);
    // One key per account, kept one window (and a slot) after its last count.
    const redis = await connectRedis(redisServer);
    const keys = await redis.keys('test:budget:*');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^test:budget:[0-9a-f]{32}$/);
    const ttl = await redis.pTTL(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(66_000);
  });

  it('when Redis is down, each process decides on its own budget, and no call fails for it', async () => {
    const { clients: [a, b], states, server, redisServer } = await sharedClients(2, retry({ ratio: 0, minRetries: 1 }), failing);
    await expect(a!.chat.completions.create(params)).rejects.toThrow();
    // A spent the shared budget: B's call is not retried.
    await expect(b!.chat.completions.create(params)).rejects.toThrow();
    expect(server.requests).toHaveLength(3);
    const downs: string[] = [];
    b!.resilience.on('sharedStateDown', (event) => downs.push(event.backend));
    await redisServer.stop();
    await expect.poll(() => states[1]!.ready).toBe(false);
    // B's own budget has its retry left (the shared one was A's): its call is retried, with the upstream error.
    await expect(b!.chat.completions.create(params)).rejects.toMatchObject({ status: 500 });
    expect(server.requests).toHaveLength(5);
    expect(downs).toEqual(['redis']);
    expect(b!.resilience.stats().shared).toMatchObject({ available: false, outages: 1 });
    expect(b!.resilience.stats().shared!.localDecisions).toBeGreaterThanOrEqual(1);
  });
});
