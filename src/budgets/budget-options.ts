/**
 * Budgets: limits on the tokens and the spend of calls, per tenant or for the whole client, over windows
 * the user chooses. Checked before a call is sent (its input counted, its output bounded) and settled
 * with the `usage` the API reports.
 *
 * @module
 */

/**
 * How long a budget's window is. `'minute'` to `'week'` and a number of milliseconds are sliding windows
 * (what was used in the last minute, hour, ...); `'month'` is the calendar month in UTC, which resets on the
 * 1st at 00:00 UTC as invoices do.
 */
export type BudgetWindow = 'minute' | 'hour' | 'day' | 'week' | 'month' | number;

/** One limit. Exactly one of `tokens` and `spend` is set. */
export interface BudgetLimit {
  /** A name for errors, events and stats. @default `<per>:<tokens|spend>:<window>` */
  readonly name?: string | undefined;
  /**
   * Whose usage the limit counts: `'tenant'` gives each tenant (`resilience.forTenant()`) its own count
   * (calls without a tenant count together as one tenant); `'client'` counts every call of the client.
   * @default 'tenant'
   */
  readonly per?: 'tenant' | 'client' | undefined;
  /** Most tokens (input + output, as `usage.total_tokens`) in the window. */
  readonly tokens?: number | undefined;
  /** Most spend in the window, in the currency of `BudgetOptions.prices` (US dollars for the defaults). */
  readonly spend?: number | undefined;
  /** The window. */
  readonly window: BudgetWindow;
  /** Only calls to these models count. @default every model */
  readonly models?: readonly string[] | undefined;
  /**
   * Per tenant, a limit other than `tokens` / `spend` (same unit), for a `per: 'tenant'` limit.
   * @example { 'tenant-enterprise': 1_000_000 }
   */
  readonly tenants?: Readonly<Record<string, number>> | undefined;
}

/** A model's prices, per million tokens, in the budget's currency. */
export interface ModelPrice {
  /** Per million input tokens. */
  readonly input: number;
  /** Per million cached input tokens (`usage.*_tokens_details.cached_tokens`). @default `input` */
  readonly cachedInput?: number | undefined;
  /** Per million output tokens (reasoning tokens included). */
  readonly output: number;
}

export interface BudgetOptions {
  /** The limits. A call goes only when it fits all the limits that apply to it. */
  readonly limits: readonly BudgetLimit[];
  /**
   * Prices per model, needed by `spend` limits (a model with no price is a `TypeError`, never a silent
   * zero). Model names match exactly, then by their longest prefix (so `gpt-4o` prices `gpt-4o-2024-08-06`).
   * @default none
   */
  readonly prices?: Readonly<Record<string, ModelPrice>> | undefined;
  /**
   * Fractions of a limit whose crossing fires a `budgetThreshold` event (once per window and tenant).
   * @default [0.8, 1]
   */
  readonly thresholds?: readonly number[] | undefined;
  /**
   * The output a call is assumed to produce when it sets no `max_tokens` / `max_completion_tokens` /
   * `max_output_tokens`: reserved before sending, and corrected by the `usage` the API reports.
   * @default 1024
   */
  readonly assumedOutputTokens?: number | undefined;
  /**
   * With shared state (`shared` option), the fraction of each limit one process enforces on its own
   * while the shared state is unavailable (on what it used itself in the window).
   * @default 0.25
   */
  readonly outageShare?: number | undefined;
}
