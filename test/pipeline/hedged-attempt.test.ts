import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import type { AttemptEndEvent, HedgeEvent, RateLimitWaitEvent } from '../../src/index.js';
import { faults } from '../../src/testing/index.js';
import { chatParams, harness, rejectionOf, until } from '../support/harness.js';

const collect = <T>(ai: { resilience: { on: (event: never, listener: (payload: T) => void) => unknown } }, event: string): T[] => {
  const seen: T[] = [];
  ai.resilience.on(event as never, (payload: T) => seen.push(payload));
  return seen;
};

describe('hedge', () => {
  it('sends a twin after `delay`; the first to answer wins and the slow attempt is aborted at once', async () => {
    const { server, clock, ai } = await harness({ hedge: { delay: 200, maxHedgedShare: 1 } });
    const hedges = collect<HedgeEvent>(ai, 'hedge');
    const ends = collect<AttemptEndEvent>(ai, 'attemptEnd');
    server.enqueue(faults.stall());
    const call = ai.chat.completions.create(chatParams);
    await until(() => server.requests.length === 1);
    await clock.advance(199);
    expect(server.requests).toHaveLength(1);
    await clock.advance(1);
    const completion = await call;
    expect(server.requests).toHaveLength(2);
    expect(completion.id).toBe('chatcmpl-2');
    // The stalled request's connection is closed, not left to run.
    await until(() => server.openRequests === 0);
    expect(hedges).toMatchObject([{ attempt: 1, hedge: 1, delay: 200 }]);
    expect(ends.map((end) => [end.hedge, end.outcome, end.kind])).toEqual([[1, 'success', undefined], [0, 'failure', 'aborted']]);
    expect(ai.resilience.stats().total).toMatchObject({ calls: 1, successes: 1, hedges: { sent: 1, won: 1 } });
    expect(clock.pending()).toEqual([]);
  });

  it('is off by default', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const call = ai.chat.completions.create(chatParams, { signal: controller.signal });
    await until(() => server.requests.length === 1);
    await clock.advance(60_000);
    expect(server.requests).toHaveLength(1);
    controller.abort();
    expect(await rejectionOf(call)).toBeInstanceOf(OpenAI.APIUserAbortError);
  });

  it('keeps the hedged share of calls within maxHedgedShare', async () => {
    const { server, clock, ai } = await harness({ hedge: { delay: 50, maxHedgedShare: 0.5 } });
    const hedges = collect<HedgeEvent>(ai, 'hedge');
    for (let call = 1; call <= 4; call++) {
      server.enqueue(faults.delay(150));
      const before = server.requests.length;
      const pending = ai.chat.completions.create(chatParams);
      await until(() => server.requests.length === before + 1);
      await clock.advance(50);
      await pending;
    }
    // The share is counted over the calls so far: 0 of 1, then 1 of 2, 1 of 3, 2 of 4.
    expect(hedges).toHaveLength(2);
    expect(ai.resilience.stats().total.hedges.sent).toBe(2);
    expect(server.requests).toHaveLength(6);
  });

  it('sends no twin for an attempt still held by the rate limiter, and so takes no capacity from later callers', async () => {
    // 60 per minute (one per second); a fixed hedge delay of 100 ms, every call may be hedged.
    const { server, clock, ai } = await harness({
      rateLimit: { requestsPerMinute: 60, learn: false },
      hedge: { delay: 100, maxHedgedShare: 1 },
    });
    const waits = collect<RateLimitWaitEvent>(ai, 'rateLimitWait');
    const hedges = collect<HedgeEvent>(ai, 'hedge');
    const c1 = ai.chat.completions.create(chatParams);
    const c2 = ai.chat.completions.create(chatParams);
    const c3 = ai.chat.completions.create(chatParams);
    await c1; // sent at once, answered before the hedge delay
    await until(() => waits.length === 2);
    expect(waits.map((event) => event.delay)).toEqual([1000, 2000]);

    // c2 and c3 have not been sent: their wait is our own pacing, not a slow upstream.
    await clock.advance(100);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(hedges).toEqual([]);

    // A new caller at 100 ms, with three calls ahead of it at one per second, goes at 3 s.
    const c4 = ai.chat.completions.create(chatParams);
    await until(() => waits.length === 3);
    expect(waits[2]!.delay).toBe(2_900);

    for (let i = 0; i < 30 && server.requests.length < 4; i++) {
      await clock.advance(100);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all([c2, c3, c4]);
    expect(hedges).toEqual([]);
    expect(server.requests).toHaveLength(4);
    expect(ai.resilience.stats().total.hedges.sent).toBe(0);
  });

  it('learns latency from when an attempt is sent, not from when it began waiting for the rate limiter', async () => {
    const { server, clock, ai } = await harness({
      rateLimit: { requestsPerMinute: 60, learn: false },
      hedge: { delay: { percentile: 50 }, minSamples: 3, maxHedgedShare: 1 },
    });
    const hedges = collect<HedgeEvent>(ai, 'hedge');
    // Three calls at once: sent at 0, 1 and 2 s, each answered at once (on the fake clock: each answer is
    // awaited before the clock moves on, or its latency would include the step).
    const calls = [0, 1, 2].map(() => ai.chat.completions.create(chatParams));
    await calls[0];
    await clock.advance(1000);
    await calls[1];
    await clock.advance(1000);
    await calls[2];

    // The model's median latency is ~0 ms (not the 1 s its queued calls waited): a slow call is hedged at once.
    await clock.advance(1000);
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const slow = rejectionOf(ai.chat.completions.create(chatParams, { signal: controller.signal }));
    await until(() => server.requests.length === 4);
    await clock.advance(1);
    await until(() => hedges.length === 1);
    expect(hedges[0]!.delay).toBe(1);
    controller.abort();
    expect(await slow).toBeInstanceOf(OpenAI.APIUserAbortError);
  });

  it('sends up to maxExtraAttempts twins, one per delay', async () => {
    const { server, clock, ai } = await harness({ hedge: { delay: 100, maxExtraAttempts: 2, maxHedgedShare: 1 } });
    server.enqueue(faults.stall(), faults.stall());
    const call = ai.chat.completions.create(chatParams);
    await until(() => server.requests.length === 1);
    await clock.advance(100);
    await until(() => server.requests.length === 2);
    await clock.advance(100);
    const completion = await call;
    expect(completion.id).toBe('chatcmpl-3');
    await until(() => server.openRequests === 0);
    await clock.advance(1_000);
    expect(server.requests).toHaveLength(3);
  });

  it('does not wait for a twin when the attempt fails first: the failure goes to the retry policy', async () => {
    const { server, clock, ai } = await harness({ hedge: { delay: 100, maxHedgedShare: 1 }, retry: false });
    server.enqueue(faults.serverError(500));
    expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.InternalServerError);
    await clock.advance(1_000);
    expect(server.requests).toHaveLength(1);
    expect(clock.pending()).toEqual([]);
  });

  it('fails only when every attempt sent has failed', async () => {
    const { server, clock, ai } = await harness({ hedge: { delay: 100, maxHedgedShare: 1 }, retry: false });
    server.enqueue(faults.delay(100, faults.serverError(502)), faults.serverError(500));
    const call = ai.chat.completions.create(chatParams);
    await until(() => server.requests.length === 1);
    await clock.advance(100);
    const error = await rejectionOf(call);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server.requests).toHaveLength(2);
  });

  it('hedges a stream whose first chunk is late, and hands over the twin that produced one', async () => {
    const { server, clock, ai } = await harness({ hedge: { delay: 100, maxHedgedShare: 1 } });
    server.enqueue(faults.stall());
    const call = ai.chat.completions.create({ ...chatParams, stream: true });
    await until(() => server.requests.length === 1);
    await clock.advance(100);
    const stream = await call;
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    await until(() => server.openRequests === 0);
    expect(server.requests).toHaveLength(2);
    expect(clock.pending()).toEqual([]);
  });

  it("a hedged stream that won still ends on the caller's abort", async () => {
    const { server, clock, ai } = await harness({ hedge: { delay: 100, maxHedgedShare: 1 } });
    server.enqueue(faults.stall(), faults.stream({ chunks: 5, stallAfter: 2 }));
    const controller = new AbortController();
    const call = ai.chat.completions.create({ ...chatParams, stream: true }, { signal: controller.signal });
    await until(() => server.requests.length === 1);
    await clock.advance(100);
    const stream = await call;
    const chunks: unknown[] = [];
    const reading = (async () => {
      for await (const chunk of stream) {
        chunks.push(chunk);
        if (chunks.length === 2) controller.abort();
      }
    })();
    // The stream stalls after two chunks: only the abort ends it (quietly, as the SDK ends an aborted stream).
    await reading;
    expect(chunks).toHaveLength(2);
    await until(() => server.openRequests === 0);
    expect(clock.pending()).toEqual([]);
  });

  it('never hedges a multipart upload', async () => {
    const { server, clock, ai } = await harness({ hedge: { delay: 100, maxHedgedShare: 1 } });
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const call = ai.files.create({ file: await toFile(Buffer.from('{}'), 'a.jsonl'), purpose: 'batch' }, { signal: controller.signal });
    await until(() => server.requests.length === 1);
    await clock.advance(1_000);
    expect(server.requests).toHaveLength(1);
    controller.abort();
    await rejectionOf(call);
  });

  it("the caller's abort ends every racer", async () => {
    const { server, clock, ai } = await harness({ hedge: { delay: 100, maxHedgedShare: 1 } });
    server.enqueue(faults.stall(), faults.stall());
    const controller = new AbortController();
    const call = ai.chat.completions.create(chatParams, { signal: controller.signal });
    await until(() => server.requests.length === 1);
    await clock.advance(100);
    await until(() => server.openRequests === 2);
    controller.abort();
    expect(await rejectionOf(call)).toBeInstanceOf(OpenAI.APIUserAbortError);
    await until(() => server.openRequests === 0);
    expect(clock.pending()).toEqual([]);
  });

  it('with a percentile delay, waits for minSamples answers, then hedges past that percentile of them', async () => {
    const { server, clock, ai } = await harness({ hedge: { delay: { percentile: 90 }, minSamples: 5, maxHedgedShare: 1 } });
    const hedges = collect<HedgeEvent>(ai, 'hedge');
    // Not learned yet: no hedge, however long an attempt takes.
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const unhedged = ai.chat.completions.create(chatParams, { signal: controller.signal });
    await until(() => server.requests.length === 1);
    await clock.advance(5_000);
    expect(server.requests).toHaveLength(1);
    controller.abort();
    await rejectionOf(unhedged);
    // Five answers that take 40 ms each on the pipeline's clock.
    for (let i = 0; i < 5; i++) {
      server.enqueue(faults.delay(30));
      const before = server.requests.length;
      const call = ai.chat.completions.create(chatParams);
      await until(() => server.requests.length === before + 1);
      await clock.advance(40);
      await call;
    }
    expect(hedges).toHaveLength(0);
    server.enqueue(faults.stall());
    const slow = ai.chat.completions.create(chatParams);
    await until(() => server.requests.length === 7);
    await clock.advance(39);
    expect(server.requests).toHaveLength(7);
    await clock.advance(6);
    await slow;
    expect(server.requests).toHaveLength(8);
    expect(hedges).toHaveLength(1);
    // The 90th percentile of 40 ms answers, within the histogram's 5%.
    expect(hedges[0]!.delay).toBeGreaterThanOrEqual(40);
    expect(hedges[0]!.delay).toBeLessThanOrEqual(42);
  });
});
