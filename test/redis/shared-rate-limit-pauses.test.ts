import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { resilient, type SharedBackend } from '../../src/index.js';
import { createRedisState } from '../../src/redis/index.js';
import { heldUpstream, rateLimitBody, type HeldUpstream } from '../support/held-upstream.js';
import { connectRedis, startRedisServer } from '../support/redis-server.js';
import { chatParams, rejectionOf, until } from '../support/harness.js';

/** A few real milliseconds, for "nothing more was sent" checks against real sockets. */
const settleReal = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Redis state, with its `ratePause` writes held back until `land()`: a Redis slow to take the pause
 * (or a write queued behind others) lands it after the next call's reservation, on any machine.
 */
function slowPauses(shared: SharedBackend) {
  const held: Array<() => void> = [];
  const ratePause = (...args: Parameters<SharedBackend['ratePause']>) =>
    new Promise<void>((resolve, reject) => held.push(() => shared.ratePause(...args).then(resolve, reject)));
  const backend = new Proxy(shared, {
    get(target, name) {
      if (name === 'ratePause') return ratePause;
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { backend, held, land: () => held.splice(0).forEach((write) => write()) };
}

async function clientOn(upstream: HeldUpstream, shared: SharedBackend, options: Parameters<typeof resilient>[1] = {}) {
  return resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: upstream.url, maxRetries: 0 }), {
    rateLimit: {}, retry: { maxRetries: 0 }, circuitBreaker: false, bulkhead: false, shared, ...options,
  });
}

describe('shared rate limits: the first call answered with a 429 and a reset', () => {
  it('a call whose shared reservation was answered before the pause reached Redis is not sent before the reset', async () => {
    const upstream = await heldUpstream();
    const redis = await connectRedis(await startRedisServer());
    const slow = slowPauses(createRedisState(redis, { prefix: 'test:' }));
    const ai = await clientOn(upstream, slow.backend);
    upstream.respond = (request) => request.answer(429, { 'retry-after': '30' }, rateLimitBody());
    expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.RateLimitError);
    expect(slow.held).toHaveLength(1);

    // Redis has neither limits nor the pause yet: the shared state says nothing, the process's own must.
    upstream.respond = (request) => request.answer(200, {}, { id: 'x', object: 'chat.completion', choices: [] });
    const controller = new AbortController();
    const next = rejectionOf(ai.chat.completions.create(chatParams, { signal: controller.signal }));
    await settleReal();
    slow.land();
    await settleReal();
    expect(upstream.received).toHaveLength(1);
    controller.abort();
    expect(await next).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(upstream.received).toHaveLength(1);
    await until(() => slow.held.length === 0);
  });
});
