import { describe, expect, it } from 'vitest';
import { createRedisState } from '../../src/redis/index.js';
import { backToBack, connectRedis, startRedisServer } from '../support/redis-server.js';

// The scripts of tenant shares, tenant slots and the retry budget, on a real Redis (timed by its clock).
async function state(options?: Parameters<typeof createRedisState>[1]) {
  const server = await startRedisServer();
  const redis = await connectRedis(server);
  // Every script run once, so that later runs are one command each (backToBack needs them in order).
  const warmUp = createRedisState(redis, { prefix: 'warm-up:' });
  await warmUp.tenantReserve('k', 60, 1);
  await warmUp.tenantRefund('k', 60, 1);
  await warmUp.slotTake('k', 'id', 1);
  await warmUp.slotRenew('k', ['id']);
  await warmUp.slotRelease('k', 'id');
  await warmUp.budgetCalls('k', 1, 1_000);
  await warmUp.budgetRetry('k', { ratio: 0, minRetries: 1, window: 1_000 });
  await redis.flushAll();
  return { server, redis, shared: createRedisState(redis, { prefix: 'test:', ...options }) };
}

describe('createRedisState: tenant shares', () => {
  it("holds one second of the tenant's share, then makes callers wait in turn, for every client of the state", async () => {
    const { shared, redis } = await state();
    // Another state on the same connection, so that its commands keep their order with the first's.
    const other = createRedisState(redis, { prefix: 'test:' });
    // 120 a minute: 2 at once, then one every 500 ms.
    const { results, elapsed } = await backToBack(redis, () =>
      Promise.all([shared.tenantReserve('acct:t:m', 120, 2), other.tenantReserve('acct:t:m', 120, 2), shared.tenantReserve('acct:t:m', 120, 2)]),
    );
    expect(results.slice(0, 2)).toEqual([0, 0]);
    expect(results[2]).toBeGreaterThanOrEqual(500 - elapsed);
    expect(results[2]).toBeLessThanOrEqual(500);
    // Another tenant's share is its own.
    expect(await shared.tenantReserve('acct:u:m', 120, 2)).toBe(0);
    // Giving one back lets the next caller through at once.
    await shared.tenantRefund('acct:t:m', 120, 2);
    await shared.tenantRefund('acct:t:m', 120, 2);
    expect(await other.tenantReserve('acct:t:m', 120, 2)).toBe(0);
  });

  it('keeps a key only until the bucket would be full again', async () => {
    const { shared, redis } = await state();
    await shared.tenantReserve('acct:t:m', 6, 1);
    expect(await redis.keys('*')).toEqual(['test:tenant:acct:t:m']);
    // 6 a minute: full again in 10 s; kept a second more.
    const ttl = await redis.pTTL('test:tenant:acct:t:m');
    expect(ttl).toBeGreaterThan(9_000);
    expect(ttl).toBeLessThanOrEqual(11_000);
    // A refund that makes it full deletes it; a refund to a missing key adds none.
    await shared.tenantRefund('acct:t:m', 6, 1);
    await shared.tenantRefund('acct:t:m', 6, 1);
    expect(await redis.keys('*')).toEqual([]);
  });
});

describe('createRedisState: tenant slots', () => {
  it('gives at most `max` leases at once, across clients of the state, and a released one to the next', async () => {
    const { shared, redis } = await state({ slotLease: 5_000 });
    const takes = await Promise.all(['a', 'b', 'c', 'd'].map((id) => shared.slotTake('t', id, 2)));
    expect(takes.filter((lease) => lease === 5_000)).toHaveLength(2);
    expect(takes.filter((lease) => lease === 0)).toHaveLength(2);
    expect(await redis.zCard('test:slots:t')).toBe(2);
    const holder = ['a', 'b', 'c', 'd'][takes.indexOf(5_000)]!;
    // Taking a lease already held does not take a second slot.
    expect(await shared.slotTake('t', holder, 2)).toBe(5_000);
    await shared.slotRelease('t', holder);
    expect(await shared.slotTake('t', 'e', 2)).toBe(5_000);
    expect(await shared.slotTake('t', 'f', 2)).toBe(0);
  });

  it('frees a lease that lapsed (its process died), and renews the leases still held', async () => {
    const { shared, redis } = await state({ slotLease: 200 });
    expect(await shared.slotTake('t', 'dead', 1)).toBe(200);
    expect(await shared.slotTake('t', 'live', 1)).toBe(0);
    // The set expires with its last lease.
    const ttl = await redis.pTTL('test:slots:t');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(200);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await shared.slotTake('t', 'live', 1)).toBe(200);
    await shared.slotRenew('t', ['live']);
    expect(Number(await redis.zScore('test:slots:t', 'live'))).toBeGreaterThan(Date.now() - 1_000);
    expect(await shared.slotTake('t', 'other', 1)).toBe(0);
  });
});

describe('createRedisState: the retry budget', () => {
  const budget = { ratio: 0.5, minRetries: 1, window: 10_000 };

  it('allows minRetries + ratio × the calls counted by every client, atomically', async () => {
    const { shared, redis } = await state();
    const other = createRedisState(redis, { prefix: 'test:' });
    await shared.budgetCalls('acct', 2, budget.window);
    await other.budgetCalls('acct', 2, budget.window);
    // 1 + 0.5 × 4 = 3 retries, however many ask at once.
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? shared : other).budgetRetry('acct', budget)));
    expect(answers.filter(Boolean)).toHaveLength(3);
    // Another account's budget is its own.
    expect(await shared.budgetRetry('other-acct', budget)).toBe(true);
  });

  it('forgets counts older than the window, and keeps the key for a window after its last count', async () => {
    const { shared, redis } = await state();
    const short = { ratio: 0, minRetries: 1, window: 300 };
    expect(await shared.budgetRetry('acct', short)).toBe(true);
    expect(await shared.budgetRetry('acct', short)).toBe(false);
    const ttl = await redis.pTTL('test:budget:acct');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(330);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await shared.budgetRetry('acct', short)).toBe(true);
    expect(await redis.hLen('test:budget:acct')).toBe(1);
  });

  it('counting calls alone keeps the hash bounded: at most two windows of slots', async () => {
    const { shared, redis } = await state();
    // A window of 10 ms has slots of 1 ms: 80 calls a few ms apart fill many more slots than two windows hold.
    for (let i = 0; i < 80; i++) {
      await shared.budgetCalls('acct', 1, 10);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(await redis.hLen('test:budget:acct')).toBeLessThanOrEqual(45);
  });
});
