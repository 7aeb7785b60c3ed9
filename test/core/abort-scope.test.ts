import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortScope, abortableOf, sleep } from '../../src/core/abort-scope.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

describe('AbortScope', () => {
  it('knows it was aborted, and why, whether or not its signal was ever made', () => {
    const scope = new AbortScope(new FakeClock(0), []);
    scope.abort('first');
    scope.abort('second');
    expect([scope.aborted, scope.reason]).toEqual([true, 'first']);
    expect([scope.signal.aborted, scope.signal.reason]).toEqual([true, 'first']);
  });

  it('follows its parents, and lets go of them on dispose', () => {
    const parent = new AbortController();
    const scope = new AbortScope(new FakeClock(0), [parent.signal, undefined]);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    parent.abort('caller');
    expect([scope.aborted, scope.reason]).toEqual([true, 'caller']);

    const other = new AbortController();
    new AbortScope(new FakeClock(0), [other.signal]).dispose();
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
    expect(new AbortScope(new FakeClock(0), [AbortSignal.abort('already')]).reason).toBe('already');
  });

  it('follows a signal until it lets go of it: an abort after that does not reach it', () => {
    const scope = new AbortScope(new FakeClock(0), []);
    const policy = new AbortController();
    const unfollow = scope.follow(policy.signal);
    expect(getEventListeners(policy.signal, 'abort')).toHaveLength(1);
    unfollow();
    expect(getEventListeners(policy.signal, 'abort')).toHaveLength(0);
    policy.abort('returned');
    expect(scope.aborted).toBe(false);
    const followed = new AbortController();
    scope.follow(followed.signal);
    followed.abort('timed out');
    expect([scope.aborted, scope.reason]).toEqual([true, 'timed out']);
  });

  it('aborts after a delay on its clock, and not once its timers are cleared', async () => {
    const clock = new FakeClock(0);
    const timed = new AbortScope(clock, []);
    timed.abortAfter(100, () => 'late');
    const cleared = new AbortScope(clock, []);
    cleared.abortAfter(100, () => 'never');
    cleared.clearTimers();
    await clock.advance(100);
    expect([timed.aborted, timed.reason, cleared.aborted]).toEqual([true, 'late', false]);
    expect(clock.pending()).toEqual([]);
  });
});

describe('AbortScope.abortAfterOnDemand', () => {
  it('sets no timer until its signal is asked for, and then aborts at the same instant as abortAfter', async () => {
    const clock = new FakeClock(0);
    const scope = new AbortScope(clock, []);
    scope.abortAfterOnDemand(100, () => 'deadline');
    await clock.advance(40);
    expect(clock.pending()).toEqual([]);
    const { signal } = scope;
    expect(clock.pending().map((timer) => timer.at)).toEqual([100]);
    await clock.advance(59);
    expect(signal.aborted).toBe(false);
    await clock.advance(1);
    expect([scope.aborted, scope.reason, signal.reason]).toEqual([true, 'deadline', 'deadline']);
  });

  it('is armed at once when the signal exists, aborts at once when asked for after the deadline, and is dropped by clearTimers', async () => {
    const clock = new FakeClock(0);
    const signalled = new AbortScope(clock, []);
    void signalled.signal;
    signalled.abortAfterOnDemand(100, () => 'armed');
    expect(clock.pending()).toHaveLength(1);
    const late = new AbortScope(clock, []);
    late.abortAfterOnDemand(100, () => 'passed');
    await clock.advance(100);
    expect(signalled.reason).toBe('armed');
    expect(late.aborted).toBe(false);
    expect([late.signal.aborted, late.reason]).toEqual([true, 'passed']);
    const cleared = new AbortScope(clock, []);
    cleared.abortAfterOnDemand(100, () => 'never');
    cleared.clearTimers();
    void cleared.signal;
    await clock.advance(1_000);
    expect([cleared.aborted, clock.pending()]).toEqual([false, []]);
  });
});

describe('abortableOf and sleep', () => {
  it('reads a signal as an Abortable; a sleep ends early with the reason when it aborts', async () => {
    const controller = new AbortController();
    const abortable = abortableOf(controller.signal);
    expect(abortable.aborted).toBe(false);
    const clock = new FakeClock(0);
    const slept = sleep(clock, 1_000, abortable.signal);
    controller.abort('stop');
    await expect(slept).rejects.toBe('stop');
    expect([abortable.aborted, abortable.reason]).toEqual([true, 'stop']);
    expect(clock.pending()).toEqual([]);
  });
});
