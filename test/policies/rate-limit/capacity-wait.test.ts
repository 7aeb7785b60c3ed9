import { describe, expect, it } from 'vitest';
import { RateLimitTimeoutError, type RateLimitWaitEvent } from '../../../src/index.js';
import { EventBus } from '../../../src/events/event-bus.js';
import { abortableOf } from '../../../src/core/abort-scope.js';
import { fixedWaits, waitForCapacity, type CapacityWait, type Waits } from '../../../src/policies/rate-limit/capacity-wait.js';
import { WakeList } from '../../../src/policies/rate-limit/wake-list.js';
import { WaitingSeats } from '../../../src/policies/rate-limit/waiting-seats.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';

function setUp(maxQueued = 10) {
  const clock = new FakeClock(0);
  const events = new EventBus();
  const announced: RateLimitWaitEvent[] = [];
  events.on('rateLimitWait', (event) => announced.push(event));
  const queue = { seats: new WaitingSeats(), pausedUntil: 0 };
  let givenBack = 0;
  const wait = (waits: CapacityWait['waits'], extra: Partial<CapacityWait> = {}): Promise<boolean> =>
    waitForCapacity(
      queue,
      { model: 'm', tenant: undefined, waits, call: abortableOf(new AbortController().signal), deadlineAt: undefined, giveBack: () => givenBack++, ...extra },
      { clock, events, maxQueued },
    );
  return { clock, queue, announced, wait, givenBack: () => givenBack };
}

describe('waitForCapacity', () => {
  it('waits for the longest limit, announced with its reason, and counts itself in the queue meanwhile', async () => {
    const { clock, queue, announced, wait } = setUp();
    let done = false;
    const waiting = wait(fixedWaits(clock, { requests: 100, tokens: 300 })).then(() => (done = true));
    await clock.until((timers) => timers.length === 1);
    expect(queue.seats.size).toBe(1);
    expect(announced).toMatchObject([{ model: 'm', delay: 300, reason: 'tokens' }]);
    await clock.advance(299);
    expect(done).toBe(false);
    await clock.advance(1);
    await waiting;
    expect(queue.seats.size).toBe(0);
  });

  it('asks its waits again when it wakes, and follows what changed meanwhile (a pause set while it waited)', async () => {
    const { clock, queue, wait } = setUp();
    let done = false;
    const waits = (): Waits => ({ requests: Math.max(0, 100 - clock.now()), paused: Math.max(0, queue.pausedUntil - clock.now()) });
    const waiting = wait(waits).then(() => (done = true));
    await clock.until((timers) => timers.length === 1);
    queue.pausedUntil = 1_100;
    await clock.advance(100);
    expect(done).toBe(false);
    await clock.advance(1_000);
    await waiting;
    expect(clock.now()).toBe(1_100);
  });

  it('wakes early, in turn, when its wake list is notified and it may go', async () => {
    const { clock, wait } = setUp();
    const list = new WakeList();
    let open = false;
    const admitted: string[] = [];
    const waiter = (name: string, readyAt: number) => {
      const waits = () => ({ requests: open ? 0 : Math.max(0, readyAt - clock.now()) });
      const wakeups = { list, turn: list.nextTurn(), remaining: () => (open ? 0 : Math.max(0, readyAt - clock.now())) };
      return wait(waits, { wakeups }).then(() => admitted.push(name));
    };
    const both = Promise.all([waiter('first', 1_000), waiter('second', 2_000)]);
    await clock.until((timers) => timers.length === 2);
    list.notify(); // nothing came early: nobody moves
    await clock.advance(0);
    expect(admitted).toEqual([]);
    open = true;
    list.notify();
    await both;
    expect(admitted).toEqual(['first', 'second']);
    expect(clock.now()).toBe(0);
    expect(clock.pending()).toEqual([]);
    expect(list.size).toBe(0);
  });

  it('capacity that comes early but not enough for now shortens the sleep of the first in turn; the next follows when it leaves', async () => {
    const { clock, wait } = setUp();
    const list = new WakeList();
    const readyAt = [2_000, 3_000];
    const admittedAt: number[] = [];
    const waiter = (index: number) => {
      const waits = () => ({ requests: Math.max(0, readyAt[index]! - clock.now()) });
      const wakeups = { list, turn: list.nextTurn(), remaining: () => Math.max(0, readyAt[index]! - clock.now()) };
      return wait(waits, { wakeups }).then(() => admittedAt.push(clock.now()));
    };
    const both = Promise.all([waiter(0), waiter(1)]);
    await clock.until((timers) => timers.length === 2);
    // Both may go sooner now (a refill is due earlier): neither at once.
    readyAt[0] = 500;
    readyAt[1] = 700;
    list.notify();
    await clock.advance(0);
    expect(admittedAt).toEqual([]);
    await clock.advance(700);
    // Without the shortened sleeps: at 2 000 and 3 000.
    expect(admittedAt).toEqual([500, 700]);
    await clock.advance(3_000);
    await both;
  });

  it('refuses at once, giving the reservation back, when the queue is full or the deadline too near', async () => {
    const { clock, queue, wait, givenBack } = setUp(1);
    const seat = queue.seats.take(1);
    await expect(wait(fixedWaits(clock, { requests: 100 }))).rejects.toBeInstanceOf(RateLimitTimeoutError);
    queue.seats.leave(seat);
    await expect(wait(fixedWaits(clock, { requests: 100 }), { deadlineAt: 50 })).rejects.toMatchObject({ wait: 100 });
    expect(givenBack()).toBe(2);
    expect(queue.seats.size).toBe(0);
  });

  it('refuses, giving the reservation back, when a later look says the wait would pass the deadline', async () => {
    const { clock, queue, wait, givenBack } = setUp();
    const waits = (): Waits => ({ requests: Math.max(0, 100 - clock.now()), paused: Math.max(0, queue.pausedUntil - clock.now()) });
    const refusal = wait(waits, { deadlineAt: 500 }).then(() => undefined, (error: unknown) => error);
    await clock.until((timers) => timers.length === 1);
    queue.pausedUntil = 1_000;
    await clock.advance(100);
    expect(await refusal).toMatchObject({ name: 'RateLimitTimeoutError', wait: 900 });
    expect(givenBack()).toBe(1);
  });

  it('does not wait, announce or count itself when nothing holds it', async () => {
    const { queue, announced, wait } = setUp();
    expect(await wait(() => ({ requests: 0, tokens: 0 }))).toBe(false);
    expect([announced, queue.seats.size]).toEqual([[], 0]);
  });
});

describe('waitForCapacity: a call that looks at the shared state asynchronously', () => {
  it('looks again at once when capacity was announced while it looked (the notice is not lost)', async () => {
    const { clock, wait } = setUp();
    const list = new WakeList();
    const seen = list.notices;
    // The reservation said 10 s (a refill); its answers came back and were announced before the call
    // slept: the call asks the shared state again instead of sleeping 10 s.
    list.notify();
    const looks: number[] = [];
    const waits = async (): Promise<Waits> => {
      looks.push(clock.now());
      return looks.length === 1 ? { requests: 10_000 } : { requests: 0 };
    };
    const waiting = wait(waits, { wakeups: { list, turn: list.nextTurn(), remaining: undefined, seen } });
    expect(await waiting).toBe(true);
    expect(looks).toEqual([0, 0]);
  });

  it('sleeps when nothing was announced while it looked, and is woken by the next notice', async () => {
    const { clock, wait } = setUp();
    const list = new WakeList();
    const looks: number[] = [];
    const waits = async (): Promise<Waits> => {
      looks.push(clock.now());
      return looks.length === 1 ? { requests: 10_000 } : { requests: 0 };
    };
    const waiting = wait(waits, { wakeups: { list, turn: list.nextTurn(), remaining: undefined, seen: list.notices } });
    await clock.until((timers) => timers.length === 1);
    expect(looks).toEqual([0]);
    await clock.advance(2_000);
    list.notify();
    expect(await waiting).toBe(true);
    expect(looks).toEqual([0, 2_000]);
  });
});
