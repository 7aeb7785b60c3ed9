import { describe, expect, it } from 'vitest';
import { abortableOf } from '../../../src/core/abort-scope.js';
import type { TrafficClass } from '../../../src/core/traffic-class.js';
import { EventBus } from '../../../src/events/event-bus.js';
import { RateLimiter } from '../../../src/policies/rate-limit/rate-limiter.js';
import type { Reservation } from '../../../src/policies/rate-limit/reservation.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';

/** A model whose limits are not known yet: its calls go one at a time until one teaches them. */
function setUp() {
  const clock = new FakeClock(0);
  const settings = { defaults: {}, models: {}, learn: true, maxQueued: 100, tenantShare: 1, maxPause: 60_000 };
  const limiter = new RateLimiter(settings, clock, new EventBus());
  const served: string[] = [];
  const call = abortableOf(new AbortController().signal);
  const acquire = (name: string, trafficClass: TrafficClass) => {
    const reservation = limiter.acquire('m', () => 1, undefined, call, undefined, undefined, trafficClass);
    void reservation.then(() => served.push(`${name}@${clock.now()}`), (error: Error) => served.push(`${name} ${error.name}`));
    return reservation;
  };
  return { clock, limiter, served, acquire };
}

describe('rate limiter: the learning probe', () => {
  it("when the first call's verdict comes, the waiting calls go on highest class first", async () => {
    const { acquire, limiter, served, clock } = setUp();
    const probe = (await acquire('b0', 'background')) as Reservation;
    const waiting = [acquire('b1', 'background'), acquire('d0', 'default'), acquire('b2', 'background'), acquire('i0', 'interactive')];
    await clock.until((timers) => timers.length === 4);
    limiter.finish(probe, true);
    await Promise.all(waiting);
    expect(served).toEqual(['b0@0', 'i0@0', 'd0@0', 'b1@0', 'b2@0']);
  });
});

describe('rate limiter: the probe after a pause goes to the highest class waiting', () => {
  it('when the pause ends, the interactive call that came last is the probe; the background call waits for its verdict', async () => {
    const { clock, limiter, served, acquire } = setUp();
    const first = (await acquire('p', 'default')) as Reservation;
    // Its 429 pauses the model for 2 s, and its verdict is given: the next call after the pause goes alone.
    limiter.pause('m', 2_000);
    limiter.finish(first, false);
    const background = acquire('b0', 'background');
    await clock.until((timers) => timers.length === 1);
    const interactive = acquire('i0', 'interactive');
    await clock.until((timers) => timers.length === 2);
    await clock.advance(2_000);
    const probe = (await interactive) as Reservation;
    expect(probe.probe).toBe(true);
    expect(served).toEqual(['p@0', 'i0@2000']);
    limiter.finish(probe, true);
    await background;
    expect(served).toEqual(['p@0', 'i0@2000', 'b0@2000']);
    expect(clock.pending()).toEqual([]);
  });
});
