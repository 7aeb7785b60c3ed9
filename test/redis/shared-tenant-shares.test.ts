import { describe, expect, it } from 'vitest';
import { RateLimitTimeoutError } from '../../src/index.js';
import { connectRedis } from '../support/redis-server.js';
import { sharedClients } from './fixtures/shared-clients.js';

const params = { model: 'gpt-4.1-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
// 6 000 a minute for the model (100 at once): never what holds a call here. A tenant's share of 0.1% is
// 6 a minute: one request at once, then one every 10 s, past every call's 5 s deadline (a call the share
// would hold is refused at once, without a request, whatever this machine's load).
const options = { rateLimit: { requestsPerMinute: 6_000, tenantShare: 0.001 }, timeout: { total: 5_000 } };

describe('tenant shares shared through Redis', () => {
  it("a tenant's share holds across processes: what it used in one, it waits for in the others", async () => {
    const { clients: [a, b, c], server } = await sharedClients(3, options);
    await a!.resilience.forTenant('customer-42').chat.completions.create(params);
    await expect(b!.resilience.forTenant('customer-42').chat.completions.create(params)).rejects.toBeInstanceOf(RateLimitTimeoutError);
    await expect(c!.resilience.forTenant('customer-42').chat.completions.create(params)).rejects.toBeInstanceOf(RateLimitTimeoutError);
    // Another tenant has a share of its own.
    await b!.resilience.forTenant('customer-7').chat.completions.create(params);
    expect(server.requests).toHaveLength(2);
  });

  it('is taken atomically: of nine calls at once from three processes, one goes', async () => {
    const { clients, server } = await sharedClients(3, options);
    const outcomes = await Promise.allSettled(
      clients.flatMap((ai) => Array.from({ length: 3 }, () => ai.resilience.forTenant('customer-42').chat.completions.create(params))),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(RateLimitTimeoutError);
    expect(server.requests).toHaveLength(1);
  });

  it('keeps one key per account, tenant fingerprint and model, until the share would be full again', async () => {
    const { clients: [a], redisServer } = await sharedClients(1, options);
    await a!.resilience.forTenant('customer-42').chat.completions.create(params);
    const redis = await connectRedis(redisServer);
    const keys = await redis.keys('test:tenant:*');
    expect(keys).toHaveLength(1);
    // The tenant's id never reaches Redis: a fingerprint names it.
    expect(keys[0]).toMatch(/^test:tenant:[0-9a-f]{32}:[0-9a-f]{32}:gpt-4\.1-mini$/);
    // Full again 10 s after the request; kept a second more.
    const ttl = await redis.pTTL(keys[0]!);
    expect(ttl).toBeGreaterThan(8_000);
    expect(ttl).toBeLessThanOrEqual(11_000);
  });

  it("when Redis is down, each process takes the tenant's share from its own bucket, and no call fails for it", async () => {
    const { clients: [a, b], states, server, redisServer } = await sharedClients(2, options);
    await a!.resilience.forTenant('customer-42').chat.completions.create(params);
    await expect(b!.resilience.forTenant('customer-42').chat.completions.create(params)).rejects.toBeInstanceOf(RateLimitTimeoutError);
    const downs: string[] = [];
    b!.resilience.on('sharedStateDown', (event) => downs.push(event.backend));
    await redisServer.stop();
    await expect.poll(() => states[1]!.ready).toBe(false);
    // B's own bucket for the tenant is full (its refused call gave its request back): one goes.
    await b!.resilience.forTenant('customer-42').chat.completions.create(params);
    expect(server.requests).toHaveLength(2);
    expect(downs).toEqual(['redis']);
    expect(b!.resilience.stats().shared).toMatchObject({ available: false, outages: 1 });
  });
});
