import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../../src/testing/index.js';
import { CircuitOpenError, DeadlineExceededError, type ResilienceOptions } from '../../../src/index.js';
import { chatParams, harness, rejectionOf, until } from '../../support/harness.js';

// Calls that find their circuit open wait for its probe (circuitBreaker.waitForProbe) instead of failing at
// once. Time is the harness's fake clock: the circuit opens at `openedAt` and lets its probe through a
// second later; the tests move the clock to each probe themselves.

const PAUSE = 1_000;
const call = (ai: OpenAI, options?: OpenAI.RequestOptions, model = 'gpt-4.1-mini') => ai.chat.completions.create({ ...chatParams, model }, options);

/**
 * A `fetch` that counts the requests handed to it (as they are sent, before any socket) and, while
 * `hold()` is on, keeps each answer from the client until `release()` (or the request's abort, as a
 * request in flight): a probe stays in flight as long as a test needs.
 */
function gatedFetch() {
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  const gated = {
    sent: 0,
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      gated.sent++;
      const held = gate;
      const response = await fetch(input, init);
      const signal = init?.signal;
      await Promise.race([
        held,
        new Promise((_, reject) => {
          if (signal?.aborted) reject(signal.reason);
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      ]);
      return response;
    }) as typeof globalThis.fetch,
    hold: () => {
      gate = new Promise((resolve) => (open = resolve));
    },
    release: () => open(),
  };
  return gated;
}

/** A client whose circuit (3 failures in a row, 1 s pause, no retries) has just opened. */
async function opened(options: ResilienceOptions & { circuitBreaker?: object } = {}) {
  const gated = gatedFetch();
  const h = await harness(
    { retry: { maxRetries: 0 }, ...options, circuitBreaker: { consecutiveFailures: 3, halfOpenAfter: PAUSE, ...options.circuitBreaker } },
    { fetch: gated.fetch },
  );
  h.server.enqueue(faults.serverError(500), faults.serverError(500), faults.serverError(500));
  for (let i = 0; i < 3; i++) await rejectionOf(call(h.ai));
  expect(h.ai.resilience.circuits()['gpt-4.1-mini']).toBe('open');
  const openedAt = h.clock.now();
  /** Moves the clock to `at` once the calls waiting for the circuit have set their wake-up there. */
  const reach = async (at: number) => {
    await h.clock.until((timers) => timers.some((timer) => timer.at === at));
    await h.clock.advance(at - h.clock.now());
  };
  return { ...h, gated, openedAt, reach };
}

describe('calls waiting for an open circuit', () => {
  it("wait for its probe without a request; the first is the probe, and its success lets the others go", async () => {
    const { server, clock, ai, gated, openedAt, reach } = await opened();
    const transitions: string[] = [];
    ai.resilience.on('circuitHalfOpen', () => transitions.push('half-open'));
    ai.resilience.on('circuitClose', () => transitions.push('closed'));
    const calls = [call(ai), call(ai), call(ai), call(ai)];
    await clock.until((timers) => timers.some((timer) => timer.at === openedAt + PAUSE));
    expect(gated.sent).toBe(3);

    gated.hold();
    await reach(openedAt + PAUSE);
    await server.waitForRequests(4);
    // One probe in flight; the three others wait for its verdict, sending nothing.
    expect(gated.sent).toBe(4);
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('half_open');
    gated.release();
    const completions = await Promise.all(calls);
    expect(completions.map((completion) => completion.object)).toEqual(Array(4).fill('chat.completion'));
    expect(server.requests).toHaveLength(7);
    expect(transitions).toEqual(['half-open', 'closed']);
    // Nothing is left behind: no wake-up timer for a room nobody waits in.
    expect(clock.pending().filter((timer) => timer.at <= openedAt + 10 * PAUSE)).toEqual([]);
  });

  it('a failed probe keeps a call waiting while a probe is due within waitForProbe of its arrival, then fails it with the probe’s error as cause', async () => {
    const { server, ai, openedAt, reach } = await opened();
    const results = Promise.allSettled([call(ai), call(ai), call(ai)]);
    // 1 s: the first call is the probe and fails; the circuit reopens until 2 s, within the others' 2 s.
    server.enqueue(faults.serverError(502));
    await reach(openedAt + PAUSE);
    await until(() => server.requests.length === 4);
    // 2 s: the second call is the probe and fails; the next probe (3 s) is too late for the third.
    server.enqueue(faults.serverError(503));
    await reach(openedAt + 2 * PAUSE);
    const [first, second, third] = await results;
    expect((first as PromiseRejectedResult).reason).toBeInstanceOf(OpenAI.InternalServerError);
    expect((first as PromiseRejectedResult).reason.status).toBe(502);
    expect((second as PromiseRejectedResult).reason.status).toBe(503);
    const refused = (third as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(refused.retryAt).toBe(openedAt + 3 * PAUSE);
    expect(refused.cause).toBe((second as PromiseRejectedResult).reason);
    expect(server.requests).toHaveLength(5);
  });

  it('a probe due at or after the deadline is not waited for; a deadline that ends the wait ends the call', async () => {
    const { server, clock, ai, gated, openedAt, reach } = await opened({ timeout: { total: 1_500 } });
    // Due after 1 s, within 1.5 s: both wait. The first is the probe, held in flight past the deadline.
    const calls = Promise.allSettled([call(ai), call(ai)]);
    await clock.until((timers) => timers.some((timer) => timer.at === openedAt + PAUSE));
    gated.hold();
    await reach(openedAt + PAUSE);
    await server.waitForRequests(4);
    await clock.advance(500);
    const outcomes = await calls;
    for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(DeadlineExceededError);
    expect(gated.sent).toBe(4);
    gated.release();

    // A call whose deadline comes before the probe is due fails at once, without waiting.
    const late = await opened({ timeout: { total: 500 } });
    const refused = await rejectionOf(call(late.ai));
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(late.clock.now()).toBe(late.openedAt);
  });

  it("the caller's abort ends the wait at once and takes its wake-up timer with it", async () => {
    const { clock, ai, gated, openedAt } = await opened();
    const controller = new AbortController();
    const waiting = call(ai, { signal: controller.signal });
    await clock.until((timers) => timers.some((timer) => timer.at === openedAt + PAUSE));
    controller.abort();
    expect(await rejectionOf(waiting)).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(clock.pending().some((timer) => timer.at === openedAt + PAUSE)).toBe(false);
    expect(gated.sent).toBe(3);
  });

  it('at most maxQueued calls wait; more fail at once', async () => {
    const { server, clock, ai, openedAt, reach } = await opened({ circuitBreaker: { maxQueued: 2 } });
    const waiting = [call(ai), call(ai)];
    await clock.until((timers) => timers.some((timer) => timer.at === openedAt + PAUSE));
    const refused = await rejectionOf(call(ai));
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(refused.retryAt).toBe(openedAt + PAUSE);
    await reach(openedAt + PAUSE);
    expect((await Promise.all(waiting)).map((completion) => completion.object)).toEqual(['chat.completion', 'chat.completion']);
    expect(server.requests).toHaveLength(5);
  });

  it('a call that a fallback can serve does not wait: it goes there at once; the last step waits for its own circuit', async () => {
    const { server, clock, ai } = await harness({
      retry: { maxRetries: 0 },
      circuitBreaker: { consecutiveFailures: 3, halfOpenAfter: PAUSE },
      fallback: { models: { 'gpt-4.1-mini': ['gpt-4.1'] } },
    });
    const models = () => server.requests.map((request) => (request.body as { model: string }).model);
    // Three 500s open the primary's circuit; the fallback answers each of those calls.
    server.enqueueFor('/chat/completions', faults.serverError(500), faults.ok(), faults.serverError(500), faults.ok(), faults.serverError(500), faults.ok());
    for (let i = 0; i < 3; i++) expect((await call(ai)).model).toBe('gpt-4.1');
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('open');
    const openedAt = clock.now();
    expect((await call(ai)).model).toBe('gpt-4.1');
    expect(clock.now()).toBe(openedAt);
    expect(models().slice(6)).toEqual(['gpt-4.1']);

    // The fallback model's circuit opens too: the call leaves the primary at once and waits for gpt-4.1's probe.
    server.enqueue(faults.serverError(500), faults.serverError(500), faults.serverError(500));
    for (let i = 0; i < 3; i++) await rejectionOf(call(ai, undefined, 'gpt-4.1'));
    const fallbackOpenedAt = clock.now();
    const waiting = call(ai);
    await clock.until((timers) => timers.some((timer) => timer.at === fallbackOpenedAt + PAUSE));
    expect(server.requests).toHaveLength(10);
    await clock.advance(fallbackOpenedAt + PAUSE - clock.now());
    expect((await waiting).model).toBe('gpt-4.1');
    expect(models().slice(10)).toEqual(['gpt-4.1']);
  });

  it('a hedge never waits for the circuit (it would take a place in the queue for nothing)', async () => {
    const { server, clock, ai, gated, openedAt } = await opened({
      circuitBreaker: { maxQueued: 1 },
      hedge: { delay: 10, maxHedgedShare: 1 },
    });
    const hedges: number[] = [];
    ai.resilience.on('hedge', (event) => hedges.push(event.hedge));
    await clock.advance(openedAt + PAUSE - clock.now());
    // The probe is held in flight past the hedge delay: its hedge is refused by the half-open circuit.
    gated.hold();
    const probe = call(ai);
    await server.waitForRequests(4);
    await clock.until((timers) => timers.some((timer) => timer.delay === 10));
    await clock.advance(10);
    expect(hedges).toEqual([1]);
    // The only place in the queue is still free for a call.
    const waiting = call(ai);
    await until(() => gated.sent === 4);
    gated.release();
    expect((await probe).object).toBe('chat.completion');
    expect((await waiting).object).toBe('chat.completion');
    expect(gated.sent).toBe(5);
  });
});
