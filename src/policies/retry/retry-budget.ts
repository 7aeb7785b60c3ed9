import type { Clock } from '../../core/clock.js';
import type { SharedLink } from '../../shared/shared-link.js';
import { RollingCounter } from '../rolling-counter.js';

/** Retry budget settings after defaults (see `RetryOptions.budget`). */
export interface RetryBudgetSettings {
  /** Retries may add at most this fraction of the calls made in the window. */
  readonly ratio: number;
  /** Retries always allowed per window, so that a quiet client can still retry. */
  readonly minRetries: number;
  /** The window, in milliseconds. */
  readonly window: number;
}

/**
 * A client-wide cap on retries, as in Envoy's retry budget and gRPC's retry throttling: over the last
 * `window`, retries may number at most `minRetries + ratio × calls`. When an outage makes every call
 * fail, traffic grows by at most that fraction instead of multiplying by `1 + maxRetries`.
 *
 * With shared state whose backend keeps budgets (`budgetCalls`, `budgetRetry`), calls and retries are
 * counted per account by every process, so ten processes seeing one outage add `ratio` of their calls
 * together, not each. This process keeps its own counts all the same, and decides on them whenever the
 * shared state does not answer.
 */
export class RetryBudget {
  readonly #calls: RollingCounter;
  readonly #retries: RollingCounter;

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly clock: Clock,
    private readonly shared?: SharedLink | undefined,
  ) {
    this.#calls = new RollingCounter(settings.window);
    this.#retries = new RollingCounter(settings.window);
  }

  /** Whether calls and retries are counted in shared state (and so need the account's `sharedKey`). */
  get isShared(): boolean {
    const backend = this.shared?.backend;
    return typeof backend?.budgetCalls === 'function' && typeof backend.budgetRetry === 'function';
  }

  /** Counts a new call (its first attempt); in the shared budget of `sharedKey` too, in the background. */
  recordCall(sharedKey?: string): void {
    this.#calls.add(this.clock.now());
    if (sharedKey === undefined || !this.isShared) return;
    this.shared!.send('budgetCalls', (backend) => backend.budgetCalls!(sharedKey, 1, this.settings.window));
  }

  /**
   * Takes one retry from the shared budget of the account `sharedKey`, or from this process's own when
   * the shared state does not answer (or keeps no budgets); `false` when it is spent.
   */
  async tryRetryShared(sharedKey: string): Promise<boolean> {
    if (!this.isShared) return this.tryRetry();
    const taken = await this.shared!.run('budgetRetry', (backend) => backend.budgetRetry!(sharedKey, this.settings));
    if (taken === undefined) return this.tryRetry();
    // This process's own counts follow, for the decisions it takes alone during an outage.
    if (taken) this.#retries.add(this.clock.now());
    return taken;
  }

  /** Takes one retry from this process's budget; `false` when it is spent. */
  tryRetry(): boolean {
    const now = this.clock.now();
    const allowed = this.settings.minRetries + this.settings.ratio * this.#calls.total(now);
    if (this.#retries.total(now) + 1 > allowed) return false;
    this.#retries.add(now);
    return true;
  }
}
