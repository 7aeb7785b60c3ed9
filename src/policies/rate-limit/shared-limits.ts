import type { Abortable } from '../../core/abort-scope.js';
import type { Clock } from '../../core/clock.js';
import type { LearnedLimits, SharedAnswer, SharedRateAnswer } from '../../shared/shared-backend.js';
import type { SharedLink } from '../../shared/shared-link.js';
import { fixedWaits, waitForCapacity, type WaitContext, type Waits } from './capacity-wait.js';
import type { ModelLimits, ModelState } from './model-state.js';
import type { Reservation } from './reservation.js';
import type { TokenBucket } from './token-bucket.js';

/** One call's reservation in the shared buckets. */
export interface SharedRequest {
  readonly model: string;
  readonly state: ModelState;
  readonly sharedKey: string;
  readonly tokens: number;
  readonly configured: ModelLimits;
  readonly tenantBucket: TokenBucket | undefined;
  readonly tenant: string | undefined;
  /** Its traffic class's rank (`classRank`). */
  readonly rank: number;
  readonly call: Abortable;
  readonly deadlineAt: number | undefined;
  /** Gives back a reservation that will not be sent (the limiter's `cancel`). */
  readonly cancel: (reservation: Reservation) => void;
}

/**
 * The rate limiter's side of the shared state (see `SharedBackend`): reservations in the shared buckets
 * and what is written back to them. Every operation may find the shared state unavailable: a reservation
 * then answers `undefined` (the caller decides on this process's buckets), writes are dropped.
 */
export class SharedLimits {
  constructor(
    private readonly link: SharedLink,
    private readonly clock: Clock,
    private readonly waiting: WaitContext,
    private readonly maxPause: number,
  ) {}

  /**
   * Reserves one request of `tokens` in the shared buckets and waits until it is covered; `undefined` when
   * the shared state did not answer (nothing was reserved there). While a pause cut short awaits its probe
   * (another call's), asks again after the wait it gives.
   */
  async acquire(request: SharedRequest): Promise<Reservation | undefined> {
    const { model, state, sharedKey, tokens, configured, tenantBucket, tenant, rank, call, deadlineAt } = request;
    for (;;) {
      // What this process hears of capacity while the reservation is on its way must not be lost on it.
      const seen = state.wakeups.notices;
      const answer = await this.link.run('rateReserve', (backend) => backend.rateReserve(sharedKey, tokens, configured, this.maxPause));
      if (!answer) return undefined;
      if (answer.reason !== 'probing') return this.#wait(request, answer, seen);
      // Nothing was taken: a cut-short pause is still on, or another call is its probe. Ask again after the wait.
      const giveBack = () => tenantBucket?.refund(1, this.clock.now());
      const waits = fixedWaits(this.clock, { paused: Math.max(1, answer.wait) });
      await waitForCapacity(state, { model, tenant, rank, waits, call, deadlineAt, giveBack }, this.waiting);
    }
  }

  /**
   * The shared buckets took the reservation (`answer` says how long until it is covered). While it waits
   * it asks the shared state again (`rateCheck`) when its time comes, or when this process heard of
   * capacity come early, so pauses, answers and finer pacing of every process are followed; it then
   * lets the next shared waiter of this process look too.
   */
  async #wait(request: SharedRequest, answer: SharedRateAnswer, seen: number): Promise<Reservation> {
    const { model, state, sharedKey, configured, tenantBucket, tenant, rank, call, deadlineAt } = request;
    const { places } = answer;
    const reservation: Reservation = {
      model, tokens: answer.tokensLimited ? request.tokens : 0, tenantBucket, probe: answer.probe === true, sharedKey, sharedPlaces: places,
      sharedMarks: answer.marks,
    };
    const asks = places !== undefined && typeof this.link.backend.rateCheck === 'function';
    let told = fixedWaits(this.clock, sharedWaits(answer));
    let soonestAt = this.clock.now() + (answer.soonest ?? answer.wait);
    let first = true;
    const waits = async (): Promise<Waits> => {
      if (!first && asks) {
        const checked = await this.link.run('rateCheck', (backend) => backend.rateCheck!(sharedKey, places, reservation.tokens, configured, this.maxPause));
        if (checked) {
          told = fixedWaits(this.clock, sharedWaits(checked));
          soonestAt = this.clock.now() + (checked.soonest ?? checked.wait);
          reservation.sharedMarks = checked.marks;
        }
      }
      first = false;
      const now = told();
      return { ...now, paused: Math.max(now.paused ?? 0, state.pausedUntil - this.clock.now()) };
    };
    const wakeups = asks ? { list: state.wakeups, turn: state.wakeups.nextTurn(), remaining: undefined, seen } : undefined;
    const giveBack = () => request.cancel(reservation);
    // (Only a backend that is asked again can let capacity come before the wait it gave.)
    const soonest = asks ? () => Math.max(0, soonestAt - this.clock.now(), state.pausedUntil - this.clock.now()) : undefined;
    const waited = await waitForCapacity(state, { model, tenant, rank, waits, soonest, call, deadlineAt, giveBack, wakeups }, this.waiting);
    reservation.admitted = true;
    if (waited && wakeups) state.wakeups.notify();
    return reservation;
  }

  /** Gives back a shared reservation whose request was never sent (`sent`: refused after it went). */
  cancel(reservation: Reservation, sharedKey: string, configured: ModelLimits, sent: boolean): void {
    this.link.send('rateAdjust', (backend) => backend.rateAdjust(sharedKey, 1, reservation.tokens, configured, false, sent));
  }

  /** Corrects a shared reservation's token estimate with its `usage`. */
  settle(reservation: Reservation, sharedKey: string, usedTokens: number, configured: ModelLimits): void {
    const overestimate = reservation.tokens - usedTokens;
    if (overestimate !== 0) this.link.send('rateAdjust', (backend) => backend.rateAdjust(sharedKey, 0, overestimate, configured, true));
  }

  /**
   * Writes what the headers said (with `answer`, read against the reservation's places); then this
   * process's shared waiters of `state` look whether capacity came early for them.
   */
  learn(state: ModelState, sharedKey: string, learned: LearnedLimits, configured: ModelLimits, answer: SharedAnswer | undefined): void {
    void this.link.run('rateLearn', (backend) => backend.rateLearn(sharedKey, learned, configured, answer)).then(() => state.wakeups.notify());
  }

  /** A shared reservation's request is over without an answer read against it (no headers): no longer in flight. */
  ended(sharedKey: string, configured: ModelLimits, answer: SharedAnswer): void {
    this.link.send('rateLearn', (backend) => backend.rateLearn(sharedKey, {}, configured, answer));
  }

  pause(sharedKey: string, ms: number, configured: ModelLimits, cutShort: boolean): void {
    this.link.send('ratePause', (backend) => backend.ratePause(sharedKey, ms, configured, cutShort));
  }

  probeEnd(sharedKey: string, succeeded: boolean): void {
    this.link.send('rateProbeEnd', async (backend) => backend.rateProbeEnd?.(sharedKey, succeeded));
  }
}

/** What a shared answer holds the call for, as waits from now. */
function sharedWaits(answer: SharedRateAnswer): Waits {
  return {
    paused: answer.reason === 'paused' ? answer.wait : 0,
    requests: answer.reason === 'requests' ? answer.wait : 0,
    tokens: answer.reason === 'tokens' ? answer.wait : 0,
  };
}
