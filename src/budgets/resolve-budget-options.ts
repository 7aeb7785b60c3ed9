import { fail, isPlainObject, numberOption, objectWithKeys, shareOption } from '../core/validate.js';
import { LIMITS } from '../core/option-limits.js';
import type { LedgerWindow } from './budget-ledger.js';
import type { BudgetWindow } from './budget-options.js';
import { MICROS, priceOf, resolvedPrice, type ResolvedPrice } from './budget-prices.js';
import { resolveWindow, windowLabel } from './budget-window.js';

/** One limit after validation; `amount` and `tenants` in the ledger's units (tokens, or millionths of the currency). */
export interface ResolvedLimit {
  readonly name: string;
  readonly per: 'tenant' | 'client';
  readonly metric: 'tokens' | 'spend';
  /** The limit, in whole units. */
  readonly amount: number;
  readonly window: LedgerWindow;
  /** The models it counts; `undefined` for every model. */
  readonly models: ReadonlySet<string> | undefined;
  /** Per tenant, another limit (whole units). */
  readonly tenants: ReadonlyMap<string, number>;
}

/** `budgets` after validation and defaults. */
export interface BudgetSettings {
  readonly limits: readonly ResolvedLimit[];
  readonly prices: Readonly<Record<string, ResolvedPrice>>;
  /** Ascending, each in (0, 1]. */
  readonly thresholds: readonly number[];
  readonly assumedOutputTokens: number;
  readonly outageShare: number;
  /** Whether a limit counts spend (every model it counts then needs a price). */
  readonly spends: boolean;
}

const LIMIT_KEYS = ['name', 'per', 'tokens', 'spend', 'window', 'models', 'tenants'] as const;
/** The largest spend limit: a trillion in the currency (in millionths, still an exact integer). */
const MAX_SPEND = 1_000_000_000;

/** `budgets`: validated (a `TypeError` naming the option for anything wrong) and resolved; `undefined` when absent. */
export function resolveBudgets(value: unknown): BudgetSettings | undefined {
  if (value === undefined) return undefined;
  const o = objectWithKeys('budgets', value, ['limits', 'prices', 'thresholds', 'assumedOutputTokens', 'outageShare'])!;
  const list = o['limits'];
  if (!Array.isArray(list) || list.length === 0) fail('budgets.limits', 'a non-empty array of limits', list);
  const prices = resolvePrices(o['prices']);
  const limits = (list as unknown[]).map((entry, index) => resolveLimit(`budgets.limits[${index}]`, entry));
  const names = new Set<string>();
  for (const [index, limit] of limits.entries()) {
    if (names.has(limit.name)) fail(`budgets.limits[${index}].name`, 'a name no other limit has', limit.name);
    names.add(limit.name);
  }
  const spends = limits.some((limit) => limit.metric === 'spend');
  if (spends && o['prices'] === undefined) {
    fail('budgets.prices', 'prices per model (`{ [model]: { input, output, cachedInput? } }`) when a limit sets `spend`', undefined);
  }
  for (const [index, limit] of limits.entries()) {
    if (limit.metric !== 'spend' || !limit.models) continue;
    for (const model of limit.models) requirePrice(prices, model, `budgets.limits[${index}].models`);
  }
  return {
    limits,
    prices,
    thresholds: resolveThresholds(o['thresholds']),
    assumedOutputTokens: numberOption('budgets.assumedOutputTokens', o['assumedOutputTokens'], { min: 1, max: LIMITS.tokens, integer: true }) ?? 1024,
    outageShare: shareOption('budgets.outageShare', o['outageShare']) ?? 0.25,
    spends,
  };
}

/**
 * With a spend limit, every model the configuration names (fallback models, pool members' models, context
 * windows) must have a price: a model without one is a `TypeError` now, never a silent zero later.
 */
export function requirePrices(settings: BudgetSettings | undefined, models: Iterable<readonly [string, string]>): void {
  if (!settings?.spends) return;
  for (const [model, where] of models) {
    if (settings.limits.some((limit) => limit.metric === 'spend' && counts(limit, model))) requirePrice(settings.prices, model, where);
  }
}

/** Whether `limit` counts calls to `model`. */
export function counts(limit: ResolvedLimit, model: string | undefined): boolean {
  return limit.models === undefined || (model !== undefined && limit.models.has(model));
}

/** The price of a model a spend limit counts, or the `TypeError` that says it has none (named in `where`). */
export function requirePrice(prices: Readonly<Record<string, ResolvedPrice>>, model: string, where: string): ResolvedPrice {
  const price = priceOf(prices, model);
  if (price !== undefined) return price;
  throw new TypeError(
    `openai-resilient: \`budgets.prices\` has no price for the model "${model}" (named in \`${where}\`), and a spend limit needs one: add \`${model}\` (or a prefix of it) to \`budgets.prices\`.`,
  );
}

function resolveLimit(path: string, entry: unknown): ResolvedLimit {
  if (!isPlainObject(entry)) fail(path, 'a limit object (`{ tokens | spend, window, per?, models?, tenants?, name? }`)', entry);
  const o = objectWithKeys(path, entry, LIMIT_KEYS)!;
  const hasTokens = o['tokens'] !== undefined;
  const hasSpend = o['spend'] !== undefined;
  if (hasTokens === hasSpend) fail(path, 'a limit with exactly one of `tokens` and `spend`', hasTokens ? 'both' : 'neither');
  const metric = hasTokens ? 'tokens' : 'spend';
  const amount = toUnits(`${path}.${metric}`, o[metric], metric);
  const per = o['per'] ?? 'tenant';
  if (per !== 'tenant' && per !== 'client') fail(`${path}.per`, "'tenant' or 'client'", per);
  const window = resolveWindow(`${path}.window`, o['window']);
  const name = o['name'] ?? `${per}:${metric}:${windowLabel(o['window'] as BudgetWindow)}`;
  if (typeof name !== 'string' || name === '') fail(`${path}.name`, 'a non-empty string', name);
  const models = o['models'];
  if (models !== undefined && (!Array.isArray(models) || models.length === 0 || models.some((m) => typeof m !== 'string' || m === ''))) {
    fail(`${path}.models`, 'a non-empty array of model names', models);
  }
  const tenants = new Map<string, number>();
  if (o['tenants'] !== undefined) {
    if (!isPlainObject(o['tenants'])) fail(`${path}.tenants`, 'an object of tenant → limit', o['tenants']);
    if (per !== 'tenant') fail(`${path}.tenants`, "absent on a `per: 'client'` limit (it has no tenants)", o['tenants']);
    for (const [tenant, limit] of Object.entries(o['tenants'])) tenants.set(tenant, toUnits(`${path}.tenants.${tenant}`, limit, metric));
  }
  return { name, per, metric, amount, window, models: models === undefined ? undefined : new Set(models as string[]), tenants };
}

/** A positive limit in whole units: tokens as they are, spend in millionths of the currency. */
function toUnits(path: string, value: unknown, metric: 'tokens' | 'spend'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(path, 'a positive number', value);
  if (metric === 'tokens') return numberOption(path, value, { min: 1, max: LIMITS.tokens, integer: true })!;
  numberOption(path, value, { min: 0, max: MAX_SPEND });
  return Math.max(1, Math.round(value * MICROS));
}

function resolvePrices(value: unknown): Record<string, ResolvedPrice> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail('budgets.prices', 'an object of model → `{ input, output, cachedInput? }`', value);
  const prices: Record<string, ResolvedPrice> = {};
  for (const [model, price] of Object.entries(value)) {
    const path = `budgets.prices.${model}`;
    if (model === '') fail('budgets.prices', 'model names that are not empty', model);
    const p = objectWithKeys(path, price, ['input', 'cachedInput', 'output']);
    if (!p) fail(path, '`{ input, output, cachedInput? }`', price);
    for (const key of ['input', 'output', 'cachedInput'] as const) {
      if (key === 'cachedInput' && p[key] === undefined) continue;
      const number = p[key];
      if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) fail(`${path}.${key}`, 'a finite number from 0 (per million tokens)', number);
    }
    prices[model] = resolvedPrice(p as { input: number; output: number; cachedInput?: number });
  }
  return prices;
}

function resolveThresholds(value: unknown): number[] {
  if (value === undefined) return [0.8, 1];
  if (!Array.isArray(value)) fail('budgets.thresholds', 'an array of fractions in (0, 1]', value);
  for (const [index, threshold] of value.entries()) shareOption(`budgets.thresholds[${index}]`, threshold);
  return [...new Set(value as number[])].sort((a, b) => a - b);
}
