import type { ModelPrice } from '../budgets/budget-options.js';

/** How `@pydantic/genai-prices` matches model names (only the rules kept here are read). */
type MatchLogic =
  | { readonly equals: string }
  | { readonly starts_with: string }
  | { readonly or: readonly MatchLogic[] }
  | Readonly<Record<string, unknown>>;

/** A price that grows past a prompt size (long context): `base` below the first tier. */
interface Tiered {
  readonly base: number;
}

type CatalogPrice = Readonly<Record<string, number | Tiered | undefined>>;

/** One model of a provider in the catalog (`@pydantic/genai-prices`' `ModelInfo`). */
export interface CatalogModel {
  readonly id: string;
  readonly match: MatchLogic;
  readonly prices: CatalogPrice | readonly { readonly constraint?: { readonly type: string; readonly start_date?: string } | null; readonly prices: CatalogPrice }[];
}

/**
 * Budget prices (per million tokens) from a price catalog's models, as of `at`: each model under every name
 * its `equals` rules give and every prefix its `starts_with` rules give (the budgets match the longest
 * prefix), with the catalog's input, cached-input (`cache_read_mtok`) and output prices. Of prices that
 * change on a date, the latest started by `at`; of prices tiered by prompt size, the base (the standard
 * rate: long prompts past the first tier cost more than this counts). A model without an input price is
 * left out, never priced at zero; one without an output price (embeddings) has output 0.
 */
export function pricesFromCatalog(models: readonly CatalogModel[], at: Date): Readonly<Record<string, ModelPrice>> {
  const prices: Record<string, ModelPrice> = {};
  for (const model of models) {
    const current = currentPrices(model.prices, at);
    const input = base(current?.['input_mtok']);
    if (current === undefined || input === undefined) continue;
    const cachedInput = base(current['cache_read_mtok']);
    const price: ModelPrice = { input, output: base(current['output_mtok']) ?? 0, ...(cachedInput === undefined ? {} : { cachedInput }) };
    for (const name of [model.id, ...names(model.match)]) prices[name] ??= price;
  }
  return Object.freeze(prices);
}

function currentPrices(prices: CatalogModel['prices'], at: Date): CatalogPrice | undefined {
  if (!Array.isArray(prices)) return prices as CatalogPrice;
  let current: CatalogPrice | undefined;
  for (const entry of prices as Extract<CatalogModel['prices'], readonly unknown[]>) {
    const constraint = entry.constraint;
    if (!constraint) current ??= entry.prices;
    else if (constraint.type === 'start_date' && constraint.start_date !== undefined && Date.parse(constraint.start_date) <= at.getTime()) current = entry.prices;
  }
  return current;
}

function base(value: number | Tiered | undefined): number | undefined {
  const amount = typeof value === 'number' ? value : value?.base;
  return typeof amount === 'number' && Number.isFinite(amount) && amount >= 0 ? amount : undefined;
}

/** The names (`equals`) and prefixes (`starts_with`) a match rule accepts; other rules are not followed. */
function names(match: MatchLogic): string[] {
  if ('equals' in match && typeof match.equals === 'string') return [match.equals];
  if ('starts_with' in match && typeof match.starts_with === 'string') return [match.starts_with];
  if ('or' in match && Array.isArray(match.or)) return (match.or as MatchLogic[]).flatMap(names);
  return [];
}
