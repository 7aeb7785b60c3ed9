import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resilient } from '../../src/index.js';
import { MAX_TIMER_DELAY } from '../../src/core/clock.js';
import { SignalledAttempt, TimedAttempt } from '../../src/pipeline/attempt-abort.js';
import { faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { chatParams, rejectionOf, until } from '../support/harness.js';

// How timed attempts behave end to end (their timeouts, the deadline, the timeout header) is in
// test/smoke/timed-attempts.test.ts, which runs against every SDK major. Here: that openai 7, which composes a
// request's signal with AbortSignal.any, is given none; and the two ways of bounding an attempt, on a fake clock.

const servers: FaultServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('a call only time can abort (no caller signal, no cockatiel policy, the system clock)', () => {
  it('is sent without a signal: the SDK never composes one with AbortSignal.any', async () => {
    const server = await startFaultServer();
    servers.push(server);
    const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url }));
    const any = vi.spyOn(AbortSignal, 'any');
    server.enqueue(faults.ok());
    await ai.chat.completions.create(chatParams);
    expect(any).not.toHaveBeenCalled();

    server.enqueue(faults.ok());
    await ai.chat.completions.create(chatParams, { signal: new AbortController().signal });
    expect(any).toHaveBeenCalled();
  });

  it('makes no AbortController of its own: only the SDK\'s, as many as a bare call makes', async () => {
    const server = await startFaultServer();
    servers.push(server);
    const bare = new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0 });
    const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url }));
    let made = 0;
    vi.stubGlobal('AbortController', class extends AbortController {
      constructor() {
        super();
        made++;
      }
    });
    const madeBy = async (call: () => Promise<unknown>) => {
      made = 0;
      server.enqueue(faults.ok());
      await call();
      return made;
    };
    try {
      const byBare = await madeBy(() => bare.chat.completions.create(chatParams));
      expect(byBare).toBeGreaterThan(0);
      expect(await madeBy(() => ai.chat.completions.create(chatParams))).toBe(byBare);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('with a fake clock, is sent with a signal that the fake clock aborts', async () => {
    const server = await startFaultServer();
    servers.push(server);
    const clock = new FakeClock(0);
    const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url }), { clock, retry: false, timeout: { attempt: 5_000 } });
    const any = vi.spyOn(AbortSignal, 'any');
    server.enqueue(faults.stall());
    const outcome = rejectionOf(ai.chat.completions.create(chatParams));
    await until(() => server.requests.length === 1);
    await clock.advance(5_000);
    expect(await outcome).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(any).toHaveBeenCalled();
  });
});

describe('TimedAttempt', () => {
  it('sends the limit as the SDK timeout, rounded up, unless it is the client\'s own', () => {
    const clock = new FakeClock(0);
    const attempts = [
      new TimedAttempt(clock, 1_500.2, () => 'timeout', () => undefined, 600_000),
      new TimedAttempt(clock, 600_000, () => 'timeout', () => undefined, 600_000),
      new TimedAttempt(clock, -5, () => 'timeout', () => undefined, 600_000),
      new TimedAttempt(clock, undefined, () => 'timeout', () => undefined, 600_000),
    ];
    expect(attempts.map((attempt) => attempt.sdkTimeout)).toEqual([1_501, undefined, 1, MAX_TIMER_DELAY]);
    expect(attempts.map((attempt) => attempt.signal)).toEqual([undefined, undefined, undefined, undefined]);
    for (const attempt of attempts) attempt.dispose();
    expect(clock.pending()).toEqual([]);
  });

  it('at its limit, says so and aborts the request controller, even one that answers after it', async () => {
    const clock = new FakeClock(0);
    let expiredCalls = 0;
    const before = new TimedAttempt(clock, 100, () => 'limit', () => expiredCalls++, 600_000);
    const controller = new AbortController();
    before.answered(controller);
    const after = new TimedAttempt(clock, 100, () => 'limit', () => expiredCalls++, 600_000);
    await clock.advance(100);
    expect([before.expired, controller.signal.aborted, controller.signal.reason]).toEqual([true, true, 'limit']);
    const late = new AbortController();
    after.answered(late);
    expect([after.expired, late.signal.aborted, expiredCalls]).toEqual([true, true, 2]);
  });

  it('does nothing once disposed', async () => {
    const clock = new FakeClock(0);
    const attempt = new TimedAttempt(clock, 100, () => 'limit', () => expect.fail('expired after dispose'), 600_000);
    const controller = new AbortController();
    attempt.answered(controller);
    attempt.dispose();
    await clock.advance(1_000);
    expect([attempt.expired, controller.signal.aborted]).toEqual([false, false]);
  });
});

describe('SignalledAttempt', () => {
  it('keeps the SDK timer out of the way: the client\'s own when it is no sooner than the limit, else the longest', () => {
    const clock = new FakeClock(0);
    const parent = new AbortController().signal;
    const timeouts = [
      new SignalledAttempt(clock, parent, 5_000, () => 'timeout', 600_000),
      new SignalledAttempt(clock, parent, 600_000, () => 'timeout', 600_000),
      new SignalledAttempt(clock, parent, 700_000, () => 'timeout', 600_000),
      new SignalledAttempt(clock, parent, undefined, () => 'timeout', 600_000),
    ].map((attempt) => {
      attempt.dispose();
      return attempt.sdkTimeout;
    });
    expect(timeouts).toEqual([undefined, undefined, MAX_TIMER_DELAY, MAX_TIMER_DELAY]);
  });

  it('expires on its own timer, but an abort of the call is not its own expiry', async () => {
    const clock = new FakeClock(0);
    const own = new SignalledAttempt(clock, new AbortController().signal, 100, () => 'limit', 600_000);
    const call = new AbortController();
    const aborted = new SignalledAttempt(clock, call.signal, 100, () => 'limit', 600_000);
    call.abort('caller');
    await clock.advance(100);
    expect([own.expired, own.signal.reason]).toEqual([true, 'limit']);
    expect([aborted.expired, aborted.signal.aborted, aborted.signal.reason]).toEqual([false, true, 'caller']);
  });
});
