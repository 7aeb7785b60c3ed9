import type { SharedUsageCharge } from '../shared/shared-backend.js';
import type { SharedLink } from '../shared/shared-link.js';
import type { BudgetLedger, LedgerAnswer, LedgerCharge, LedgerHold } from './budget-ledger.js';

/** What a {@link SharedBudgetLedger} is built from. */
export interface SharedBudgetLedgerOptions {
  /** The link to the shared state; its backend must keep usage (`usageReserve`, `usageSettle`). */
  readonly link: SharedLink;
  /**
   * The account the counters belong to (`accountId()` of the client): every key starts with it, so that
   * applications calling as other accounts on the same Redis count apart.
   */
  readonly account: () => string | Promise<string>;
  /**
   * This process's own ledger, used while the shared state does not answer, with every limit times
   * `outageShare`. It must take each counter's limit from the charge it is given.
   */
  readonly local: BudgetLedger;
  /** The fraction of each limit this process enforces on its own during an outage (`budgets.outageShare`). */
  readonly outageShare: number;
}

/** Whether the link's backend keeps budget usage (else budgets stay per process). */
export function sharedUsageAvailable(link: SharedLink | undefined): link is SharedLink {
  const backend = link?.backend;
  return typeof backend?.usageReserve === 'function' && typeof backend.usageSettle === 'function';
}

/**
 * Budget usage counted by every process through the shared state: each reservation takes all of a call's
 * charges at once, or none, atomically for the cluster (`usageReserve`), and its settlement corrects them
 * where they were taken (`usageSettle`).
 *
 * While the shared state does not answer (an outage, a timeout: `SharedLink` announces it with
 * `sharedStateDown`), reservations go to the `local` ledger with every limit times `outageShare`: each
 * process then lets through that fraction of a limit, counted on what it used itself in the window. With
 * N processes, an `outageShare` of 1/N keeps the cluster within the limit. What is used during the outage
 * stays in the local ledger: it is not written to the shared counters when they answer again. A hold is
 * settled where it was reserved.
 */
export class SharedBudgetLedger implements BudgetLedger {
  constructor(private readonly options: SharedBudgetLedgerOptions) {}

  async reserve(charges: readonly LedgerCharge[], now: number): Promise<LedgerAnswer> {
    const { link } = this.options;
    let account: string;
    try {
      account = await this.options.account();
    } catch {
      return this.#reserveLocally(charges, now);
    }
    const shared: SharedUsageCharge[] = charges.map(({ counter, amount }) => ({
      key: `${account}:${counter.key}`,
      limit: counter.limit,
      window: counter.window,
      amount: Math.max(0, Math.ceil(amount)),
    }));
    const answer = await link.run('usageReserve', (backend) => backend.usageReserve!(shared));
    if (answer === undefined) return this.#reserveLocally(charges, now);
    if (!answer.ok) return { ok: false, index: answer.index, used: answer.used, resetsAt: now + answer.resetsIn };
    return { ok: true, used: answer.used, hold: this.#sharedHold(shared, answer.slots, answer.used) };
  }

  /** Settles on the shared counters; when they do not answer, what each would hold is worked out here. */
  #sharedHold(charges: readonly SharedUsageCharge[], slots: readonly number[], used: readonly number[]): LedgerHold {
    let settled: Promise<readonly number[]> | undefined;
    return {
      settle: (actual) => {
        settled ??= (async () => {
          const corrections = charges.map((charge, i) => ({ ...charge, amount: Math.max(0, Math.ceil(actual[i] ?? charge.amount)) - charge.amount }));
          if (corrections.every((c) => c.amount === 0)) return used;
          const after = await this.options.link.run('usageSettle', (backend) => backend.usageSettle!(corrections, slots));
          return after ?? used.map((u, i) => Math.max(0, u + corrections[i]!.amount));
        })();
        return settled;
      },
    };
  }

  /** The outage path: this process's own ledger, at `outageShare` of every limit. */
  #reserveLocally(charges: readonly LedgerCharge[], now: number): Promise<LedgerAnswer> {
    const { outageShare } = this.options;
    const scaled = charges.map(({ counter, amount }) => ({ counter: { ...counter, limit: Math.floor(counter.limit * outageShare) }, amount }));
    return this.options.local.reserve(scaled, now);
  }
}
