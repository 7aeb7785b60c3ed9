/**
 * `openai-resilient/prices`: default prices for the budgets' spend limits, from `@pydantic/genai-prices`
 * (an optional peer: a maintained catalog of LLM prices, MIT), for OpenAI's models. Needs
 * `@pydantic/genai-prices` installed.
 *
 * @example
 * ```ts
 * import { openaiPrices } from 'openai-resilient/prices';
 * const ai = resilient(new OpenAI(), {
 *   budgets: { limits: [{ spend: 50, window: 'month' }], prices: { ...openaiPrices, 'my-fine-tune': { input: 3, output: 12 } } },
 * });
 * ```
 *
 * @module
 */
import { findProvider } from '@pydantic/genai-prices';
import type { ModelPrice } from '../budgets/budget-options.js';
import { pricesFromCatalog, type CatalogModel } from './prices-from-catalog.js';

export type { ModelPrice };

/**
 * OpenAI's prices per million tokens (input, cached input, output) in US dollars, per model name and
 * dated variant, as the installed `@pydantic/genai-prices` has them today. Long-context surcharges are
 * not included (the standard rate); models it does not price are absent. As current as the installed
 * package: update it, or override entries, when OpenAI's pricing page changes.
 */
export const openaiPrices: Readonly<Record<string, ModelPrice>> = openaiPricesAt(new Date());

/** {@link openaiPrices} as of `at` (prices that change on a date: the latest started by then). */
export function openaiPricesAt(at: Date): Readonly<Record<string, ModelPrice>> {
  const models = (findProvider({ providerId: 'openai' })?.models ?? []) as unknown as readonly CatalogModel[];
  return pricesFromCatalog(models, at);
}
