import type { RequestEventBase } from './request-event-base.js';

/** What a budget event says of the limit it is about (see the `budgets` option). */
export interface BudgetEventBase extends RequestEventBase {
  /** The limit's name (`budgets.limits[].name`, or its default `<per>:<tokens|spend>:<window>`). */
  readonly limitName: string;
  /** Whose usage the limit counts: each tenant's (`tenant` says whose), or the whole client's. */
  readonly per: 'tenant' | 'client';
  readonly metric: 'tokens' | 'spend';
  /** The limit that applies (the tenant's own, when `tenants` sets one): tokens, or currency. */
  readonly limit: number;
  /** What the window holds now: tokens, or currency. */
  readonly used: number;
  /** When what the window holds now will all have left it (the month's end for `'month'`). */
  readonly resetsAt: Date;
}

/**
 * A budget's usage reached one of `budgets.thresholds` (after a reservation or a settlement): fired once
 * per threshold, counter (limit and tenant) and window length.
 */
export interface BudgetThresholdEvent extends BudgetEventBase {
  /** The fraction of `limit` reached, e.g. `0.8`. */
  readonly threshold: number;
}

/** A budget had no room for a call: it was refused before it was sent, with `BudgetExceededError`. */
export interface BudgetExceededEvent extends BudgetEventBase {
  /** What the call would have reserved (its input and output bound): tokens, or currency. */
  readonly requested: number;
}

/**
 * An attempt's charge to a budget is final: settled with the answer's `usage`, kept as reserved (a failure
 * that may have been billed), or given back (`amount` 0).
 */
export interface BudgetSettledEvent extends BudgetEventBase {
  /** What the attempt counts for in the end: tokens, or currency. */
  readonly amount: number;
}
