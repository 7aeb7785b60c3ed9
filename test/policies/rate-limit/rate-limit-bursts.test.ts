/**
 * The rate limiter spends what the server grants: a backlog against an account whose bucket holds the
 * whole minute (OpenAI's, announced in `x-ratelimit-*`), and against one that also enforces its limit per
 * second. The fault server's account runs on the client's fake clock (`capacity.clock`), so what the server
 * admits and when the limiter lets calls go are decided in the test's time, whatever the machine's load:
 * requests still travel on real sockets, and the clock only moves once none is in flight.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { resilient, type ResilienceOptions } from '../../../src/index.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { startFaultServer, type CapacityOptions, type FaultServer } from '../../../src/testing/index.js';
import { chatParams } from '../../support/harness.js';

const MODEL = chatParams.model;
const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A request sent: the fake time, and how many had been sent and answered before it. */
interface Sent {
  readonly at: number;
  readonly started: number;
  readonly ended: number;
}

/** An account on a fake clock, and `resilient()` with its defaults (but for the policies these tests are not about). */
async function account(capacity: Omit<CapacityOptions, 'clock'>, options: ResilienceOptions = {}) {
  const clock = new FakeClock(1_700_000_000_000);
  const server = await startFaultServer({ capacity: { ...capacity, clock } });
  servers.push(server);
  // The fault server counts a prompt at 4 characters a token: so does the client here (not gpt-tokenizer).
  const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0 }), {
    clock, circuitBreaker: false, bulkhead: false, retry: { jitter: false, budget: false }, tokens: { tokenizer: 'estimate' }, ...options,
  });
  let started = 0;
  let ended = 0;
  const sent: Sent[] = [];
  ai.resilience.on('attemptStart', () => {
    sent.push({ at: clock.now(), started, ended });
    started++;
  });
  ai.resilience.on('attemptEnd', () => ended++);
  return { clock, server, ai, sent, inFlight: () => started - ended };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs `calls` to their end: whenever no request is in flight (after a few event-loop turns, for calls just
 * let go to reach the transport), moves the clock to its next timer. Returns the outcomes, and the fake
 * time from the start until the last call settled.
 */
async function drain<T>(t: Awaited<ReturnType<typeof account>>, calls: Array<Promise<T>>) {
  const start = t.clock.now();
  let settledAt: number | undefined;
  const all = Promise.allSettled(calls).then((outcomes) => {
    settledAt = t.clock.now();
    return outcomes;
  });
  const giveUpAt = Date.now() + 20_000;
  while (settledAt === undefined) {
    if (Date.now() > giveUpAt) throw new Error(`drain: not settled; pending timers ${JSON.stringify(t.clock.pending().slice(0, 3))}`);
    await turn();
    await turn();
    if (t.inFlight() > 0 || settledAt !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      continue;
    }
    const next = t.clock.pending()[0];
    if (next) await t.clock.advance(next.at - t.clock.now());
  }
  return { outcomes: await all, elapsed: settledAt - start };
}

const fulfilled = (outcomes: PromiseSettledResult<unknown>[]) => outcomes.filter((outcome) => outcome.status === 'fulfilled').length;

describe("rate limiter: spends the capacity the server's headers grant", () => {
  it('100 calls at 60 a minute, a bucket of the whole minute: 60 as soon as answers confirm them, then one a second; done in the 40 s the server needs, without a 429', async () => {
    const t = await account({ requestsPerMinute: 60, burstSeconds: 60 });
    const { outcomes, elapsed } = await drain(t, Array.from({ length: 100 }, () => t.ai.chat.completions.create(chatParams)));
    expect(fulfilled(outcomes)).toBe(100);
    expect(t.server.stats()).toMatchObject({ received: 100, admitted: 100, rateLimited: 0 });
    // The server's minimum: 60 at once, then the 40 others one a second.
    expect(elapsed).toBe(40_000);
    expect(t.sent.filter((request) => request.at === t.sent[0]!.at)).toHaveLength(60);
    // Beyond one second's worth, bursts widened only as answers came back: never more sent than two for
    // each answer, plus the first call (which went alone, to learn the limits).
    for (const request of t.sent.slice(0, 60)) expect(request.started).toBeLessThanOrEqual(2 * request.ended + 1);
    expect(t.ai.resilience.stats().models[MODEL]!.rateLimit).toMatchObject({ requestsPerMinute: 60, pacing: { requests: 'server' } });
  });

  it('a 429 despite headroom (a limit also enforced per second) falls back to finer pacing: 5% below the limit, no 429 storm', async () => {
    const t = await account({ requestsPerMinute: 60, burstSeconds: 60, shortWindowSeconds: 1 });
    const { outcomes, elapsed } = await drain(t, Array.from({ length: 10 }, () => t.ai.chat.completions.create(chatParams)));
    expect(fulfilled(outcomes)).toBe(10);
    // The first call went alone; the two its success let go were refused by the second's window, with
    // 58 left in the headers: the last 429s. The others then went a second apart and more.
    expect(t.server.stats()).toMatchObject({ admitted: 10, rateLimited: 2 });
    const paced = t.sent.slice(3).map((request, i) => request.at - t.sent[2 + i]!.at);
    expect(paced.every((gap) => gap >= 1_052)).toBe(true);
    // 10 calls need 9 s of this server; the pause after the 429s and the margin cost 1.5 s more.
    expect(elapsed).toBeLessThanOrEqual(1.2 * 9_000);
    expect(t.ai.resilience.stats().models[MODEL]!.rateLimit).toMatchObject({ pacing: { requests: 'fine' } });
  });

  describe('the same for tokens per minute', () => {
    // A Responses call of 'Say ok' (2 tokens) and 998 output tokens: 1 000 tokens, as both the server and
    // the limiter count them; the account allows 60 such calls a minute, requests are not limiting.
    const call = (t: Awaited<ReturnType<typeof account>>) => t.ai.responses.create({ model: MODEL, input: 'Say ok', max_output_tokens: 998 });

    it("100 calls, 60 calls' worth of tokens in a bucket of the whole minute: done in the server's 40 s, without a 429", async () => {
      const t = await account({ requestsPerMinute: 100_000, tokensPerMinute: 60_000, burstSeconds: 60 });
      const { outcomes, elapsed } = await drain(t, Array.from({ length: 100 }, () => call(t)));
      expect(fulfilled(outcomes)).toBe(100);
      expect(t.server.stats()).toMatchObject({ received: 100, rateLimited: 0 });
      expect(elapsed).toBe(40_000);
      expect(t.ai.resilience.stats().models[MODEL]!.rateLimit).toMatchObject({ pacing: { tokens: 'server' } });
    });

    it('a token limit also enforced per second: finer pacing after the first 429 despite headroom', async () => {
      const t = await account({ requestsPerMinute: 100_000, tokensPerMinute: 60_000, burstSeconds: 60, shortWindowSeconds: 1 });
      const { outcomes, elapsed } = await drain(t, Array.from({ length: 10 }, () => call(t)));
    expect(fulfilled(outcomes)).toBe(10);
      // The first call's success let one more go at once (its usage said it used 13 of the second's 1 000):
      // refused by the second's window, with 58 000 tokens left in the headers; the only 429.
      expect(t.server.stats().rateLimited).toBe(1);
      const firstAfterRefusals = t.sent.findIndex((request) => request.at > t.sent[0]!.at);
      const paced = t.sent.slice(firstAfterRefusals + 1).map((request, i) => request.at - t.sent[firstAfterRefusals + i]!.at);
      expect(paced.every((gap) => gap >= 1_052)).toBe(true);
      expect(elapsed).toBeLessThanOrEqual(1.2 * 9_000);
      expect(t.ai.resilience.stats().models[MODEL]!.rateLimit).toMatchObject({ pacing: { tokens: 'fine' } });
    });
  });
});
