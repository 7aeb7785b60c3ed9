import { describe, expect, it } from 'vitest';
import { abortableOf } from '../../../src/core/abort-scope.js';
import type { TrafficClass } from '../../../src/core/traffic-class.js';
import { RateLimitTimeoutError } from '../../../src/errors/rate-limit-timeout-error.js';
import { EventBus } from '../../../src/events/event-bus.js';
import { RateLimiter, type RateLimitSettings } from '../../../src/policies/rate-limit/rate-limiter.js';
import { resolveRateLimit } from '../../../src/policies/rate-limit/resolve-rate-limit-options.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { rejectionOf } from '../../support/harness.js';

/** One request a second (a bucket of one), nothing learned; `background` reserved share as given. */
function setUp(background = 0, overrides: Partial<RateLimitSettings> = {}) {
  const clock = new FakeClock(0);
  const settings: RateLimitSettings = {
    defaults: { requestsPerMinute: 60 },
    models: {},
    learn: false,
    maxQueued: 100,
    tenantShare: 1,
    maxPause: 60_000,
    classes: { reservedShare: { interactive: 0, default: 0, background } },
    ...overrides,
  };
  const limiter = new RateLimiter(settings, clock, new EventBus());
  const served: string[] = [];
  const call = abortableOf(new AbortController().signal);
  /** Acquires for `name` in `trafficClass`; `served` records the order in which calls get capacity. */
  const acquire = (name: string, trafficClass: TrafficClass, deadlineAt?: number) => {
    const reservation = limiter.acquire('m', () => 1, undefined, call, deadlineAt, undefined, trafficClass);
    void reservation.then(() => served.push(name), () => served.push(`${name} refused at ${clock.now()}`));
    return reservation;
  };
  /** Lets every pending wait end, a second at a time. */
  const drain = async (seconds: number) => {
    for (let second = 0; second < seconds; second++) await clock.advance(1_000);
  };
  return { clock, limiter, served, acquire, drain };
}

describe('rate limiter: traffic classes', () => {
  it('an interactive call arriving after many background waiters gets the next capacity', async () => {
    const { acquire, served, drain, clock } = setUp();
    const background = Array.from({ length: 20 }, (_, index) => acquire(`b${index}`, 'background'));
    await clock.until((timers) => timers.length === 19);
    const interactive = acquire('i', 'interactive');
    await clock.advance(999);
    expect(served).toEqual(['b0']);
    await clock.advance(1);
    await interactive;
    expect(served).toEqual(['b0', 'i']);
    await drain(20);
    await Promise.all(background);
    expect(served).toEqual(['b0', 'i', ...Array.from({ length: 19 }, (_, index) => `b${index + 1}`)]);
  });

  it('serves interactive, then default, then background, each in arrival order', async () => {
    const { acquire, served, drain } = setUp();
    const calls = [acquire('b0', 'background'), acquire('b1', 'background'), acquire('d0', 'default'), acquire('i0', 'interactive')];
    calls.push(acquire('d1', 'default'), acquire('i1', 'interactive'), acquire('b2', 'background'));
    await drain(7);
    await Promise.all(calls);
    expect(served).toEqual(['b0', 'i0', 'i1', 'd0', 'd1', 'b1', 'b2']);
  });

  it('one class alone is served in arrival order, as before', async () => {
    const { acquire, served, drain } = setUp(0.5);
    const calls = ['a', 'b', 'c', 'd'].map((name) => acquire(name, 'background'));
    await drain(4);
    await Promise.all(calls);
    expect(served).toEqual(['a', 'b', 'c', 'd']);
  });

  describe('anti-starvation (reservedShare)', () => {
    it('with a share of 0.25, at most three interactive calls in a row go ahead of waiting background calls', async () => {
      const { acquire, served, drain } = setUp(0.25);
      const calls = [acquire('b0', 'background'), acquire('b1', 'background'), acquire('b2', 'background')];
      for (let index = 0; index < 8; index++) calls.push(acquire(`i${index}`, 'interactive'));
      await drain(11);
      await Promise.all(calls);
      expect(served).toEqual(['b0', 'i0', 'i1', 'i2', 'b1', 'i3', 'i4', 'i5', 'i6', 'i7', 'b2']);
    });

    it('counts again from zero once a background call got capacity', async () => {
      const { acquire, served, drain, clock } = setUp(0.5);
      const calls = [acquire('b0', 'background'), acquire('b1', 'background'), acquire('b2', 'background')];
      calls.push(acquire('i0', 'interactive'), acquire('i1', 'interactive'));
      await drain(3); // b0, i0, b1 (owed after one jump) got capacity
      expect(served).toEqual(['b0', 'i0', 'b1']);
      calls.push(acquire('i2', 'interactive'));
      await clock.advance(0);
      await drain(3);
      await Promise.all(calls);
      expect(served).toEqual(['b0', 'i0', 'b1', 'i1', 'i2', 'b2']);
    });

    it('with no share, background waits while interactive calls keep coming', async () => {
      const { acquire, served, drain } = setUp(0);
      const calls = [acquire('b0', 'background'), acquire('b1', 'background')];
      for (let index = 0; index < 5; index++) calls.push(acquire(`i${index}`, 'interactive'));
      await drain(7);
      await Promise.all(calls);
      expect(served).toEqual(['b0', 'i0', 'i1', 'i2', 'i3', 'i4', 'b1']);
    });
  });

  describe('deadlines', () => {
    it('a background call pushed past its deadline by an interactive one gives way at once', async () => {
      const { acquire, served, drain, clock } = setUp();
      const b0 = acquire('b0', 'background');
      const b1 = acquire('b1', 'background');
      const b2 = acquire('b2', 'background', 2_500); // due at 2 000: fits
      await clock.until((timers) => timers.length === 2);
      const interactive = acquire('i', 'interactive');
      // b2 would now go at 3 000, past its deadline: refused before the clock moves.
      const refusal = await rejectionOf(b2);
      expect(refusal).toBeInstanceOf(RateLimitTimeoutError);
      expect(refusal.wait).toBe(3_000);
      expect(served).toEqual(['b0', 'b2 refused at 0']);
      await drain(2);
      await Promise.all([b0, b1, interactive]);
      expect(served).toEqual(['b0', 'b2 refused at 0', 'i', 'b1']);
    });

    it('an interactive call that cannot meet its own deadline even first is refused, and pushes no one out', async () => {
      const { acquire, served, drain, clock } = setUp();
      const calls = [acquire('b0', 'background'), acquire('b1', 'background', 2_500), acquire('b2', 'background', 2_500)];
      await clock.until((timers) => timers.length === 2);
      const refusal = await rejectionOf(acquire('i', 'interactive', 500));
      expect(refusal).toBeInstanceOf(RateLimitTimeoutError);
      await drain(2);
      await Promise.all(calls);
      expect(served).toEqual(['b0', 'i refused at 0', 'b1', 'b2']);
    });
  });

  describe('rateLimit.classes (options)', () => {
    it('defaults to a reserved share of 0.1 for default and background', () => {
      expect(resolveRateLimit({}, 60_000)?.classes).toEqual({ reservedShare: { interactive: 0, default: 0.1, background: 0.1 } });
      expect(resolveRateLimit({ classes: { reservedShare: { background: 0.3 } } }, 60_000)?.classes).toEqual({
        reservedShare: { interactive: 0, default: 0.1, background: 0.3 },
      });
    });

    it('rejects a share outside 0 to 0.9, an unknown class and a non-object, naming the option', () => {
      const resolve = (classes: unknown) => () => resolveRateLimit({ classes }, 60_000);
      expect(resolve({ reservedShare: { background: 0.95 } })).toThrow(TypeError);
      expect(resolve({ reservedShare: { background: 0.95 } })).toThrow(/`rateLimit\.classes\.reservedShare\.background` must be a number from 0 to 0\.9/);
      expect(resolve({ reservedShare: { default: -0.1 } })).toThrow(/`rateLimit\.classes\.reservedShare\.default`/);
      expect(resolve({ reservedShare: { interactive: 0.1 } })).toThrow(/unknown option `rateLimit\.classes\.reservedShare\.interactive`/);
      expect(resolve({ share: 0.1 })).toThrow(/unknown option `rateLimit\.classes\.share`/);
      expect(resolve(0.1)).toThrow(/`rateLimit\.classes` must be an object/);
    });
  });
});
