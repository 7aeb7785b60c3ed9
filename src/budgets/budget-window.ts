import { fail } from '../core/validate.js';
import type { LedgerWindow } from './budget-ledger.js';
import type { BudgetWindow } from './budget-options.js';

const NAMED: Readonly<Record<string, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};

/** The longest sliding window a number of ms may ask for: a year (a calendar month is `'month'`). */
export const MAX_WINDOW_MS = 366 * 86_400_000;

/** How many slots a sliding window is counted in (see `LocalBudgetLedger`): usage is held one slot longer at most. */
export const WINDOW_SLOTS = 60;

/** `budgets.limits[i].window`, resolved. */
export function resolveWindow(path: string, value: unknown): LedgerWindow {
  if (value === 'month') return { kind: 'month' };
  if (typeof value === 'string' && NAMED[value] !== undefined) return { kind: 'sliding', ms: NAMED[value] };
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1_000 && value <= MAX_WINDOW_MS) return { kind: 'sliding', ms: value };
  return fail(path, "'minute', 'hour', 'day', 'week', 'month' or an integer number of ms from 1_000 to 31_622_400_000", value);
}

/** A window as a limit's default name says it: `minute`, `month`, `90000ms`. */
export function windowLabel(window: BudgetWindow): string {
  return typeof window === 'number' ? `${window}ms` : window;
}

/** The calendar month in UTC that holds `now`: its first and its next month's first millisecond. */
export function monthOf(now: number): { readonly start: number; readonly end: number } {
  const date = new Date(now);
  const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  return { start, end };
}

/** A sliding window's slot width in ms (at least 1). */
export function slotWidth(windowMs: number): number {
  return Math.max(1, Math.floor(windowMs / WINDOW_SLOTS));
}

/**
 * When what a counter holds now will all have left it: for a sliding window, one window and one slot from
 * now at most (usage is held for between one window and one window plus one slot); for a month, its end.
 */
export function windowResetsAt(window: LedgerWindow, now: number): number {
  if (window.kind === 'month') return monthOf(now).end;
  const slot = slotWidth(window.ms);
  return Math.floor(now / slot) * slot + slot + window.ms;
}
