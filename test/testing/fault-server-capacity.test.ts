import { describe, it, expect, afterEach } from 'vitest';
import OpenAI from 'openai';
import { faults, formatResetDuration, startFaultServer, tokenCost, type FaultServer, type FaultServerOptions } from '../../src/testing/index.js';
import { TokenBucket, createAdmission, seededRandom } from '../../src/testing/capacity.js';
import type { ReceivedRequest } from '../../src/testing/received-request.js';

type RateLimitError = InstanceType<typeof OpenAI.RateLimitError>;
type APIError = InstanceType<typeof OpenAI.APIError>;

const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: FaultServerOptions): Promise<{ server: FaultServer; client: OpenAI }> {
  const server = await startFaultServer(options);
  servers.push(server);
  return { server, client: new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 }) };
}

const chat = (client: OpenAI, extra: { max_tokens?: number; content?: string } = {}) =>
  client.chat.completions
    .create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: extra.content ?? 'hi' }], ...(extra.max_tokens ? { max_tokens: extra.max_tokens } : {}) })
    .withResponse();
const caught = (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.unreachable('expected a rejection'), (e: unknown) => e);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('capacity: requests per minute', () => {
  it('admits a burst up to the bucket, then answers realistic 429s that clear after retry-after-ms', async () => {
    const { server, client } = await start({ capacity: { requestsPerMinute: 120, burstSeconds: 5 } });
    // A bucket of 10 refilled every 500 ms: the burst fits in the window even on a loaded machine.
    const results = await Promise.allSettled(Array.from({ length: 15 }, () => chat(client)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(ok).toHaveLength(10);
    expect(errors).toHaveLength(5);

    const waits: number[] = [];
    for (const error of errors) {
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      const e = error as RateLimitError;
      expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests' });
      expect(e.message).toMatch(/Rate limit reached for gpt-4\.1-mini .* on requests per min \(RPM\): Limit 120, Used \d+, Requested 1\. Please try again in \d+ms\./);
      const wait = Number(e.headers.get('retry-after-ms'));
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(500);
      waits.push(wait);
      expect(e.headers.get('retry-after')).toBe('1');
      expect(e.headers.get('x-ratelimit-limit-requests')).toBe('120');
      expect(e.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(e.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+ms|[\d.]+s)$/);
      expect(e.headers.get('x-ratelimit-limit-tokens')).toBe('200000'); // no TPM: the static defaults
    }
    expect(server.stats()).toEqual({ received: 15, admitted: 10, rateLimited: 5, randomFailures: 0, scripted: 0, overloaded: 0 });

    await sleep(Math.max(...waits) + 10);
    const { response } = await chat(client);
    expect(response.status).toBe(200);
    expect(server.stats().admitted).toBe(11);
  });

  it('announces the remaining capacity on every success', async () => {
    const { client } = await start({ capacity: { requestsPerMinute: 60, burstSeconds: 5 } });
    const seen: Array<{ limit: string | null; remaining: number; reset: string | null }> = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await chat(client);
      seen.push({
        limit: response.headers.get('x-ratelimit-limit-requests'),
        remaining: Number(response.headers.get('x-ratelimit-remaining-requests')),
        reset: response.headers.get('x-ratelimit-reset-requests'),
      });
    }
    expect(seen.map((s) => s.limit)).toEqual(['60', '60', '60']);
    expect(seen.map((s) => s.remaining)).toEqual([4, 3, 2]);
    // 1 req/s refill: about 1 s, 2 s, 3 s until the bucket is full again.
    expect(seen.map((s) => s.reset)).toEqual([
      expect.stringMatching(/^(9\d\dms|1s)$/),
      expect.stringMatching(/^(1\.9\d*|2)s$/),
      expect.stringMatching(/^(2\.9\d*|3)s$/),
    ]);
  });

  it('scripted faults take precedence and consume no capacity', async () => {
    const { server, client } = await start({ capacity: { requestsPerMinute: 60 } }); // a bucket of 1
    server.enqueue(faults.serverError(502));
    expect(((await caught(chat(client))) as APIError).status).toBe(502);
    expect((await chat(client)).response.status).toBe(200);
    const limited = (await caught(chat(client))) as RateLimitError;
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after-ms'))).toBeGreaterThan(900);
    expect(limited.headers.get('retry-after')).toBe('1');
    server.enqueue(faults.ok());
    expect((await chat(client)).response.status).toBe(200); // scripted success while the bucket is empty
    expect(server.stats()).toEqual({ received: 4, admitted: 1, rateLimited: 1, randomFailures: 0, scripted: 2, overloaded: 0 });
  });
});

describe('capacity: tokens per minute', () => {
  it('charges prompt + max_tokens and answers 429 type tokens when the token bucket is short', async () => {
    // 6000 TPM: a bucket of 100 tokens, 0.1 token/ms. Each call costs 8 prompt tokens + 60 = 68.
    const { server, client } = await start({ capacity: { requestsPerMinute: 6000, tokensPerMinute: 6000 } });
    const { response } = await chat(client, { max_tokens: 60 });
    expect(response.headers.get('x-ratelimit-limit-tokens')).toBe('6000');
    expect(Number(response.headers.get('x-ratelimit-remaining-tokens'))).toBeGreaterThanOrEqual(32);
    expect(Number(response.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(40);
    expect(response.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+ms$/);
    expect(Number(response.headers.get('x-ratelimit-remaining-requests'))).toBe(99);

    const e = (await caught(chat(client, { max_tokens: 60 }))) as RateLimitError;
    expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'tokens' });
    expect(e.message).toMatch(/on tokens per min \(TPM\): Limit 6000, Used \d+, Requested 68\./);
    const wait = Number(e.headers.get('retry-after-ms'));
    expect(wait).toBeGreaterThan(250);
    expect(wait).toBeLessThanOrEqual(360);
    expect(e.headers.get('x-ratelimit-remaining-tokens')).toMatch(/^3\d$/);
    expect(e.headers.get('x-ratelimit-limit-requests')).toBe('6000');
    expect(server.stats()).toMatchObject({ admitted: 1, rateLimited: 1 });
  });

  it('refuses a request larger than the whole limit with "Request too large"', async () => {
    const { client } = await start({ capacity: { requestsPerMinute: 600, tokensPerMinute: 1000 } });
    const e = (await caught(chat(client, { max_tokens: 2000 }))) as RateLimitError;
    expect(e).toMatchObject({ status: 429, type: 'tokens' });
    expect(e.message).toMatch(/Request too large for gpt-4\.1-mini .* Limit 1000, Requested 2008\./);
    expect(e.headers.get('retry-after-ms')).toBeNull();
  });

  it('estimates the token cost like the usage of the default bodies', () => {
    const r = (body: unknown) => ({ method: 'POST', path: '/chat/completions', rawPath: '', query: {}, headers: {}, body, receivedAt: 0, requestId: 'req_1' });
    expect(tokenCost(r({ messages: [{ role: 'user', content: 'hi' }] }))).toBe(8 + 16);
    expect(tokenCost(r({ input: 'x'.repeat(40), max_output_tokens: 4 }))).toBe(10 + 4);
    expect(tokenCost(r(''))).toBe(16);
  });
});

describe('random failures', () => {
  it('rate 1 fails every request with a 500, counted, without consuming capacity', async () => {
    const { server, client } = await start({ capacity: { requestsPerMinute: 60 }, randomFailures: { rate: 1 } });
    for (let i = 0; i < 3; i++) {
      const e = (await caught(chat(client))) as APIError;
      expect(e).toBeInstanceOf(OpenAI.InternalServerError);
      expect(e.status).toBe(500);
    }
    expect(server.stats()).toEqual({ received: 3, admitted: 0, rateLimited: 0, randomFailures: 3, scripted: 0, overloaded: 0 });
    server.resetStats();
    expect(server.stats()).toEqual({ received: 0, admitted: 0, rateLimited: 0, randomFailures: 0, scripted: 0, overloaded: 0 });
  });

  it('a seed gives a deterministic sequence; status is configurable', async () => {
    const outcomes = async (seed: number): Promise<Array<number>> => {
      const { client } = await start({ randomFailures: { rate: 0.5, seed, status: 502 } });
      const seen: number[] = [];
      for (let i = 0; i < 16; i++) {
        seen.push(await chat(client).then(({ response }) => response.status, (e: APIError) => e.status ?? 0));
      }
      return seen;
    };
    const [a, b, c] = await Promise.all([outcomes(42), outcomes(42), outcomes(7)]);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a)).toEqual(new Set([200, 502]));
    const draws = seededRandom(42);
    expect(a).toEqual(Array.from({ length: 16 }, () => (draws() < 0.5 ? 502 : 200)));
  });
});

describe('latency and concurrency', () => {
  it('delays successes by latencyMs (fixed or in a range), not errors', async () => {
    const { server, client } = await start({ latencyMs: { min: 40, max: 60 }, capacity: { requestsPerMinute: 60 } });
    let started = performance.now();
    await chat(client);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(39);
    started = performance.now();
    await caught(chat(client)); // 429: answered at once
    expect(performance.now() - started).toBeLessThan(35);
    expect(server.openRequests).toBe(0);
  });

  it('a slow tail: slowShare of the successes wait slowMs, the rest min..max (seeded)', () => {
    const admit = createAdmission({ latencyMs: { min: 5, max: 10, slowShare: 0.25, slowMs: 400 }, randomFailures: { rate: 0, seed: 42 } });
    const latencies = Array.from({ length: 400 }, () => {
      const admission = admit({} as ReceivedRequest);
      if (admission.kind !== 'admit') throw new Error('expected an admission');
      return admission.latencyMs;
    });
    const slow = latencies.filter((ms) => ms === 400).length;
    expect(latencies.every((ms) => ms === 400 || (ms >= 5 && ms <= 10))).toBe(true);
    expect(slow / latencies.length).toBeGreaterThan(0.15);
    expect(slow / latencies.length).toBeLessThan(0.35);
    const again = createAdmission({ latencyMs: { min: 5, max: 10, slowShare: 0.25, slowMs: 400 }, randomFailures: { rate: 0, seed: 42 } });
    expect(latencies.map(() => (again({} as ReceivedRequest) as { latencyMs: number }).latencyMs)).toEqual(latencies);
  });

  it('a slow request really waits slowMs', async () => {
    const { client } = await start({ latencyMs: { min: 0, max: 0, slowShare: 1, slowMs: 60 } });
    const started = performance.now();
    await chat(client);
    expect(performance.now() - started).toBeGreaterThanOrEqual(59);
  });

  it('maxConcurrent answers 503 overloaded beyond the cap, without consuming capacity', async () => {
    const { server, client } = await start({ latencyMs: 40, capacity: { requestsPerMinute: 600, maxConcurrent: 1 } });
    const [first, second] = await Promise.allSettled([chat(client), chat(client)]);
    const statuses = [first, second].map((r) => (r.status === 'fulfilled' ? r.value.response.status : (r.reason as APIError).status)).sort();
    expect(statuses).toEqual([200, 503]);
    expect(server.stats()).toMatchObject({ admitted: 1, overloaded: 1 });
    expect((await chat(client)).response.headers.get('x-ratelimit-remaining-requests')).toMatch(/^[89]$/);
  });

  it('without options, stats still count and the static headers are unchanged', async () => {
    const { server, client } = await start({});
    server.enqueue(faults.overloaded());
    await caught(chat(client));
    const { response } = await chat(client);
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('499');
    expect(server.stats()).toEqual({ received: 2, admitted: 1, rateLimited: 0, randomFailures: 0, scripted: 1, overloaded: 0 });
  });
});

describe('helpers and validation', () => {
  it('formats durations like OpenAI', () => {
    expect([0, 0.2, 120, 999.1, 1000, 1500, 59_712, 360_000, 90_500, 3_723_000].map(formatResetDuration)).toEqual([
      '0s', '1ms', '120ms', '1s', '1s', '1.5s', '59.712s', '6m0s', '1m30.5s', '1h2m3s',
    ]);
  });

  it('token bucket refills continuously up to its capacity', () => {
    const bucket = new TokenBucket(600, 2, 0); // 10/s, holds 20
    expect(bucket.capacity).toBe(20);
    bucket.take(20, 0);
    expect(bucket.waitFor(1, 0)).toBeCloseTo(100);
    expect(bucket.level(50)).toBeCloseTo(0.5);
    expect(bucket.timeUntilFull(50)).toBeCloseTo(1950);
    expect(bucket.level(10_000)).toBe(20);
    expect(new TokenBucket(6, 1, 0).capacity).toBe(1); // at least one request
  });

  it.each([
    [{ capacity: { requestsPerMinute: 0 } }, /capacity\.requestsPerMinute/],
    [{ capacity: { requestsPerMinute: 60, tokensPerMinute: -1 } }, /capacity\.tokensPerMinute/],
    [{ randomFailures: { rate: 1.5 } }, /randomFailures\.rate/],
    [{ latencyMs: { min: 10, max: 5 } }, /latencyMs\.max/],
    [{ latencyMs: { min: 5, max: 10, slowShare: 1.5, slowMs: 400 } }, /latencyMs\.slowShare/],
    [{ latencyMs: { min: 5, max: 10, slowMs: 400 } }, /latencyMs\.slowShare/],
    [{ latencyMs: { min: 5, max: 10, slowShare: 0.1 } }, /latencyMs\.slowMs/],
    [{ latencyMs: { min: 5, max: 10, slowShare: 0.1, slowMs: -1 } }, /latencyMs\.slowMs/],
  ] as const)('rejects invalid options %#', async (options, message) => {
    await expect(startFaultServer(options as FaultServerOptions)).rejects.toThrow(message);
  });
});
