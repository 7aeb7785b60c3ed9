import type { Abortable } from '../../core/abort-scope.js';
import type { Clock } from '../../core/clock.js';
import type { SharedLink } from '../../shared/shared-link.js';
import { fixedWaits, waitForCapacity, type WaitContext } from './capacity-wait.js';
import type { ModelState } from './model-state.js';
import { SharedTenantShares } from './shared-tenant-shares.js';
import { TenantShares, type TenantHold } from './tenant-shares.js';

/** Who waits: the call's tenant and its traffic class's rank. */
export interface Caller {
  readonly tenant: string | undefined;
  readonly rank: number;
}

/**
 * The first step of a reservation: one request from the tenant's share of the model (`tenantShare`),
 * waiting first while the tenant is over it. Only then does the call reserve the model's capacity, so a
 * tenant's backlog never books capacity that other tenants could use meanwhile. On refusal or abort the
 * share is given back.
 *
 * With shared state whose backend keeps tenant shares, the share is counted by every process (in the
 * order they ask); this process's own buckets, where the tenant's waiting calls go by class, are used
 * otherwise and whenever the shared state does not answer.
 */
export class TenantAdmission {
  readonly #local: TenantShares;
  readonly #shared: SharedTenantShares | undefined;

  /** @param jumpsAllowed per class rank, how many calls in a row may go ahead of that class (`reservedShare`) */
  constructor(
    private readonly share: number,
    private readonly clock: Clock,
    private readonly waiting: WaitContext,
    jumpsAllowed: (rank: number) => number,
    link: SharedLink | undefined,
  ) {
    this.#local = new TenantShares(share, jumpsAllowed);
    const shared = link && new SharedTenantShares(link, share);
    this.#shared = shared?.available ? shared : undefined;
  }

  /**
   * Takes the call's request from its tenant's share of `model` once it is covered: what to give back if
   * the call is not sent, or `undefined` when no share applies (no tenant, a share of 1, or no known rate).
   */
  async admit(
    model: string,
    state: ModelState,
    { tenant, rank }: Caller,
    call: Abortable,
    deadlineAt: number | undefined,
    sharedKey?: string,
  ): Promise<TenantHold | undefined> {
    if (tenant === undefined || this.share >= 1 || !state.requests) return undefined;
    if (sharedKey !== undefined && this.#shared) {
      const shared = await this.#shared.take(sharedKey, tenant, state.requests.perMinute);
      if (shared) {
        const { hold, wait } = shared;
        const waits = fixedWaits(this.clock, { tenant: wait });
        const giveBack = () => hold.refund(1, this.clock.now());
        await waitForCapacity(state, { model, tenant, rank, waits, call, deadlineAt, giveBack }, this.waiting);
        return hold;
      }
    }
    const now = this.clock.now();
    const bucket = this.#local.bucketFor(model, tenant, state.requests, now);
    if (!bucket) return undefined;
    // Its turn among the tenant's waiting calls, by class (`undefined`: it goes at once).
    const turn = this.#local.reserve(bucket, rank, now);
    if (!turn) return bucket;
    const waits = () => ({ tenant: turn.wait(this.clock.now()) });
    const giveBack = () => bucket.refund(1, this.clock.now());
    let served = false;
    try {
      await waitForCapacity(state, { model, tenant, rank, waits, call, deadlineAt, giveBack }, this.waiting);
      served = true;
    } finally {
      turn.leave(served);
    }
    return bucket;
  }
}
