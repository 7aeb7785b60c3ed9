import { isResilienceError, ResilienceError } from './resilience-error.js';

/** What {@link BudgetExceededError} says of the limit that refused a call. */
export interface BudgetExceededDetails {
  /** The limit's name (`budgets.limits[].name`, or its default `<per>:<tokens|spend>:<window>`). */
  readonly limitName: string;
  /** Whose usage the limit counts: each tenant's, or the whole client's. */
  readonly per: 'tenant' | 'client';
  readonly metric: 'tokens' | 'spend';
  /** The limit that applies, in tokens or in the currency of `budgets.prices`. */
  readonly limit: number;
  /** What the window held when the call was refused (same unit). */
  readonly used: number;
  /** What this call would have reserved: its input plus its output bound (same unit). */
  readonly requested: number;
  /** When enough of the window will have been freed for this call to fit (the month's end for `'month'`). */
  readonly resetsAt: Date;
  /** The tenant's id as given to `resilience.forTenant()` (`undefined` for a call without a tenant). */
  readonly tenant: string | undefined;
  readonly model: string | undefined;
}

/**
 * A budget (`budgets` option) has no room for this call: it was refused before it was sent. Its kind,
 * `budget_exceeded`, is never retried, never counted by the circuit breaker, and falls back only when
 * `fallback.on` lists it. It names the limit and the tenant, never the prompt or a key.
 */
export class BudgetExceededError extends ResilienceError {
  override readonly name = 'BudgetExceededError';
  readonly kind = 'budget_exceeded' as const;
  /** The limit's name. */
  readonly limitName: string;
  readonly per: 'tenant' | 'client';
  readonly metric: 'tokens' | 'spend';
  /** The limit, in tokens or in currency. */
  readonly limit: number;
  /** What the window held (tokens or currency). */
  readonly used: number;
  /** This call's reservation (tokens or currency). */
  readonly requested: number;
  readonly resetsAt: Date;
  readonly tenant: string | undefined;
  readonly model: string | undefined;

  constructor(details: BudgetExceededDetails) {
    const unit = details.metric === 'tokens' ? ' tokens' : '';
    const who = details.per === 'client' ? 'the client' : details.tenant === undefined ? 'calls without a tenant' : `tenant "${details.tenant}"`;
    super(
      `Budget "${details.limitName}" of ${who} has ${details.used}${unit} of ${details.limit}${unit} used; this call to "${details.model ?? 'no model'}" needs ${details.requested}${unit}. It resets by ${details.resetsAt.toISOString()}; not sent.`,
    );
    this.limitName = details.limitName;
    this.per = details.per;
    this.metric = details.metric;
    this.limit = details.limit;
    this.used = details.used;
    this.requested = details.requested;
    this.resetsAt = details.resetsAt;
    this.tenant = details.tenant;
    this.model = details.model;
  }
}

/** True for a {@link BudgetExceededError}, also one thrown by another copy of this package. */
export function isBudgetExceededError(error: unknown): error is BudgetExceededError {
  return isResilienceError(error) && error.kind === 'budget_exceeded';
}
