import { describe, expect, it } from 'vitest';
import { abortableOf } from '../../../src/core/abort-scope.js';
import type { TrafficClass } from '../../../src/core/traffic-class.js';
import { LoadShedError, RateLimitTimeoutError, type RateLimitRejectEvent, type RateLimitWaitEvent } from '../../../src/index.js';
import { EventBus } from '../../../src/events/event-bus.js';
import { RateLimiter, type RateLimitSettings } from '../../../src/policies/rate-limit/rate-limiter.js';
import type { Reservation } from '../../../src/policies/rate-limit/reservation.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { chatParams, harness, rejectionOf, until } from '../../support/harness.js';

/** One request a second (a bucket of one), nothing learned, at most `maxQueued` waiting calls; no reserved shares. */
function setUp(overrides: Partial<RateLimitSettings> = {}) {
  const clock = new FakeClock(0);
  const settings: RateLimitSettings = {
    defaults: { requestsPerMinute: 60 },
    models: {},
    learn: false,
    maxQueued: 3,
    tenantShare: 1,
    maxPause: 60_000,
    classes: { reservedShare: { interactive: 0, default: 0, background: 0 } },
    ...overrides,
  };
  const limiter = new RateLimiter(settings, clock, new EventBus());
  const served: string[] = [];
  const call = abortableOf(new AbortController().signal);
  /** Acquires for `name` in `trafficClass`; `served` records the order in which calls get capacity (or fail). */
  const acquire = (name: string, trafficClass: TrafficClass, tenant?: string) => {
    const reservation = limiter.acquire('m', () => 1, tenant, call, undefined, undefined, trafficClass);
    void reservation.then(
      () => served.push(name),
      (error: Error) => served.push(`${name} ${error.name}`),
    );
    return reservation;
  };
  const drain = async (seconds: number) => {
    for (let second = 0; second < seconds; second++) await clock.advance(1_000);
  };
  return { clock, limiter, served, acquire, drain };
}

describe('rate limiter: a full queue sheds lower classes first (rateLimit.maxQueued)', () => {
  it('a higher-class newcomer takes the seat of the newest waiter of the lowest class below it, which fails with LoadShedError', async () => {
    const { acquire, served, drain, clock } = setUp();
    const b0 = acquire('b0', 'background');
    const b1 = acquire('b1', 'background');
    const d0 = acquire('d0', 'default');
    const b2 = acquire('b2', 'background');
    await clock.until((timers) => timers.length === 3);
    // The queue is full (b1, d0, b2 wait): the newest background waiter gives way.
    const i0 = acquire('i0', 'interactive');
    const shed = await rejectionOf(b2);
    expect(shed).toBeInstanceOf(LoadShedError);
    expect(shed).toMatchObject({ kind: 'load_shed', queue: 'rateLimit', trafficClass: 'background', shedFor: 'interactive' });
    expect(shed.message).toContain("the rate limiter's full queue (`rateLimit.maxQueued`)");
    // Full again (b1, d0, i0): a default newcomer sheds b1, the last background waiter.
    const d1 = acquire('d1', 'default');
    expect(await rejectionOf(b1)).toMatchObject({ name: 'LoadShedError', trafficClass: 'background', shedFor: 'default' });
    // Full of its own class or higher (d0, i0, d1): the newcomer is refused, as without classes.
    expect(await rejectionOf(acquire('d2', 'default'))).toBeInstanceOf(RateLimitTimeoutError);
    await drain(3);
    await Promise.all([b0, d0, i0, d1]);
    expect(served).toEqual(['b0', 'b2 LoadShedError', 'b1 LoadShedError', 'd2 RateLimitTimeoutError', 'i0', 'd0', 'd1']);
  });

  it('the seat of a shed call is free at once: its reservation is given back, and the calls behind move up', async () => {
    const { acquire, served, drain, clock } = setUp({ maxQueued: 2 });
    const calls = [acquire('b0', 'background'), acquire('d0', 'default')];
    const b1 = acquire('b1', 'background');
    await clock.until((timers) => timers.length === 2);
    calls.push(acquire('i0', 'interactive'));
    await rejectionOf(b1);
    await drain(2);
    await Promise.all(calls);
    // Without b1's reservation given back, d0 would wait a second longer.
    expect(served).toEqual(['b0', 'b1 LoadShedError', 'i0', 'd0']);
    expect(clock.now()).toBe(2_000);
  });

  it("a call waiting for a probe's verdict gives way too", async () => {
    const { acquire, limiter, served, clock, drain } = setUp({ maxQueued: 2, learn: true, defaults: {} });
    // Limits unknown: the first call is sent alone, the others wait for its verdict.
    const probe = await acquire('b0', 'background');
    const b1 = acquire('b1', 'background');
    const b2 = acquire('b2', 'background');
    await clock.until((timers) => timers.length === 2);
    const i0 = acquire('i0', 'interactive');
    expect(await rejectionOf(b2)).toMatchObject({ name: 'LoadShedError', queue: 'rateLimit', trafficClass: 'background' });
    limiter.finish(probe as Reservation, true);
    await Promise.all([b1, i0]);
    await drain(1);
    expect(clock.pending()).toEqual([]);
    expect(served).toEqual(['b0', 'b2 LoadShedError', 'i0', 'b1']);
  });
});

const params = (content: string) => ({ ...chatParams, messages: [{ role: 'user' as const, content }] });

describe('rate limiter: shedding through the SDK', () => {
  it('a background call waiting in a full queue fails with LoadShedError when an interactive call arrives; nothing is sent for it', async () => {
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 60, learn: false, maxQueued: 2 } });
    let waiting = 0;
    ai.resilience.on('rateLimitWait', () => waiting++);
    const background = ai.resilience.forClass('background');
    const sent = background.chat.completions.create(params('background 0'));
    const first = background.chat.completions.create(params('background 1'));
    const newest = background.chat.completions.create(params('background 2'));
    await clock.until(() => waiting === 2);
    const interactive = ai.resilience.forClass('interactive').chat.completions.create(params('interactive'));
    const error = await rejectionOf(newest);
    expect(error).toBeInstanceOf(LoadShedError);
    expect(error).toMatchObject({ queue: 'rateLimit', trafficClass: 'background', shedFor: 'interactive' });
    await until(() => server.requests.length === 1);
    await clock.advance(1_000);
    await interactive;
    await clock.advance(1_000);
    await Promise.all([sent, first]);
    const order = server.requests.map((request) => (request.body as { messages: Array<{ content: string }> }).messages[0]!.content);
    expect(order).toEqual(['background 0', 'interactive', 'background 1']);
  });

  it('the rate limiter counts its queue per class in stats(), and says whom it turned away and why (rateLimitReject)', async () => {
    const { clock, ai } = await harness({ rateLimit: { requestsPerMinute: 60, learn: false, maxQueued: 1 } });
    const rejects: RateLimitRejectEvent[] = [];
    const waits: RateLimitWaitEvent[] = [];
    ai.resilience.on('rateLimitReject', (event) => rejects.push(event));
    ai.resilience.on('rateLimitWait', (event) => waits.push(event));
    const background = ai.resilience.forClass('background');
    const interactive = ai.resilience.forClass('interactive');
    const sent = background.chat.completions.create(params('background 0'));
    const shed = background.chat.completions.create(params('background 1'));
    // The first went at once; the second waits.
    await clock.until(() => waits.length === 1 && ai.resilience.stats().rateLimit.classes.background.granted === 1);
    expect(ai.resilience.stats().rateLimit.classes.background.queued).toBe(1);
    const first = interactive.chat.completions.create(params('interactive 0'));
    expect(await rejectionOf(shed)).toBeInstanceOf(LoadShedError);
    // The queue is full of an interactive call: another interactive call is refused (no lower class to shed).
    const refused = await rejectionOf(interactive.chat.completions.create(params('interactive 1')));
    expect(refused).toBeInstanceOf(RateLimitTimeoutError);
    await clock.advance(1_000);
    await Promise.all([sent, first]);

    expect(waits.map((event) => event.trafficClass)).toEqual(['background', 'interactive']);
    expect(rejects.map(({ trafficClass, reason }) => [trafficClass, reason])).toEqual([['background', 'shed'], ['interactive', 'queue_full']]);
    const { interactive: top, background: low } = ai.resilience.stats().rateLimit.classes;
    expect([low.granted, low.shed, low.rejected, low.queued]).toEqual([1, 1, 0, 0]);
    expect([top.granted, top.shed, top.rejected, top.queued]).toEqual([1, 0, 1, 0]);
    // The interactive call that got capacity waited one second for it; the background one went at once.
    expect(top.queueTime.max).toBeGreaterThanOrEqual(1_000);
    expect(low.queueTime.max).toBe(0);
  });
});
