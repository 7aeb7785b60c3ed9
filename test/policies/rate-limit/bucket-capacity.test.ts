import { describe, expect, it } from 'vitest';
import { BURST_SECONDS, FINE_MARGIN, bucketCapacity, fineCapacity, fineRate } from '../../../src/policies/rate-limit/bucket-capacity.js';

describe('bucketCapacity (before the server says what is left)', () => {
  it("holds one second's requests, as OpenAI may enforce a requests limit per second", () => {
    expect(BURST_SECONDS.requests).toBe(1);
    expect(bucketCapacity('requests', 600)).toBe(10);
  });

  it("holds a whole minute's tokens, as OpenAI's x-ratelimit-remaining-tokens counts down from the full limit", () => {
    expect(BURST_SECONDS.tokens).toBe(60);
    expect(bucketCapacity('tokens', 30_000)).toBe(30_000);
  });

  it('holds at least one', () => {
    expect(bucketCapacity('requests', 6)).toBe(1);
    expect(bucketCapacity('tokens', 0.5)).toBe(1);
  });
});

describe('fine pacing', () => {
  it("one second's worth at the limit until a 429 despite headroom; then 5% below it, in half the burst each time", () => {
    expect(FINE_MARGIN).toBe(0.05);
    expect([0, 1, 2, 3].map((refinements) => fineCapacity(600, refinements))).toEqual([10, 9.5, 4.75, 2.375]);
    expect([0, 1, 2].map((refinements) => fineRate(60_000, refinements))).toEqual([1, 0.95, 0.9025]);
    // At least one request at once.
    expect(fineCapacity(60, 1)).toBe(1);
  });
});
