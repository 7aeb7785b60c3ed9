import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/clock.js';
import { tenantFingerprint } from '../core/tenant-fingerprint.js';
import { BudgetExceededError } from '../errors/budget-exceeded-error.js';
import type { EventBus } from '../events/event-bus.js';
import type { RequestEventBase } from '../events/event-map.js';
import type { TokenCounter } from '../tokens/token-counter.js';
import type { BudgetLedger, LedgerCharge, LedgerCounter } from './budget-ledger.js';
import { priceOf, spendOf, type ResolvedPrice } from './budget-prices.js';
import { BudgetStats, CLIENT_KEY, NO_TENANT, toUnit, type BudgetLimitStats, type CounterView } from './budget-stats.js';
import { BudgetHold, type HeldCharge } from './budget-hold.js';
import { monthOf, windowResetsAt } from './budget-window.js';
import { counts, type BudgetSettings, type ResolvedLimit } from './resolve-budget-options.js';

/** One attempt's call as the budgets see it. */
export interface BudgetCall {
  /** The model the caller asked for (prices and `models` name it so). */
  readonly model: string;
  /** The tenant's id, as given to `resilience.forTenant()`. */
  readonly tenant: string | undefined;
  /** The request body as it will be sent. */
  readonly body: unknown;
  /** The API path: embeddings produce no output, and reserve none. */
  readonly path: string;
  /** The fields of the call's events. */
  readonly base: RequestEventBase;
}

/**
 * The budgets of one client (`budgets` option): reserves an attempt's tokens and spend on every limit that
 * counts its model before it is sent, refusing it with `BudgetExceededError` when one has no room, and
 * settles the reservation with the answer's `usage` (see `BudgetHold`). Fires `budgetThreshold`,
 * `budgetExceeded` and `budgetSettled`; keeps the numbers of `stats().budgets`.
 */
export class BudgetGate {
  readonly settings: BudgetSettings;
  readonly #ledger: BudgetLedger;
  readonly #tokens: TokenCounter;
  readonly #clock: Clock;
  readonly #events: EventBus;
  readonly #stats = new BudgetStats();
  /** Tenant fingerprints (a SHA-256 each), kept for the tenants seen last. */
  readonly #fingerprints = new LRUCache<string, Promise<string>>({ max: 1_000 });

  constructor(settings: BudgetSettings, ledger: BudgetLedger, tokens: TokenCounter, clock: Clock, events: EventBus) {
    this.settings = settings;
    this.#ledger = ledger;
    this.#tokens = tokens;
    this.#clock = clock;
    this.#events = events;
  }

  /**
   * Models whose server refused the `stream_options` asked for their chat streams' usage (the last 1 000):
   * their streams are sent as the caller made them, and keep their reservations (no usage settles them).
   */
  readonly refusingStreamUsage = new LRUCache<string, true>({ max: 1_000 });

  /** Whether a limit counts calls to `model`. */
  applies(model: string | undefined): boolean {
    return model !== undefined && this.settings.limits.some((limit) => counts(limit, model));
  }

  /**
   * The price of a call to `model` when a spend limit counts it: a `TypeError` naming `budgets.prices`
   * and the model when there is none (checked before anything is sent).
   */
  priceFor(model: string): ResolvedPrice | undefined {
    const spending = this.settings.limits.find((limit) => limit.metric === 'spend' && counts(limit, model));
    if (!spending) return undefined;
    const price = priceOf(this.settings.prices, model);
    if (price) return price;
    throw new TypeError(
      `openai-resilient: \`budgets.prices\` has no price for the model "${model}" of this call, and the spend limit "${spending.name}" counts it: add \`${model}\` (or a prefix of it) to \`budgets.prices\`.`,
    );
  }

  /**
   * Reserves the attempt's input and output bound on every limit that counts its model, or throws
   * `BudgetExceededError` (having taken nothing). `undefined` when no limit counts it.
   */
  async reserve(call: BudgetCall): Promise<BudgetHold | undefined> {
    const limits = this.settings.limits.filter((limit) => counts(limit, call.model));
    if (limits.length === 0) return undefined;
    const price = this.priceFor(call.model);
    const tokens = await this.#tokens.count(call.body, call.model);
    const output = call.path.endsWith('/embeddings') ? 0 : (tokens.maxOutput ?? this.settings.assumedOutputTokens);
    const reserved = { tokens: tokens.input + output, spend: price ? spendOf(price, tokens.input, 0, output) : 0 };
    const charges: HeldCharge[] = [];
    for (const limit of limits) {
      const { counter, tenantKey } = await this.#counter(limit, call.tenant);
      const view = this.#stats.view(limit, tenantKey, counter.limit);
      charges.push({ counter, amount: reserved[limit.metric], limit, view });
    }
    const now = this.#clock.now();
    const answer = await this.#ledger.reserve(charges as readonly LedgerCharge[], now);
    if (!answer.ok) {
      const refused = charges[answer.index]!;
      this.#refused(refused, answer.used, answer.resetsAt, call);
      throw new BudgetExceededError({
        limitName: refused.limit.name, per: refused.limit.per, metric: refused.limit.metric, limit: toUnit(refused.limit, refused.counter.limit),
        used: toUnit(refused.limit, answer.used), requested: toUnit(refused.limit, refused.amount), resetsAt: new Date(answer.resetsAt),
        tenant: call.tenant, model: call.model,
      });
    }
    this.#observe(charges, answer.used, now, call);
    return new BudgetHold(answer.hold, charges, price, (amounts, used) => this.#settled(charges, amounts, used, call));
  }

  /** `stats().budgets`. */
  stats(): Record<string, BudgetLimitStats> {
    return this.#stats.snapshot(this.settings.limits);
  }

  async #counter(limit: ResolvedLimit, tenant: string | undefined): Promise<{ counter: LedgerCounter; tenantKey: string }> {
    if (limit.per === 'client') return { counter: { key: `${limit.name}:*`, limit: limit.amount, window: limit.window }, tenantKey: CLIENT_KEY };
    if (tenant === undefined) return { counter: { key: `${limit.name}:-`, limit: limit.amount, window: limit.window }, tenantKey: NO_TENANT };
    let fingerprint = this.#fingerprints.get(tenant);
    if (!fingerprint) this.#fingerprints.set(tenant, (fingerprint = tenantFingerprint(tenant)));
    return { counter: { key: `${limit.name}:${await fingerprint}`, limit: limit.tenants.get(tenant) ?? limit.amount, window: limit.window }, tenantKey: tenant };
  }

  #refused(charge: HeldCharge, used: number, resetsAt: number, call: BudgetCall): void {
    const { view, limit } = charge;
    view.refusals++;
    view.used = used;
    view.updatedAt = this.#clock.now();
    view.resetsAt = Math.max(resetsAt, windowResetsAt(limit.window, view.updatedAt));
    BudgetStats.model(view, call.model, 0, true);
    if (!this.#events.has('budgetExceeded')) return;
    this.#events.emit('budgetExceeded', {
      ...call.base, limitName: limit.name, per: limit.per, metric: limit.metric, limit: toUnit(limit, charge.counter.limit),
      used: toUnit(limit, used), requested: toUnit(limit, charge.amount), resetsAt: new Date(resetsAt),
    });
  }

  /** A settlement is final: the models' parts, `budgetSettled`, and thresholds. */
  #settled(charges: readonly HeldCharge[], amounts: readonly number[], used: readonly number[], call: BudgetCall): void {
    const now = this.#clock.now();
    for (const [index, charge] of charges.entries()) {
      BudgetStats.model(charge.view, call.model, amounts[index]!, false);
      if (!this.#events.has('budgetSettled')) continue;
      const { limit } = charge;
      this.#events.emit('budgetSettled', {
        ...call.base, limitName: limit.name, per: limit.per, metric: limit.metric, limit: toUnit(limit, charge.counter.limit),
        used: toUnit(limit, used[index]!), amount: toUnit(limit, amounts[index]!), resetsAt: new Date(windowResetsAt(limit.window, now)),
      });
    }
    this.#observe(charges, used, now, call);
  }

  /** Records what the counters hold now, and fires the thresholds they reached (once per threshold and window). */
  #observe(charges: readonly HeldCharge[], used: readonly number[], now: number, call: BudgetCall): void {
    for (const [index, charge] of charges.entries()) {
      const view: CounterView = charge.view;
      const { limit } = charge;
      view.used = used[index]!;
      view.updatedAt = now;
      view.resetsAt = windowResetsAt(limit.window, now);
      for (const threshold of this.settings.thresholds) {
        if (view.used < threshold * charge.counter.limit) break;
        if ((view.fired.get(threshold) ?? -Infinity) > now) continue;
        view.fired.set(threshold, limit.window.kind === 'month' ? monthOf(now).end : now + limit.window.ms);
        this.#events.emit('budgetThreshold', {
          ...call.base, limitName: limit.name, per: limit.per, metric: limit.metric, limit: toUnit(limit, charge.counter.limit),
          used: toUnit(limit, view.used), threshold, resetsAt: new Date(view.resetsAt),
        });
      }
    }
  }
}
