import { describe, expect, it } from 'vitest';
import { Hedger } from '../../../src/policies/hedge/hedger.js';
import { FakeClock } from '../../../src/testing/index.js';

const settings = { delay: { percentile: 95 }, maxExtraAttempts: 1, maxHedgedShare: 0.1, minSamples: 20 } as const;

describe('Hedger', () => {
  it('learns the delay per model once it has minSamples answers', () => {
    const hedger = new Hedger(settings, new FakeClock(0));
    for (let i = 0; i < 19; i++) hedger.observe('a', 100);
    expect(hedger.delayFor('a')).toBeUndefined();
    hedger.observe('a', 100);
    expect(hedger.delayFor('a')).toBeGreaterThanOrEqual(100);
    expect(hedger.delayFor('a')).toBeLessThanOrEqual(105);
    expect(hedger.delayFor('b')).toBeUndefined();
  });

  it('follows a change in latency within two generations of answers', () => {
    const hedger = new Hedger(settings, new FakeClock(0));
    for (let i = 0; i < 1_000; i++) hedger.observe('a', 1_000);
    expect(hedger.delayFor('a')).toBeGreaterThanOrEqual(1_000);
    for (let i = 0; i < 2_001; i++) hedger.observe('a', 50);
    expect(hedger.delayFor('a')).toBeLessThanOrEqual(53);
  });

  it('a fixed delay needs no samples', () => {
    expect(new Hedger({ ...settings, delay: 250 }, new FakeClock(0)).delayFor('a')).toBe(250);
  });

  it('allows maxHedgedShare of the calls of the last minute to be hedged', async () => {
    const clock = new FakeClock(0);
    const hedger = new Hedger(settings, clock);
    for (let i = 0; i < 20; i++) hedger.recordCall();
    expect([hedger.tryHedge(), hedger.tryHedge(), hedger.tryHedge()]).toEqual([true, true, false]);
    await clock.advance(61_000);
    for (let i = 0; i < 10; i++) hedger.recordCall();
    expect([hedger.tryHedge(), hedger.tryHedge()]).toEqual([true, false]);
  });
});
