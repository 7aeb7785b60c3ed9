import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { CircuitOpenError, resilient, type ResilienceOptions } from '../../src/index.js';
import { createRedisState } from '../../src/redis/index.js';
import { faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { connectRedis, startRedisServer } from '../support/redis-server.js';

const params = { model: 'gpt-4.1-mini', messages: [{ role: 'user' as const, content: 'hi' }] };

/** Two "processes": resilient clients with nothing in common but the Redis they share. */
async function twoProcesses(server: FaultServer, options: ResilienceOptions = {}) {
  const redisServer = await startRedisServer();
  const make = async () => {
    const shared = createRedisState(await connectRedis(redisServer), { prefix: 'test:' });
    return resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0 }), {
      retry: false, bulkhead: false, rateLimit: false, shared,
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfter: 200 },
      ...options,
    });
  };
  return { redisServer, a: await make(), b: await make() };
}

describe('shared circuits', () => {
  it('a circuit opened by one process makes the other fail fast, without a request', async () => {
    const server = await startFaultServer();
    try {
      const { a, b } = await twoProcesses(server);
      server.enqueue(faults.serverError(500), faults.serverError(500));
      await expect(a.chat.completions.create(params)).rejects.toThrow();
      await expect(a.chat.completions.create(params)).rejects.toThrow();
      // The shared open is written after the second failure settles.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const opened: string[] = [];
      b.resilience.on('circuitOpen', (event) => opened.push(event.reason));
      await expect(b.chat.completions.create(params)).rejects.toBeInstanceOf(CircuitOpenError);
      expect(server.requests).toHaveLength(2);
      expect(opened).toEqual(['shared']);
      expect(b.resilience.circuits()).toEqual({ 'gpt-4.1-mini': 'open' });
    } finally {
      await server.close();
    }
  });
});
