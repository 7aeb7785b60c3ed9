import { describe, expect, it } from 'vitest';
import { BURST_SECONDS, bucketCapacity } from '../../src/policies/rate-limit/bucket-capacity.js';

describe('bucketCapacity', () => {
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
