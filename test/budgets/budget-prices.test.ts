import { describe, expect, it } from 'vitest';
import { microCost, priceOf, resolvedPrice, spendOf } from '../../src/budgets/budget-prices.js';

describe('budget prices', () => {
  const prices = {
    'gpt-4o': resolvedPrice({ input: 2.5, output: 10 }),
    'gpt-4o-mini': resolvedPrice({ input: 0.15, cachedInput: 0.075, output: 0.6 }),
  };

  it('match the exact name first, then the longest prefix', () => {
    expect(priceOf(prices, 'gpt-4o')).toBe(prices['gpt-4o']);
    expect(priceOf(prices, 'gpt-4o-2024-08-06')).toBe(prices['gpt-4o']);
    expect(priceOf(prices, 'gpt-4o-mini-2024-07-18')).toBe(prices['gpt-4o-mini']);
    expect(priceOf(prices, 'gpt-4')).toBeUndefined();
    expect(priceOf(prices, 'toString')).toBeUndefined();
  });

  it('cost whole millionths, rounded up after the floating-point noise', () => {
    expect(microCost(1_000, 2.5)).toBe(2_500);
    expect(microCost(100, 0.07)).toBe(7);
    expect(microCost(1, 0.15)).toBe(1);
    expect(microCost(0, 10)).toBe(0);
  });

  it('price cached input at `cachedInput` (default: the input price)', () => {
    // 1 000 input of which 400 cached, 100 output.
    expect(spendOf(prices['gpt-4o-mini']!, 1_000, 400, 100)).toBe(90 + 30 + 60);
    expect(spendOf(prices['gpt-4o']!, 1_000, 400, 100)).toBe(2_500 + 1_000);
  });
});
