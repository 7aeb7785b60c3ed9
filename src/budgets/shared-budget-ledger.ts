import type { SharedUsageCharge } from '../shared/shared-backend.js';
import type { SharedLink } from '../shared/shared-link.js';
import type { BudgetLedger, LedgerAnswer, LedgerCharge, LedgerHold } from './budget-ledger.js';

/** Counters whose outage usage a ledger remembers for the shared state; beyond it, new ones are not remembered. */
export const MAX_OUTAGE_COUNTERS = 10_000;

/** What this process used of one shared counter while the shared state did not answer. */
interface OutageUsage {
  readonly charge: SharedUsageCharge;
  amount: number;
  /** When it was last used (epoch ms, this process's clock). */
  last: number;
}

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
 * N processes, an `outageShare` of 1/N keeps the cluster within the limit. What is used during the outage is
 * also remembered, per counter, and added to the shared counters (in their current slot) once they answer
 * again, unless its window has passed by then: the cluster's count then holds it too, a little longer than
 * it would have (counted from the recovery, not from when it was used). A hold is settled where it was
 * reserved.
 */
export class SharedBudgetLedger implements BudgetLedger {
  /** Usage taken locally during an outage, by shared key, until it is written to the shared counters. */
  #outage = new Map<string, OutageUsage>();

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
    if (answer === undefined) return this.#reserveLocally(charges, now, shared);
    if (this.#outage.size > 0) this.#writeBack(now);
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

  /**
   * The outage path: this process's own ledger, at `outageShare` of every limit. What it takes (as settled)
   * is remembered for the shared counters, when their keys are known.
   */
  async #reserveLocally(charges: readonly LedgerCharge[], now: number, shared?: readonly SharedUsageCharge[]): Promise<LedgerAnswer> {
    const { outageShare } = this.options;
    const scaled = charges.map(({ counter, amount }) => ({ counter: { ...counter, limit: Math.floor(counter.limit * outageShare) }, amount }));
    const answer = await this.options.local.reserve(scaled, now);
    if (!answer.ok || !shared) return answer;
    const usages = shared.map((charge) => this.#remember(charge, charge.amount, now));
    const { hold } = answer;
    return {
      ...answer,
      hold: {
        settle: (actual) => {
          // A correction reaches the remembered usage if it has not been written back yet.
          usages.forEach((usage, i) => {
            if (usage && this.#outage.get(usage.charge.key) === usage) usage.amount = Math.max(0, usage.amount + Math.max(0, Math.ceil(actual[i] ?? shared[i]!.amount)) - shared[i]!.amount);
          });
          return hold.settle(actual);
        },
      },
    };
  }

  #remember(charge: SharedUsageCharge, amount: number, now: number): OutageUsage | undefined {
    let usage = this.#outage.get(charge.key);
    if (!usage) {
      if (this.#outage.size >= MAX_OUTAGE_COUNTERS) return undefined;
      usage = { charge, amount: 0, last: now };
      this.#outage.set(charge.key, usage);
    }
    usage.amount += amount;
    usage.last = now;
    return usage;
  }

  /**
   * The shared state answers again: what was used during the outage is added to the shared counters, in
   * the background (what has left its window since is dropped; if the write fails, it is kept for the next).
   */
  #writeBack(now: number): void {
    const usages = [...this.#outage.values()].filter(({ charge, amount, last }) => amount > 0 && (charge.window.kind === 'month' ? sameMonth(last, now) : now - last < charge.window.ms));
    this.#outage = new Map();
    if (usages.length === 0) return;
    const charges = usages.map(({ charge, amount }) => ({ ...charge, amount }));
    void this.options.link.run('usageSettle', (backend) => backend.usageSettle!(charges, charges.map(() => -1))).then((after) => {
      if (after === undefined) for (const usage of usages) this.#remember(usage.charge, usage.amount, usage.last);
    });
  }
}

function sameMonth(a: number, b: number): boolean {
  const x = new Date(a);
  const y = new Date(b);
  return x.getUTCFullYear() === y.getUTCFullYear() && x.getUTCMonth() === y.getUTCMonth();
}
