import type { ModelPrice } from '../budgets/budget-options.js';

/** A model's data as `gpt-tokenizer/models` has it (only what the prices need). */
interface ModelData {
  readonly price_data?: { readonly main?: { readonly input?: number; readonly cached_input?: number; readonly output?: number } };
}

/**
 * Prices per million tokens, per model name, from `gpt-tokenizer`'s model data (`price_data.main`: the
 * standard tier's input, cached input and output). A model without both an input and an output price is
 * left out, never priced at zero.
 */
export function pricesFrom(models: Readonly<Record<string, unknown>>): Readonly<Record<string, ModelPrice>> {
  const prices: Record<string, ModelPrice> = {};
  for (const [name, data] of Object.entries(models)) {
    const main = (data as ModelData | undefined)?.price_data?.main;
    if (typeof main?.input !== 'number' || typeof main.output !== 'number') continue;
    prices[name] = {
      input: main.input,
      output: main.output,
      ...(typeof main.cached_input === 'number' ? { cachedInput: main.cached_input } : {}),
    };
  }
  return Object.freeze(prices);
}
