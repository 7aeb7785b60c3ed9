import { describe, expect, it } from 'vitest';
import { RateLimitTimeoutError, type RateLimitWaitEvent } from '../../src/index.js';
import { EventBus } from '../../src/events/event-bus.js';
import { abortableOf } from '../../src/internal/abort-scope.js';
import { waitForCapacity, type CapacityWait } from '../../src/policies/rate-limit/capacity-wait.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

function setUp(maxQueued = 10) {
  const clock = new FakeClock(0);
  const events = new EventBus();
  const announced: RateLimitWaitEvent[] = [];
  events.on('rateLimitWait', (event) => announced.push(event));
  const queue = { waiting: 0, pausedUntil: 0, heldFor: 0 };
  let givenBack = 0;
  const wait = (waits: CapacityWait['waits'], followPause = true, deadlineAt?: number): Promise<void> =>
    waitForCapacity(
      queue,
      { model: 'm', tenant: undefined, waits, call: abortableOf(new AbortController().signal), deadlineAt, giveBack: () => givenBack++, followPause },
      { clock, events, maxQueued },
    );
  return { clock, queue, announced, wait, givenBack: () => givenBack };
}

describe('waitForCapacity', () => {
  it('waits for the longest limit, announced with its reason, and counts itself in the queue meanwhile', async () => {
    const { clock, queue, announced, wait } = setUp();
    let done = false;
    const waiting = wait({ requests: 100, tokens: 300 }).then(() => (done = true));
    expect(queue.waiting).toBe(1);
    expect(announced).toMatchObject([{ model: 'm', delay: 300, reason: 'tokens' }]);
    await clock.advance(299);
    expect(done).toBe(false);
    await clock.advance(1);
    await waiting;
    expect(queue.waiting).toBe(0);
  });

  it('follows a pause set while it waits, by the refill time the pause took away', async () => {
    const { clock, queue, wait } = setUp();
    let done = false;
    const waiting = wait({ requests: 100 }).then(() => (done = true));
    queue.pausedUntil = 1_050;
    queue.heldFor = 1_000;
    await clock.advance(100);
    expect(done).toBe(false);
    await clock.advance(1_000);
    await waiting;
    expect(clock.now()).toBe(1_100);
  });

  it('refuses at once, giving the reservation back, when the queue is full or the deadline too near', async () => {
    const { queue, wait, givenBack } = setUp(1);
    queue.waiting = 1;
    await expect(wait({ requests: 100 })).rejects.toBeInstanceOf(RateLimitTimeoutError);
    queue.waiting = 0;
    await expect(wait({ requests: 100 }, true, 50)).rejects.toMatchObject({ wait: 100 });
    expect(givenBack()).toBe(2);
    expect(queue.waiting).toBe(0);
  });

  it('does not wait, announce or count itself when nothing holds it', async () => {
    const { queue, announced, wait } = setUp();
    await wait({ requests: 0, tokens: 0 });
    expect([announced, queue.waiting]).toEqual([[], 0]);
  });
});
