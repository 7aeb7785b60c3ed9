import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { MemoryCacheStore, resilient } from '../../src/index.js';
import { createRedisState } from '../../src/redis/index.js';

/** A client that is never asked to send anything (nothing listens on port 9). */
const client = () => new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });

/** `{ a: { b: value } }` for `'a.b'`. */
function optionAt(path: string, value: unknown): Record<string, unknown> {
  return path.split('.').reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

const DURATION = 2 ** 31 - 1;
const COUNT = 1_000_000;

/** Every numeric option, its documented largest value, and how much beyond it is first refused. */
const BOUNDS: Array<[path: string, max: number, step: number]> = [
  ['cache.maxEntries', 10_000_000, 1],
  ['cache.maxBytes', 2 ** 40, 1],
  ['cache.ttl', 365 * 86_400_000, 1],
  ['cache.staleIfError', 365 * 86_400_000, 1],
  ['bulkhead.maxConcurrent', COUNT, 1],
  ['bulkhead.maxQueued', COUNT, 1],
  ['bulkhead.maxConcurrentPerTenant', COUNT, 1],
  ['bulkhead.queueTimeout', DURATION, 1],
  ['rateLimit.requestsPerMinute', 1_000_000_000, 1],
  ['rateLimit.tokensPerMinute', 1e12, 1],
  ['rateLimit.models.gpt-4.1.requestsPerMinute', 1_000_000_000, 1],
  ['rateLimit.maxQueued', COUNT, 1],
  ['rateLimit.tenantShare', 1, 0.5],
  ['hedge.maxHedgedShare', 1, 0.5],
  ['hedge.maxExtraAttempts', 4, 1],
  ['hedge.minSamples', 1_000, 1],
  ['hedge.delay', DURATION, 1],
  ['retry.maxRetries', 1_000, 1],
  ['retry.initialDelay', DURATION, 1],
  ['retry.maxDelay', DURATION, 1],
  ['retry.maxRetryAfter', DURATION, 1],
  ['retry.budget.ratio', 1_000, 1],
  ['retry.budget.minRetries', COUNT, 1],
  ['retry.budget.window', DURATION, 1],
  ['timeout.attempt', DURATION, 1],
  ['timeout.total', DURATION, 1],
  ['timeout.firstChunk', DURATION, 1],
  ['timeout.idle', DURATION, 1],
  ['circuitBreaker.consecutiveFailures', COUNT, 1],
  ['circuitBreaker.failureRatio', 1, 0.5],
  ['circuitBreaker.minimumCalls', COUNT, 1],
  ['circuitBreaker.window', DURATION, 1],
  ['circuitBreaker.halfOpenAfter', DURATION, 1],
  ['circuitBreaker.maxHalfOpenAfter', DURATION, 1],
  ['circuitBreaker.halfOpenProbes', COUNT, 1],
  ['circuitBreaker.waitForProbe', DURATION, 1],
  ['circuitBreaker.maxQueued', COUNT, 1],
  ['contextWindows.gpt-4.1', 1e12, 1],
];

/** The options object for `path` (a model name holds a dot: `rateLimit.models.gpt-4.1.…`). */
function optionsFor(path: string, value: unknown): Record<string, unknown> {
  const model = /^(rateLimit\.models|contextWindows)\.(gpt-4\.1)(\..+)?$/.exec(path);
  if (!model) return optionAt(path, value);
  const [, parent, name, rest] = model;
  const leaf = rest ? optionAt(rest.slice(1), value) : value;
  return optionAt(parent!, { [name!]: leaf });
}

describe('every numeric option has an upper bound', () => {
  it.each(BOUNDS)('`%s` accepts %d and throws a TypeError naming it beyond', (path, max, step) => {
    expect(() => resilient(client(), optionsFor(path, max) as never)).not.toThrow();
    let thrown: unknown;
    try {
      resilient(client(), optionsFor(path, max + step) as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toContain(`\`${path}\``);
  });

  it('says the bound in the message', () => {
    expect(() => resilient(client(), { cache: { maxEntries: 2 ** 32 } })).toThrow(
      'openai-resilient: `cache.maxEntries` must be an integer from 1 to 10_000_000, got 4294967296.',
    );
    expect(() => resilient(client(), { bulkhead: { maxQueued: 1e300 } })).toThrow(/`bulkhead.maxQueued` must be an integer from 0 to 1_000_000, got 1e\+300/);
    expect(() => resilient(client(), { timeout: { total: 2 ** 31 } })).toThrow(/`timeout.total` must be a number from 1 to 2_147_483_647, got 2147483648/);
  });

  it('refuses the values that used to crash: a RangeError from lru-cache, a heap out of memory', () => {
    for (const maxEntries of [2 ** 32, 4_294_967_295, Number.MAX_SAFE_INTEGER]) {
      expect(() => resilient(client(), { cache: { maxEntries } })).toThrow(TypeError);
      expect(() => new MemoryCacheStore({ maxEntries, maxBytes: 1_000 })).toThrow(/`MemoryCacheStore.maxEntries`/);
    }
    expect(() => new MemoryCacheStore({ maxEntries: 10, maxBytes: 1.5 })).toThrow(/`MemoryCacheStore.maxBytes` must be an integer/);
    expect(() => new MemoryCacheStore({} as never)).toThrow(/`MemoryCacheStore.maxEntries` must be an integer from 1 to 10_000_000, got undefined/);
  });

  it("refuses a wrapped client's own maxRetries or timeout beyond the bound, naming it", () => {
    expect(() => resilient(new OpenAI({ apiKey: 'k', maxRetries: 5_000 }))).toThrow(/the client's `maxRetries` \(5000\) is above 1_000/);
    expect(() => resilient(new OpenAI({ apiKey: 'k', maxRetries: 5_000 }), { retry: { maxRetries: 3 } })).not.toThrow();
    expect(() => resilient(new OpenAI({ apiKey: 'k', timeout: 2 ** 32 }))).toThrow(/the client's `timeout` \(4294967296\) is above 2_147_483_647/);
  });

  it('bounds the durations of createRedisState()', () => {
    const redis = { isReady: true, eval: () => 0, evalSha: () => 0, scriptLoad: () => '' };
    expect(() => createRedisState(redis as never, { probeLease: 2 ** 31 })).toThrow(/`createRedisState.probeLease` must be an integer from 1 to 2_147_483_647/);
  });
});

describe('building a client costs the same whatever the bounds', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heapAfter = (build: () => unknown, count: number) => {
    const kept: unknown[] = [];
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < count; i++) kept.push(build());
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(kept).toHaveLength(count);
    return grown;
  };

  it('the default cache store allocates nothing in proportion to maxEntries or maxBytes', () => {
    const small = heapAfter(() => new MemoryCacheStore({ maxEntries: 1_000, maxBytes: 1_000 }), 2);
    // lru-cache given `max` would allocate 10 million slots per store: about 300 MB each.
    const largest = heapAfter(() => new MemoryCacheStore({ maxEntries: 10_000_000, maxBytes: 2 ** 40 }), 2);
    expect(largest - small).toBeLessThan(1_000_000);
  });

  it('a client with every size option at its bound holds no more than one with the defaults', () => {
    const everyBound = {
      cache: { maxEntries: 10_000_000, maxBytes: 2 ** 40 },
      bulkhead: { maxConcurrent: COUNT, maxQueued: COUNT, maxConcurrentPerTenant: COUNT },
      rateLimit: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1e12, maxQueued: COUNT },
      retry: { maxRetries: 1_000, budget: { ratio: 1_000, minRetries: COUNT } },
      circuitBreaker: { consecutiveFailures: COUNT, minimumCalls: COUNT, halfOpenProbes: COUNT },
      hedge: { maxExtraAttempts: 4, minSamples: 1_000 },
    };
    const sdk = client();
    const defaults = heapAfter(() => resilient(sdk, { cache: true, hedge: true }), 2);
    const bounded = heapAfter(() => resilient(sdk, everyBound), 2);
    expect(bounded - defaults).toBeLessThan(2_000_000);
  });
});
