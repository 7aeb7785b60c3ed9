import type { ModelPrice } from './budget-options.js';

/** A model's price after validation: `cachedInput` filled in. */
export interface ResolvedPrice {
  readonly input: number;
  readonly cachedInput: number;
  readonly output: number;
}

/**
 * The price of `model`: its exact name first, then the longest name in `prices` that it starts with (so
 * `gpt-4o` prices `gpt-4o-2024-08-06`, and `gpt-4o-mini` wins over `gpt-4o` for `gpt-4o-mini-2024-07-18`).
 */
export function priceOf(prices: Readonly<Record<string, ResolvedPrice>>, model: string): ResolvedPrice | undefined {
  const exact = Object.hasOwn(prices, model) ? prices[model] : undefined;
  if (exact) return exact;
  let best: string | undefined;
  for (const name of Object.keys(prices)) {
    if (model.startsWith(name) && (best === undefined || name.length > best.length)) best = name;
  }
  return best === undefined ? undefined : prices[best];
}

/** Fills in a validated price's defaults. */
export function resolvedPrice(price: ModelPrice): ResolvedPrice {
  return { input: price.input, cachedInput: price.cachedInput ?? price.input, output: price.output };
}

/** Millionths of the currency per unit: a price per million tokens times tokens is a count of them. */
export const MICROS = 1_000_000;

/**
 * What `tokens` cost at `pricePerMillion`, in millionths of the currency, rounded up (after rounding away
 * the floating-point noise of the product: 100 tokens at 0.07 are 7, not 8).
 */
export function microCost(tokens: number, pricePerMillion: number): number {
  const exact = tokens * pricePerMillion;
  return Math.ceil(Math.round(exact * 1e6) / 1e6);
}

/** A call's spend in millionths: its uncached input, cached input and output at the model's prices. */
export function spendOf(price: ResolvedPrice, input: number, cached: number, output: number): number {
  const cachedTokens = Math.min(Math.max(0, cached), input);
  return microCost(input - cachedTokens, price.input) + microCost(cachedTokens, price.cachedInput) + microCost(output, price.output);
}
