import { describe, it, expect, afterEach } from 'vitest';
import OpenAI from 'openai';
import { faults, formatResetDuration, startFaultServer, tokenCost, type FaultServer, type FaultServerOptions } from '../../src/testing/index.js';
import { TokenBucket, createAdmission, seededRandom } from '../../src/testing/capacity.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
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
/** A request as the admission logic sees it (a chat completion by default). */
const request = (body: unknown = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }): ReceivedRequest => ({
  method: 'POST', path: '/chat/completions', rawPath: '/v1/chat/completions', query: {}, headers: {}, body, receivedAt: 0, requestId: 'req_1',
});
/** The headers an admission answers with: a success's rate-limit headers, or a rejection's. */
function headersOf(admission: ReturnType<ReturnType<typeof createAdmission>>): Record<string, string> {
  if (admission.kind === 'admit') return admission.headers;
  return (admission.fault as { headers?: Record<string, string> }).headers ?? {};
}

// The server's buckets run on the real clock. Tests through the server use refills slow enough (seconds
// per request) that a busy machine cannot refill a bucket between two requests of a test; exact timing is
// tested on the admission logic itself with a clock the test moves (`createAdmission(options, now)`).
describe('capacity: requests per minute', () => {
  it('admits a burst up to the bucket, then answers realistic 429s', async () => {
    // A bucket of 10 refilled every 5 s: the whole burst arrives within one refill, however busy the machine.
    const { server, client } = await start({ capacity: { requestsPerMinute: 12, burstSeconds: 50 } });
    const results = await Promise.allSettled(Array.from({ length: 15 }, () => chat(client)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(ok).toHaveLength(10);
    expect(errors).toHaveLength(5);

    for (const error of errors) {
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      const e = error as RateLimitError;
      expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests' });
      expect(e.message).toMatch(/Rate limit reached for gpt-4\.1-mini .* on requests per min \(RPM\): Limit 12, Used \d+, Requested 1\. Please try again in [\d.]+m?s\./);
      const wait = Number(e.headers.get('retry-after-ms'));
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(5_000);
      expect(e.headers.get('retry-after')).toBe(String(Math.ceil(wait / 1000)));
      expect(e.headers.get('x-ratelimit-limit-requests')).toBe('12');
      expect(e.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(e.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+ms|[\d.]+s)$/);
      expect(e.headers.get('x-ratelimit-limit-tokens')).toBe('200000'); // no TPM: the static defaults
    }
    expect(server.stats()).toEqual({ received: 15, admitted: 10, rateLimited: 5, randomFailures: 0, scripted: 0, overloaded: 0, down: 0 });
  });

  it("a 429's retry-after-ms is when the bucket admits the next request (on the admission's clock)", () => {
    let now = 1_000;
    const admit = createAdmission({ capacity: { requestsPerMinute: 120, burstSeconds: 5 } }, () => now); // 10, then one per 500 ms
    for (let i = 0; i < 10; i++) expect(admit(request()).kind).toBe('admit');
    now += 100;
    const refused = admit(request());
    expect(refused.kind).toBe('reject');
    const wait = Number(headersOf(refused)['retry-after-ms']);
    expect(wait).toBe(400);
    expect(headersOf(refused)['retry-after']).toBe('1');
    now += wait - 1;
    expect(admit(request()).kind).toBe('reject');
    now += 1;
    expect(admit(request()).kind).toBe('admit');
  });

  it('announces the remaining capacity on every success', async () => {
    // Through the server: 5 at once, refilled one every 10 s.
    const { client } = await start({ capacity: { requestsPerMinute: 6, burstSeconds: 50 } });
    const seen: Array<{ limit: string | null; remaining: number; reset: string | null }> = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await chat(client);
      seen.push({
        limit: response.headers.get('x-ratelimit-limit-requests'),
        remaining: Number(response.headers.get('x-ratelimit-remaining-requests')),
        reset: response.headers.get('x-ratelimit-reset-requests'),
      });
    }
    expect(seen.map((s) => s.limit)).toEqual(['6', '6', '6']);
    expect(seen.map((s) => s.remaining)).toEqual([4, 3, 2]);
    for (const { reset } of seen) expect(reset).toMatch(/^[\d.]+s$/);
    // On the admission's own clock: 1 req/s refill, so exactly 1 s, 2 s, 3 s until the bucket is full again.
    const admit = createAdmission({ capacity: { requestsPerMinute: 60, burstSeconds: 5 } }, () => 0);
    expect([1, 2, 3].map(() => headersOf(admit(request()))).map((h) => [h['x-ratelimit-remaining-requests'], h['x-ratelimit-reset-requests']])).toEqual([
      ['4', '1s'],
      ['3', '2s'],
      ['2', '3s'],
    ]);
  });

  it('scripted faults take precedence and consume no capacity', async () => {
    const { server, client } = await start({ capacity: { requestsPerMinute: 6 } }); // a bucket of 1, refilled every 10 s
    server.enqueue(faults.serverError(502));
    expect(((await caught(chat(client))) as APIError).status).toBe(502);
    expect((await chat(client)).response.status).toBe(200);
    const limited = (await caught(chat(client))) as RateLimitError;
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after-ms'))).toBeGreaterThan(5_000);
    expect(limited.headers.get('retry-after')).toBe('10');
    server.enqueue(faults.ok());
    expect((await chat(client)).response.status).toBe(200); // scripted success while the bucket is empty
    expect(server.stats()).toEqual({ received: 4, admitted: 1, rateLimited: 1, randomFailures: 0, scripted: 2, overloaded: 0, down: 0 });
  });
});

describe('capacity: a shorter window (shortWindowSeconds)', () => {
  it('a request the short window refuses gets a 429 while the headers, counting the minute, still show headroom', () => {
    let now = 0;
    // 60 a minute, announced as a bucket of 60, enforced one a second.
    const admit = createAdmission({ capacity: { requestsPerMinute: 60, burstSeconds: 60, shortWindowSeconds: 1 } }, () => now);
    expect(headersOf(admit(request()))['x-ratelimit-remaining-requests']).toBe('59');
    now += 400;
    const refused = admit(request());
    expect(refused).toMatchObject({ kind: 'reject', reason: 'rateLimited' });
    const headers = headersOf(refused);
    expect(headers).toMatchObject({ 'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': '59', 'retry-after-ms': '600', 'retry-after': '1' });
    expect((refused as { fault: { type?: string; message?: string } }).fault).toMatchObject({ type: 'requests' });
    expect((refused as { fault: { message: string } }).fault.message).toMatch(/on requests per min \(RPM\): Limit 60, Used \d+, Requested 1\. Please try again in 600ms\./);
    now += 599;
    expect(admit(request()).kind).toBe('reject');
    now += 1;
    // The refusals took nothing: the minute's bucket lost only the two admitted requests (and refilled one).
    expect(headersOf(admit(request()))['x-ratelimit-remaining-requests']).toBe('58');
  });

  it('applies to tokens too: a window of one second of tokens, with the headers counting the minute', () => {
    let now = 0;
    // 6 000 tokens a minute (100 a second); each call costs 1 prompt token ('hi') + 99.
    const admit = createAdmission({ capacity: { requestsPerMinute: 6_000, tokensPerMinute: 6_000, burstSeconds: 60, shortWindowSeconds: 1 } }, () => now);
    const body = { model: 'gpt-4.1-mini', messages: 'hi', max_tokens: 99 };
    expect(headersOf(admit(request(body)))['x-ratelimit-remaining-tokens']).toBe('5900');
    now += 500;
    const refused = admit(request(body));
    expect(refused).toMatchObject({ kind: 'reject', reason: 'rateLimited', fault: { type: 'tokens' } });
    expect(headersOf(refused)).toMatchObject({ 'x-ratelimit-remaining-tokens': '5950', 'retry-after-ms': '500' });
    now += 500;
    expect(admit(request(body)).kind).toBe('admit');
  });

  it('capacity.clock: the buckets refill on the clock given (a FakeClock), through the server', async () => {
    const clock = new FakeClock(1_000_000);
    const { server, client } = await start({ capacity: { requestsPerMinute: 60, burstSeconds: 60, shortWindowSeconds: 1, clock } });
    await chat(client);
    const refused = (await caught(chat(client))) as RateLimitError;
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after-ms')).toBe('1000');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('59');
    await clock.advance(1_000);
    const { response } = await chat(client);
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('59');
    expect(server.stats()).toMatchObject({ admitted: 2, rateLimited: 1 });
  });
});

describe('capacity: tokens per minute', () => {
  it('charges prompt + max_tokens and answers 429 type tokens when the token bucket is short', async () => {
    // 100 TPM over a minute: a bucket of 100 tokens, refilled one every 600 ms. Each call costs 8 prompt tokens + 60 = 68.
    const { server, client } = await start({ capacity: { requestsPerMinute: 6000, tokensPerMinute: 100, burstSeconds: 60 } });
    const { response } = await chat(client, { max_tokens: 60 });
    expect(response.headers.get('x-ratelimit-limit-tokens')).toBe('100');
    expect(Number(response.headers.get('x-ratelimit-remaining-tokens'))).toBeGreaterThanOrEqual(32);
    expect(Number(response.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(40);
    expect(response.headers.get('x-ratelimit-reset-tokens')).toMatch(/^[\d.]+s$/);
    expect(Number(response.headers.get('x-ratelimit-remaining-requests'))).toBe(5999);

    const e = (await caught(chat(client, { max_tokens: 60 }))) as RateLimitError;
    expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'tokens' });
    expect(e.message).toMatch(/on tokens per min \(TPM\): Limit 100, Used \d+, Requested 68\./);
    // 36 tokens short at one every 600 ms: at most 21.6 s, less the time that passed since the first call.
    const wait = Number(e.headers.get('retry-after-ms'));
    expect(wait).toBeGreaterThan(15_000);
    expect(wait).toBeLessThanOrEqual(21_600);
    expect(e.headers.get('x-ratelimit-remaining-tokens')).toMatch(/^3\d$/);
    expect(e.headers.get('x-ratelimit-limit-requests')).toBe('6000');
    expect(server.stats()).toMatchObject({ admitted: 1, rateLimited: 1 });

    // On the admission's own clock: 6000 TPM (100 tokens, 0.1 a ms) leaves 32 after one call, and the next
    // is refused for exactly the 360 ms its 36 missing tokens take.
    const admit = createAdmission({ capacity: { requestsPerMinute: 6000, tokensPerMinute: 6000 } }, () => 0);
    const body = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 60 };
    expect(headersOf(admit(request(body)))['x-ratelimit-remaining-tokens']).toBe('32');
    const refused = admit(request(body));
    expect(refused.kind).toBe('reject');
    expect(headersOf(refused)['retry-after-ms']).toBe('360');
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
    expect(server.stats()).toEqual({ received: 3, admitted: 0, rateLimited: 0, randomFailures: 3, scripted: 0, overloaded: 0, down: 0 });
    server.resetStats();
    expect(server.stats()).toEqual({ received: 0, admitted: 0, rateLimited: 0, randomFailures: 0, scripted: 0, overloaded: 0, down: 0 });
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
    const { client } = await start({ latencyMs: { min: 40, max: 60 } });
    const started = performance.now();
    await chat(client);
    expect(performance.now() - started).toBeGreaterThanOrEqual(39);

    // An admitted call waits a minute; a 429 answered meanwhile does not wait for anything.
    const { server, client: other } = await start({ latencyMs: 60_000, capacity: { requestsPerMinute: 6 } });
    const controller = new AbortController();
    const slow = other.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }, { signal: controller.signal });
    await server.waitForRequests(1);
    expect(((await caught(chat(other))) as APIError).status).toBe(429);
    expect(server.openRequests).toBe(1);
    controller.abort();
    expect(await caught(slow)).toBeInstanceOf(OpenAI.APIUserAbortError);
    await expect.poll(() => server.openRequests).toBe(0);
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
    // The first call is admitted and held for a minute (its latency): the second finds the cap reached.
    const { server, client } = await start({ latencyMs: 60_000, capacity: { requestsPerMinute: 600, maxConcurrent: 1 } });
    const controller = new AbortController();
    const first = client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }, { signal: controller.signal });
    await server.waitForRequests(1);
    expect(((await caught(chat(client))) as APIError).status).toBe(503);
    expect(server.stats()).toMatchObject({ admitted: 1, overloaded: 1 });
    controller.abort();
    await caught(first);
    // On the admission's own clock: the 503 took none of the 10 requests, the admitted call one.
    const admit = createAdmission({ capacity: { requestsPerMinute: 600, maxConcurrent: 1 } }, () => 0);
    const admitted = admit(request());
    expect(admit(request())).toMatchObject({ kind: 'reject', reason: 'overloaded' });
    if (admitted.kind === 'admit') admitted.release();
    expect(headersOf(admit(request()))['x-ratelimit-remaining-requests']).toBe('8');
  });

  it('without options, stats still count and the static headers are unchanged', async () => {
    const { server, client } = await start({});
    server.enqueue(faults.overloaded());
    await caught(chat(client));
    const { response } = await chat(client);
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('499');
    expect(server.stats()).toEqual({ received: 2, admitted: 1, rateLimited: 0, randomFailures: 0, scripted: 1, overloaded: 0, down: 0 });
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
    [{ capacity: { requestsPerMinute: 60, shortWindowSeconds: 0 } }, /capacity\.shortWindowSeconds/],
    [{ capacity: { requestsPerMinute: 60, clock: {} } }, /capacity\.clock/],
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
