import { getEventListeners } from 'node:events';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { BulkheadFullError, BulkheadTimeoutError } from '../../../src/errors/bulkhead-errors.js';
import type { BulkheadRejectEvent } from '../../../src/events/event-map.js';
import { classify, DeadlineExceededError, isResilienceError, type GiveUpEvent } from '../../../src/index.js';
import { faults } from '../../../src/testing/index.js';
import { fedStream } from '../../support/fed-stream.js';
import { chatParams, harness, rejectionOf, until } from '../../support/harness.js';

/** A few real milliseconds, for "nothing more happens" checks against the real-time fault server. */
const settleReal = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

describe('bulkhead: concurrency cap', () => {
  it('maxConcurrent: 2 lets two requests run and queues the third until one finishes', async () => {
    const { server, ai } = await harness({ bulkhead: { maxConcurrent: 2 } });
    server.enqueue(faults.delay(200), faults.delay(200));
    let maxOpen = 0;
    const sampler = setInterval(() => (maxOpen = Math.max(maxOpen, server.openRequests)), 1);
    try {
      const calls = [1, 2, 3].map(() => ai.chat.completions.create(chatParams));
      await until(() => server.requests.length === 2 && ai.resilience.load().queued === 1);
      expect(ai.resilience.load()).toEqual({ active: 2, queued: 1 });
      await settleReal();
      expect(server.requests).toHaveLength(2);

      const results = await Promise.all(calls);
      expect(results.map((result) => result.object)).toEqual(['chat.completion', 'chat.completion', 'chat.completion']);
      expect(server.requests).toHaveLength(3);
      // The third request was only sent once one of the slow ones had been answered.
      expect(server.requests[2]!.receivedAt - server.requests[0]!.receivedAt).toBeGreaterThanOrEqual(190);
      expect(maxOpen).toBeLessThanOrEqual(2);
      expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
    } finally {
      clearInterval(sampler);
    }
  });

  it('maxQueued: a call beyond the queue is rejected at once with BulkheadFullError, without a request', async () => {
    const { server, ai } = await harness({ bulkhead: { maxConcurrent: 2, maxQueued: 1 } });
    server.enqueue(faults.stall(), faults.stall());
    const rejects: BulkheadRejectEvent[] = [];
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('bulkheadReject', (event) => rejects.push(event));
    ai.resilience.on('giveUp', (event) => giveUps.push(event));
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const outcomes = controllers.map((c) => rejectionOf(ai.chat.completions.create(chatParams, { signal: c.signal })));
    await until(() => server.requests.length === 2 && ai.resilience.load().queued === 1);

    const error = await rejectionOf(ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(BulkheadFullError);
    expect(isResilienceError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'BulkheadFullError', kind: 'bulkhead_full', maxConcurrent: 2, maxQueued: 1 });
    expect(classify(error)).toMatchObject({ kind: 'bulkhead_full', action: 'fail' });
    expect(rejects).toEqual([{ tenant: undefined, trafficClass: 'default', reason: 'queue_full', active: 2, queued: 1 }]);
    expect(giveUps).toHaveLength(1);
    expect(giveUps[0]).toMatchObject({ kind: 'bulkhead_full', attempt: 1, error });
    // The queue and the slots are as they were: the rejected call took nothing.
    expect(ai.resilience.load()).toEqual({ active: 2, queued: 1 });
    await settleReal();
    expect(server.requests).toHaveLength(2);

    for (const controller of controllers) controller.abort();
    for (const outcome of outcomes) expect(await outcome).toBeInstanceOf(OpenAI.APIUserAbortError);
    await until(() => server.openRequests === 0);
    expect(server.requests).toHaveLength(2);
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
  });

  it('queueTimeout: a queued call rejects with BulkheadTimeoutError when the wait runs out, without a request', async () => {
    const { server, clock, ai } = await harness({ bulkhead: { maxConcurrent: 1, queueTimeout: 5000 } });
    server.enqueue(faults.stall());
    const rejects: BulkheadRejectEvent[] = [];
    ai.resilience.on('bulkheadReject', (event) => rejects.push(event));
    const holder = new AbortController();
    const first = rejectionOf(ai.chat.completions.create(chatParams, { signal: holder.signal }));
    await until(() => server.requests.length === 1);
    const queued = rejectionOf(ai.chat.completions.create(chatParams));
    await clock.until((timers) => timers.some((timer) => timer.delay === 5000));
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 1 });

    await clock.advance(4999);
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 1 });
    expect(rejects).toEqual([]);
    await clock.advance(1);
    const error = await queued;
    expect(error).toBeInstanceOf(BulkheadTimeoutError);
    expect(isResilienceError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'BulkheadTimeoutError', kind: 'bulkhead_timeout', waited: 5000 });
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({ tenant: undefined, reason: 'queue_timeout', active: 1 });
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 0 });
    expect(server.requests).toHaveLength(1);

    holder.abort();
    expect(await first).toBeInstanceOf(OpenAI.APIUserAbortError);
    await settleReal();
    expect(server.requests).toHaveLength(1);
  });

  it('an aborted waiter leaves the queue at once and the next waiter gets the freed place', async () => {
    const { server, clock, ai } = await harness({ bulkhead: { maxConcurrent: 1 } });
    server.enqueue(faults.stall());
    const holder = new AbortController();
    const first = rejectionOf(ai.chat.completions.create(chatParams, { signal: holder.signal }));
    await until(() => server.requests.length === 1);
    const leaving = new AbortController();
    const second = rejectionOf(ai.chat.completions.create(chatParams, { signal: leaving.signal }));
    const staying = new AbortController();
    const third = ai.chat.completions.create(chatParams, { signal: staying.signal });
    await until(() => ai.resilience.load().queued === 2);

    leaving.abort();
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 1 });
    const error = await second;
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(isResilienceError(error)).toBe(false);

    holder.abort();
    expect(await first).toBeInstanceOf(OpenAI.APIUserAbortError);
    const completion = await third;
    expect(completion.object).toBe('chat.completion');
    // The aborted waiter never sent anything: the freed slot went to the third call.
    expect(server.requests).toHaveLength(2);
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
    // The waiter that was granted a slot left no listener on its signal and no queue timer behind.
    expect(getEventListeners(staying.signal, 'abort')).toHaveLength(0);
    expect(clock.pending()).toEqual([]);
  });

  it('timeout.total bounds the wait for a slot', async () => {
    const { server, clock, ai } = await harness({ bulkhead: { maxConcurrent: 1 }, timeout: { total: 10_000 } });
    // A stream handed over holds its slot while its upstream sends, and is no longer bound by timeout.total.
    server.enqueue(faults.stream({ chunks: 3, stallAfter: 1 }));
    const stream = await ai.chat.completions.create({ ...chatParams, stream: true });
    const queued = rejectionOf(ai.chat.completions.create(chatParams));
    await until(() => ai.resilience.load().queued === 1);

    await clock.advance(9_999);
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 1 });
    await clock.advance(1);
    const error = await queued;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ kind: 'deadline_exceeded', timeout: 10_000 });
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 0 });
    expect(server.requests).toHaveLength(1);

    let chunks = 0;
    for await (const _chunk of stream) if (++chunks === 2) break;
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
  });
});

describe('bulkhead: streams', () => {
  it('a stream holds its slot while its upstream sends, and gives it back once the upstream has finished, read or not', async () => {
    // Streams come from an upstream the test feeds; other requests go to the fault server.
    const upstream = fedStream({ chunks: 2 });
    const { ai } = await harness({ bulkhead: { maxConcurrent: 1 } }, { fetch: upstream.fetch });
    const stream = await ai.chat.completions.create({ ...chatParams, stream: true });
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 0 });
    const next = ai.chat.completions.create(chatParams);
    await until(() => ai.resilience.load().queued === 1);
    await settleReal();
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 1 });

    // The upstream sends the rest and [DONE]: the slot goes to the next call before the stream is read.
    upstream.finish();
    upstream.cut();
    expect((await next).object).toBe('chat.completion');
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello world');
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
  });

  it('breaking out of a stream releases its slot', async () => {
    const { server, ai } = await harness({ bulkhead: { maxConcurrent: 1 } });
    server.enqueue(faults.stream({ stallAfter: 1 }));
    const stream = await ai.chat.completions.create({ ...chatParams, stream: true });
    const next = ai.chat.completions.create(chatParams);
    await until(() => ai.resilience.load().queued === 1);

    for await (const _chunk of stream) break;
    expect((await next).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(2);
    await until(() => server.openRequests === 0);
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
  });

  it('aborting a stream that is being read releases its slot', async () => {
    const { server, ai } = await harness({ bulkhead: { maxConcurrent: 1 } });
    server.enqueue(faults.stream({ stallAfter: 1 }));
    const controller = new AbortController();
    const stream = await ai.chat.completions.create({ ...chatParams, stream: true }, { signal: controller.signal });
    const next = ai.chat.completions.create(chatParams);
    await until(() => ai.resilience.load().queued === 1);

    let chunks = 0;
    // The server stalls after the first content chunk; the SDK ends the loop quietly on an abort.
    const reading = (async () => {
      for await (const _chunk of stream) chunks++;
    })();
    await until(() => chunks === 2);
    await settleReal(5);
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 1 });
    controller.abort();
    await reading;
    expect((await next).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(2);
    await until(() => server.openRequests === 0);
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
  });

  // Regression: the slot used to stay taken until someone read the aborted stream.
  it('aborting a stream nobody reads releases its slot', async () => {
    const { server, ai } = await harness({ bulkhead: { maxConcurrent: 1 } });
    server.enqueue(faults.stream({ stallAfter: 1 }));
    const controller = new AbortController();
    await ai.chat.completions.create({ ...chatParams, stream: true }, { signal: controller.signal });
    const cleanup = new AbortController();
    let outcome: 'pending' | 'done' | 'failed' = 'pending';
    const next = ai.chat.completions.create(chatParams, { signal: cleanup.signal }).then(
      () => void (outcome = 'done'),
      () => void (outcome = 'failed'),
    );
    await until(() => ai.resilience.load().queued === 1);

    controller.abort();
    await until(() => server.openRequests === 0);
    // With the old bug, the next call waited for its queueTimeout (60 s by default, on the fake clock, which
    // nothing advances): it would never settle, and `until` would give up.
    await until(() => outcome !== 'pending');
    cleanup.abort();
    await next;
    expect(outcome).toBe('done');
    expect(server.requests).toHaveLength(2);
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
  });
});

describe('bulkhead: tenants', () => {
  it('forTenant views are cached, are OpenAI clients, and share the bulkhead', async () => {
    const { ai } = await harness({ bulkhead: { maxConcurrent: 3 } });
    const a = ai.resilience.forTenant('a');
    expect(ai.resilience.forTenant('a')).toBe(a);
    expect(a).toBeInstanceOf(OpenAI);
    expect(ai.resilience.forTenant('b')).not.toBe(a);
    expect(a).not.toBe(ai);
    expect(() => ai.resilience.forTenant('')).toThrow(TypeError);
  });

  it('maxConcurrentPerTenant queues a tenant at its cap while other tenants get free slots at once', async () => {
    const { server, ai } = await harness({ bulkhead: { maxConcurrent: 3, maxConcurrentPerTenant: 1, maxQueued: 1 } });
    const rejects: BulkheadRejectEvent[] = [];
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('bulkheadReject', (event) => rejects.push(event));
    ai.resilience.on('giveUp', (event) => giveUps.push(event));
    const a = ai.resilience.forTenant('a');
    const b = ai.resilience.forTenant('b');
    server.enqueue(faults.stall());

    const holder = new AbortController();
    const a1 = rejectionOf(a.chat.completions.create(chatParams, { signal: holder.signal }));
    await until(() => server.requests.length === 1);
    const a2 = a.chat.completions.create(chatParams);
    await until(() => ai.resilience.load().queued === 1);
    // Two of three global slots are free, but tenant "a" is at its cap.
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 1 });
    expect(a.resilience.load()).toEqual({ active: 1, queued: 1 });

    const b1 = await b.chat.completions.create(chatParams);
    expect(b1.object).toBe('chat.completion');
    expect(server.requests).toHaveLength(2);
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 1 });

    // The shared queue is full: a third call of "a" is shed, and the event names the tenant.
    const shed = await rejectionOf(a.chat.completions.create(chatParams));
    expect(shed).toBeInstanceOf(BulkheadFullError);
    expect(shed.message).toContain('tenant "a"');
    expect(rejects).toEqual([{ tenant: 'a', trafficClass: 'default', reason: 'queue_full', active: 1, queued: 1 }]);

    holder.abort();
    expect(await a1).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect((await a2).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(3);
    expect(giveUps.map((event) => [event.tenant, event.kind])).toEqual([
      ['a', 'bulkhead_full'],
      ['a', 'aborted'],
    ]);
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
  });
});
