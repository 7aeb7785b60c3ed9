/**
 * The store that counts budget usage: in this process (`LocalBudgetLedger`), or shared by processes
 * through the shared state (`SharedBudgetLedger`, falling back to a local ledger during an outage).
 *
 * @module
 */

/** A resolved window: sliding over `ms`, or the calendar month in UTC. */
export type LedgerWindow = { readonly kind: 'sliding'; readonly ms: number } | { readonly kind: 'month' };

/** One counter a call is charged to: one limit's count for one tenant (or for the client). */
export interface LedgerCounter {
  /** Stable and free of secrets: `<limit name>` and a tenant fingerprint (or `*` for the client). */
  readonly key: string;
  /** The limit, in the counter's unit (tokens, or spend in millionths of the currency). */
  readonly limit: number;
  readonly window: LedgerWindow;
}

/** An amount to take from a counter. */
export interface LedgerCharge {
  readonly counter: LedgerCounter;
  /** Whole units (tokens, or millionths of the currency). */
  readonly amount: number;
}

/** What a reservation answered. */
export type LedgerAnswer =
  /** Every charge was taken; `hold` settles them. */
  | { readonly ok: true; readonly hold: LedgerHold; readonly used: readonly number[] }
  /**
   * Nothing was taken: the charge at `index` would pass its limit. `used` is what that counter holds now,
   * `resetsAt` (epoch ms) when enough of it will have left the window for the charge to fit (the window's
   * end for a calendar month).
   */
  | { readonly ok: false; readonly index: number; readonly used: number; readonly resetsAt: number };

/** Charges taken by one reservation, to be settled once. */
export interface LedgerHold {
  /**
   * Replaces the reserved amounts with what was really used (per charge, in order; 0 gives a charge back).
   * Resolves with what each counter holds afterwards (for thresholds and stats). Never rejects.
   */
  settle(actual: readonly number[]): Promise<readonly number[]>;
}

export interface BudgetLedger {
  /** Takes every charge, or none, at `now` (epoch ms). Never rejects. */
  reserve(charges: readonly LedgerCharge[], now: number): Promise<LedgerAnswer>;
}
