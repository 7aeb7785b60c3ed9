import { describe, expect, it } from 'vitest';
import { abortableOf } from '../../../src/core/abort-scope.js';
import type { TrafficClass } from '../../../src/core/traffic-class.js';
import { EventBus } from '../../../src/events/event-bus.js';
import { RateLimiter, type RateLimitSettings } from '../../../src/policies/rate-limit/rate-limiter.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';

/** 120 requests a minute for the model; each tenant's share is half of it (one request a second). */
function setUp(background = 0) {
  const clock = new FakeClock(0);
  const settings: RateLimitSettings = {
    defaults: { requestsPerMinute: 120 },
    models: {},
    learn: false,
    maxQueued: 100,
    tenantShare: 0.5,
    maxPause: 60_000,
    classes: { reservedShare: { interactive: 0, default: 0, background } },
  };
  const limiter = new RateLimiter(settings, clock, new EventBus());
  const served: string[] = [];
  const call = abortableOf(new AbortController().signal);
  const acquire = (name: string, trafficClass: TrafficClass, deadlineAt?: number) => {
    const reservation = limiter.acquire('m', () => 1, 'acme', call, deadlineAt, undefined, trafficClass);
    void reservation.then(
      () => served.push(`${name}@${clock.now()}`),
      (error: Error) => served.push(`${name} ${error.name}@${clock.now()}`),
    );
    return reservation;
  };
  const drain = async (seconds: number) => {
    for (let second = 0; second < seconds; second++) await clock.advance(1_000);
  };
  return { clock, served, acquire, drain };
}

describe("rate limiter: a tenant's share (tenantShare) goes to its higher classes first", () => {
  it("a tenant's interactive call takes the next turn of its share, ahead of its waiting background calls", async () => {
    const { acquire, served, drain, clock } = setUp();
    const calls = [acquire('b0', 'background'), acquire('b1', 'background'), acquire('d0', 'default'), acquire('b2', 'background')];
    await calls[0];
    await clock.until((timers) => timers.length === 3);
    calls.push(acquire('i0', 'interactive'));
    await drain(4);
    await Promise.all(calls);
    expect(served).toEqual(['b0@0', 'i0@1000', 'd0@2000', 'b1@3000', 'b2@4000']);
  });

  it('keeps a lower class progressing with its reserved share', async () => {
    const { acquire, served, drain, clock } = setUp(0.5);
    const calls = [acquire('b0', 'background'), acquire('b1', 'background'), acquire('b2', 'background')];
    await calls[0];
    await clock.until((timers) => timers.length === 2);
    for (let index = 0; index < 3; index++) calls.push(acquire(`i${index}`, 'interactive'));
    await drain(5);
    await Promise.all(calls);
    // A share of 0.5: one interactive call goes ahead of the waiting background calls, then the first of
    // them keeps its turn (as in the model's line); without a share: i0, i1, i2, b1, b2.
    expect(served).toEqual(['b0@0', 'i0@1000', 'b1@2000', 'i1@3000', 'i2@4000', 'b2@5000']);
  });

  it('a background call moved back past its deadline is refused at its next look', async () => {
    const { acquire, served, drain, clock } = setUp();
    const calls = [acquire('b0', 'background')];
    const late = acquire('b1', 'background', 1_500);
    await calls[0];
    await clock.until((timers) => timers.length === 1);
    calls.push(acquire('i0', 'interactive'));
    await drain(2);
    await Promise.all(calls);
    await late.catch(() => undefined);
    expect(served).toEqual(['b0@0', 'b1 RateLimitTimeoutError@1000', 'i0@1000']);
    expect(clock.pending()).toEqual([]);
  });
});
