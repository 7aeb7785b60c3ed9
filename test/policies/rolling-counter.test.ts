import { describe, expect, it } from 'vitest';
import { RollingCounter } from '../../src/policies/rolling-counter.js';

describe('RollingCounter', () => {
  // A 1 s window in 10 slots of 100 ms.
  const counter = () => new RollingCounter(1_000, 10);

  it('sums what was added within the window', () => {
    const c = counter();
    c.add(0);
    c.add(50);
    c.add(150, 3);
    expect(c.total(150)).toBe(5);
    expect(c.total(999)).toBe(5);
  });

  it('slides: slots fall out of the window as time moves', () => {
    const c = counter();
    c.add(0, 2);
    c.add(150);
    c.add(950, 4);
    expect(c.total(999)).toBe(7);
    // At 1000 the slot [0, 100) is a whole window old.
    expect(c.total(1_000)).toBe(5);
    expect(c.total(1_100)).toBe(4);
    // The slot [900, 1000) counts until it is a whole window old.
    expect(c.total(1_899)).toBe(4);
    expect(c.total(1_900)).toBe(0);
  });

  it('drops the stale count of a slot reused after a full turn', () => {
    const c = counter();
    c.add(0, 5);
    // 1000 ms later the same slot index comes round again: it starts from zero.
    c.add(1_000);
    expect(c.total(1_000)).toBe(1);
    // Also after a long idle period that lands on the same index.
    c.add(10_000);
    expect(c.total(10_000)).toBe(1);
  });

  it('forgets everything after an idle period longer than the window', () => {
    const c = counter();
    for (let t = 0; t < 1_000; t += 100) c.add(t, 10);
    expect(c.total(999)).toBe(100);
    expect(c.total(5_050)).toBe(0);
    c.add(5_050);
    expect(c.total(5_050)).toBe(1);
    expect(c.total(5_999)).toBe(1);
  });

  it('keeps memory bounded: only `slots` slots, reused as time moves', () => {
    const c = counter();
    for (let t = 0; t < 100_000; t += 10) c.add(t);
    // The last ten slots, [99_000, 100_000), hold 10 adds each; everything older was dropped.
    expect(c.total(99_990)).toBe(100);
  });

  it('reset clears every slot', () => {
    const c = counter();
    c.add(0, 3);
    c.add(500, 2);
    c.reset();
    expect(c.total(500)).toBe(0);
    c.add(600);
    expect(c.total(600)).toBe(1);
  });

  it('copes with windows that do not divide into whole milliseconds', () => {
    const c = new RollingCounter(1_000, 3);
    c.add(0);
    c.add(400);
    c.add(700);
    expect(c.total(700)).toBe(3);
    expect(c.total(1_100)).toBe(2);
  });
});
