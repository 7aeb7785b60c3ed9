import type { BudgetLedger, LedgerAnswer, LedgerCharge, LedgerCounter, LedgerHold, LedgerWindow } from './budget-ledger.js';
import { monthOf, slotWidth } from './budget-window.js';

/** Counters a {@link LocalBudgetLedger} keeps by default: beyond them, the least recently used is dropped. */
export const MAX_COUNTERS = 100_000;

/** One counter's usage: per slot for a sliding window (oldest first), or one sum for the calendar month. */
type CounterState =
  | { readonly kind: 'sliding'; readonly starts: number[]; readonly amounts: number[] }
  | { readonly kind: 'month'; start: number; used: number };

/** Where one charge of a reservation was put, to be corrected by its settlement. */
interface Placed {
  readonly key: string;
  readonly state: CounterState;
  /** The slot's start (sliding) or the month's start. */
  readonly at: number;
  readonly amount: number;
  readonly counter: LedgerCounter;
}

export interface LocalBudgetLedgerOptions {
  /** The time a settlement reads what the counters hold at (epoch ms). @default `Date.now` */
  readonly now?: (() => number) | undefined;
  /** Counters kept; beyond it the least recently used counter is dropped. @default 100_000 */
  readonly maxCounters?: number | undefined;
}

/**
 * Counts budget usage in this process.
 *
 * A sliding window is counted in 60 slots (`budget-window.ts`): a charge goes in the slot of the moment it
 * was reserved, and a slot counts until one whole window after the slot's end. Usage is therefore held for
 * between one window and one window plus one slot, never less: in any span of the window's length, what
 * was reserved never passes the limit. A calendar month is one sum that starts again on the 1st, 00:00 UTC.
 * A settlement corrects the slot its reservation went in (if that slot is still counted).
 *
 * Memory is bounded: a counter holds at most 61 slots (expired slots are dropped as it is read), and the
 * ledger holds at most `maxCounters` counters (one per limit and tenant); beyond that, the counter used
 * least recently is dropped — by then it is almost always one whose window has long emptied.
 */
export class LocalBudgetLedger implements BudgetLedger {
  readonly #counters = new Map<string, CounterState>();
  readonly #now: () => number;
  readonly #max: number;

  constructor(options: LocalBudgetLedgerOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#max = options.maxCounters ?? MAX_COUNTERS;
  }

  /** How many counters are kept (for tests of the memory bound). */
  get size(): number {
    return this.#counters.size;
  }

  reserve(charges: readonly LedgerCharge[], now: number): Promise<LedgerAnswer> {
    return Promise.resolve(this.reserveNow(charges, now));
  }

  /** {@link reserve}, answered at once. */
  reserveNow(charges: readonly LedgerCharge[], now: number): LedgerAnswer {
    const states = charges.map((charge) => this.#state(charge.counter, now));
    const used = states.map((state, index) => usedIn(state, charges[index]!.counter.window, now));
    for (const [index, charge] of charges.entries()) {
      if (used[index]! + charge.amount > charge.counter.limit) {
        return { ok: false, index, used: used[index]!, resetsAt: fitsAt(states[index]!, charge, used[index]!, now) };
      }
    }
    const placed: Placed[] = charges.map((charge, index) => {
      const state = states[index]!;
      const at = add(state, charge.counter.window, now, charge.amount);
      return { key: charge.counter.key, state, at, amount: charge.amount, counter: charge.counter };
    });
    return { ok: true, hold: this.#hold(placed), used: used.map((value, index) => value + charges[index]!.amount) };
  }

  /** What `counter` holds at `now`, without charging it. */
  usedNow(counter: LedgerCounter, now: number): number {
    const state = this.#counters.get(counter.key);
    return state ? usedIn(state, counter.window, now) : 0;
  }

  #hold(placed: readonly Placed[]): LedgerHold {
    let settled = false;
    return {
      settle: (actual) => {
        const now = this.#now();
        if (!settled) {
          settled = true;
          for (const [index, charge] of placed.entries()) {
            // A counter dropped since (or a month that has ended) has nothing to correct.
            if (this.#counters.get(charge.key) !== charge.state) continue;
            correct(charge.state, charge.at, (actual[index] ?? charge.amount) - charge.amount);
          }
        }
        return Promise.resolve(placed.map((charge) => this.usedNow(charge.counter, now)));
      },
    };
  }

  /** The counter's state (made if new), marked as the most recently used. */
  #state(counter: LedgerCounter, now: number): CounterState {
    let state = this.#counters.get(counter.key);
    if (state && state.kind !== counter.window.kind) state = undefined;
    if (state) {
      this.#counters.delete(counter.key);
    } else {
      state = counter.window.kind === 'month' ? { kind: 'month', start: monthOf(now).start, used: 0 } : { kind: 'sliding', starts: [], amounts: [] };
    }
    this.#counters.set(counter.key, state);
    if (this.#counters.size > this.#max) this.#counters.delete(this.#counters.keys().next().value!);
    return state;
  }
}

/** What `state` holds at `now` (dropping what has left the window). */
function usedIn(state: CounterState, window: LedgerWindow, now: number): number {
  if (state.kind === 'month') {
    const { start } = monthOf(now);
    if (state.start !== start) {
      state.start = start;
      state.used = 0;
    }
    return state.used;
  }
  const ms = window.kind === 'sliding' ? window.ms : 0;
  const slot = slotWidth(ms);
  // A slot counts until one window after its end.
  while (state.starts.length > 0 && state.starts[0]! + slot + ms <= now) {
    state.starts.shift();
    state.amounts.shift();
  }
  let used = 0;
  for (const amount of state.amounts) used += amount;
  return used;
}

/** Adds `amount` at `now`; returns where it went (the slot's start, or the month's). */
function add(state: CounterState, window: LedgerWindow, now: number, amount: number): number {
  if (state.kind === 'month') {
    state.used += amount;
    return state.start;
  }
  const slot = slotWidth(window.kind === 'sliding' ? window.ms : 0);
  const start = Math.floor(now / slot) * slot;
  const last = state.starts.length - 1;
  if (last >= 0 && state.starts[last] === start) state.amounts[last]! += amount;
  else if (last >= 0 && state.starts[last]! > start) {
    // A clock that went back: counted in the latest slot (held as long, or longer).
    state.amounts[last]! += amount;
    return state.starts[last]!;
  } else {
    state.starts.push(start);
    state.amounts.push(amount);
  }
  return start;
}

/** Corrects the slot (or month) at `at` by `delta`, never below 0. */
function correct(state: CounterState, at: number, delta: number): void {
  if (state.kind === 'month') {
    if (state.start === at) state.used = Math.max(0, state.used + delta);
    return;
  }
  const index = state.starts.indexOf(at);
  if (index >= 0) state.amounts[index] = Math.max(0, state.amounts[index]! + delta);
}

/** When enough of `state` will have left the window for `charge` to fit (when it is all gone, if it never fits). */
function fitsAt(state: CounterState, charge: LedgerCharge, used: number, now: number): number {
  const { window } = charge.counter;
  if (state.kind === 'month' || window.kind === 'month') return monthOf(now).end;
  const slot = slotWidth(window.ms);
  let left = used;
  for (const [index, start] of state.starts.entries()) {
    left -= state.amounts[index]!;
    if (left + charge.amount <= charge.counter.limit) return start + slot + window.ms;
  }
  return Math.floor(now / slot) * slot + slot + window.ms;
}
