import { LRUCache } from 'lru-cache';
import type { ResolvedLimit } from './resolve-budget-options.js';
import { MICROS } from './budget-prices.js';

/** Counters (limit and tenant) whose numbers `stats().budgets` keeps; the least recently used beyond it are dropped. */
export const MAX_BUDGET_COUNTERS = 1_000;
/** Models kept per counter in its `models`. */
const MAX_MODELS = 100;

/** The tenant key of a `per: 'client'` limit in `stats().budgets`. */
export const CLIENT_KEY = '(client)';
/** The tenant key of calls without a tenant, under a `per: 'tenant'` limit. */
export const NO_TENANT = '(no tenant)';

/** One model's part of a counter, since the client was created. */
export interface BudgetModelStats {
  /** What its attempts counted for in the end (tokens, or currency). */
  readonly used: number;
  /** Its calls refused by this counter. */
  readonly refusals: number;
}

/** One counter: a limit for one tenant (or for the client). */
export interface BudgetCounterStats {
  /** What the window held at the counter's last reservation or settlement (tokens, or currency). */
  readonly used: number;
  /** The limit that applies (the tenant's own, when `tenants` sets one). */
  readonly limit: number;
  /** `limit - used`, never below 0. */
  readonly remaining: number;
  /** When what the window held then will all have left it (epoch ms; the month's end for `'month'`). */
  readonly resetsAt: number;
  /** When `used` was read (epoch ms). */
  readonly updatedAt: number;
  /** Calls refused by this counter since the client was created. */
  readonly refusals: number;
  /** Per model, since the client was created. */
  readonly models: Readonly<Record<string, BudgetModelStats>>;
}

/** One limit in `stats().budgets`, keyed by its name. */
export interface BudgetLimitStats {
  readonly per: 'tenant' | 'client';
  readonly metric: 'tokens' | 'spend';
  /** The limit's default (tokens, or currency); a tenant's own is in its counter. */
  readonly limit: number;
  /**
   * Per tenant as `resilience.forTenant()` named it (`(no tenant)` for calls without one), or `(client)`
   * for a `per: 'client'` limit. At most 1 000 counters over all limits, the least recently used dropped.
   */
  readonly tenants: Readonly<Record<string, BudgetCounterStats>>;
}

/** A counter's numbers and the thresholds it has fired (threshold → until when it stays fired). */
export interface CounterView {
  readonly limit: ResolvedLimit;
  readonly tenantKey: string;
  /** In the ledger's units. */
  limitUnits: number;
  used: number;
  resetsAt: number;
  updatedAt: number;
  refusals: number;
  readonly models: Map<string, { used: number; refusals: number }>;
  readonly fired: Map<number, number>;
}

/** The numbers behind `stats().budgets`, and the thresholds fired, per counter: bounded (see {@link MAX_BUDGET_COUNTERS}). */
export class BudgetStats {
  readonly #views = new LRUCache<string, CounterView>({ max: MAX_BUDGET_COUNTERS });

  /** The view of `limit` for `tenantKey` (made if new). */
  view(limit: ResolvedLimit, tenantKey: string, limitUnits: number): CounterView {
    const key = `${limit.name}\u0000${tenantKey}`;
    let view = this.#views.get(key);
    if (!view) {
      view = { limit, tenantKey, limitUnits, used: 0, resetsAt: 0, updatedAt: 0, refusals: 0, models: new Map(), fired: new Map() };
      this.#views.set(key, view);
    }
    view.limitUnits = limitUnits;
    return view;
  }

  /** Adds to a model's part of `view`. */
  static model(view: CounterView, model: string, used: number, refused: boolean): void {
    let entry = view.models.get(model);
    if (!entry) {
      if (view.models.size >= MAX_MODELS) return;
      view.models.set(model, (entry = { used: 0, refusals: 0 }));
    }
    entry.used += used;
    if (refused) entry.refusals++;
  }

  snapshot(limits: readonly ResolvedLimit[]): Record<string, BudgetLimitStats> {
    const out: Record<string, { per: 'tenant' | 'client'; metric: 'tokens' | 'spend'; limit: number; tenants: Record<string, BudgetCounterStats> }> = {};
    for (const limit of limits) out[limit.name] = { per: limit.per, metric: limit.metric, limit: toUnit(limit, limit.amount), tenants: {} };
    for (const view of this.#views.values()) {
      const entry = out[view.limit.name];
      if (!entry) continue;
      const models: Record<string, BudgetModelStats> = {};
      for (const [model, m] of view.models) models[model] = { used: toUnit(view.limit, m.used), refusals: m.refusals };
      entry.tenants[view.tenantKey] = {
        used: toUnit(view.limit, view.used),
        limit: toUnit(view.limit, view.limitUnits),
        remaining: toUnit(view.limit, Math.max(0, view.limitUnits - view.used)),
        resetsAt: view.resetsAt,
        updatedAt: view.updatedAt,
        refusals: view.refusals,
        models,
      };
    }
    return out;
  }
}

/** Ledger units (tokens, or millionths) in the limit's own unit (tokens, or currency). */
export function toUnit(limit: ResolvedLimit, units: number): number {
  return limit.metric === 'tokens' ? units : units / MICROS;
}
