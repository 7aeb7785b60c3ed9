import { describe, expect, it } from 'vitest';
import { withinTime } from '../../src/core/within-time.js';
import { FakeClock } from '../../src/testing/index.js';

describe('withinTime', () => {
  it('gives the answer that comes in time, and releases its timer', async () => {
    const clock = new FakeClock(0);
    expect(await withinTime(clock, 100, Promise.resolve('answer'), () => new Error('late'))).toBe('answer');
    expect(clock.pending()).toEqual([]);
  });

  it('rejects with timedOut() once ms have passed', async () => {
    const clock = new FakeClock(0);
    const call = expect(withinTime(clock, 100, new Promise(() => undefined), () => new Error('late'))).rejects.toThrow('late');
    await clock.advance(100);
    await call;
    expect(clock.pending()).toEqual([]);
  });

  it('lets an answer that arrived as the time ran out win', async () => {
    const clock = new FakeClock(0);
    let answer!: (value: string) => void;
    const call = withinTime(clock, 100, new Promise<string>((resolve) => (answer = resolve)), () => new Error('late'));
    // Both due in the same turn: the timer fires first, then the answer is delivered.
    clock.setTimeout(() => answer('answer'), 100);
    await clock.advance(100);
    expect(await call).toBe('answer');
  });
});
