import type { LedgerCharge, LedgerHold } from './budget-ledger.js';
import type { BilledUsage } from '../tokens/billed-usage.js';
import { spendOf, type ResolvedPrice } from './budget-prices.js';
import type { CounterView } from './budget-stats.js';
import type { ResolvedLimit } from './resolve-budget-options.js';

/** One charge of a reservation, with the limit it is for and its numbers in `stats().budgets`. */
export interface HeldCharge extends LedgerCharge {
  readonly limit: ResolvedLimit;
  readonly view: CounterView;
}

/**
 * One attempt's reservation on its budgets, settled once: with the answer's `usage` ({@link settle}),
 * kept as reserved when the attempt may have been billed without saying how much ({@link keep}), or given
 * back when it certainly was not ({@link giveBack}). The first of them counts; the others do nothing.
 */
export class BudgetHold {
  readonly #hold: LedgerHold;
  readonly #charges: readonly HeldCharge[];
  readonly #price: ResolvedPrice | undefined;
  readonly #settled: (amounts: readonly number[], used: readonly number[]) => void;
  #done = false;

  constructor(hold: LedgerHold, charges: readonly HeldCharge[], price: ResolvedPrice | undefined, settled: (amounts: readonly number[], used: readonly number[]) => void) {
    this.#hold = hold;
    this.#charges = charges;
    this.#price = price;
    this.#settled = settled;
  }

  /** Whether it has been settled, kept or given back. */
  get done(): boolean {
    return this.#done;
  }

  /** Replaces the reservation with what `usage` says was used: its total tokens, and its spend at the model's prices. */
  settle(usage: BilledUsage): void {
    const spend = this.#price ? spendOf(this.#price, usage.input, usage.cached, usage.output) : 0;
    this.#finish(this.#charges.map((charge) => (charge.limit.metric === 'tokens' ? usage.total : spend)));
  }

  /** Keeps the reservation as it is: the attempt may have been billed, and nothing says how much. */
  keep(): void {
    this.#finish(this.#charges.map((charge) => charge.amount));
  }

  /** Gives the whole reservation back: the attempt was not billed. */
  giveBack(): void {
    this.#finish(this.#charges.map(() => 0));
  }

  #finish(amounts: readonly number[]): void {
    if (this.#done) return;
    this.#done = true;
    this.#hold.settle(amounts).then(
      (used) => this.#settled(amounts, used),
      () => undefined,
    );
  }
}
