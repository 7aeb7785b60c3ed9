import type { Abortable } from '../../core/abort-scope.js';
import type { Clock } from '../../core/clock.js';
import type { LearnedLimits, SharedAnswer, SharedMarks, SharedPlaces, SharedRateAnswer } from '../../shared/shared-backend.js';
import type { SharedLink } from '../../shared/shared-link.js';
import { fixedWaits, longest, waitForCapacity, type WaitContext, type Waits } from './capacity-wait.js';
import { ClassLine } from './class-line.js';
import type { ModelLimits, ModelState } from './model-state.js';
import type { Reservation } from './reservation.js';
import type { TenantHold } from './tenant-shares.js';

/** One call's reservation in the shared buckets. */
export interface SharedRequest {
  readonly model: string;
  readonly state: ModelState;
  readonly sharedKey: string;
  readonly tokens: number;
  readonly configured: ModelLimits;
  readonly tenantBucket: TenantHold | undefined;
  readonly tenant: string | undefined;
  /** Its traffic class's rank (`classRank`). */
  readonly rank: number;
  readonly call: Abortable;
  readonly deadlineAt: number | undefined;
  /** Gives back a reservation that will not be sent (the limiter's `cancel`). */
  readonly cancel: (reservation: Reservation) => void;
}

/**
 * One reservation in the shared buckets, held by a waiting call of this process: where it was taken,
 * what the shared state last said of it, and its turn in this process's wake list. A call of a higher
 * class that must wait takes the earliest of them held by lower classes; the shared state sees the same
 * reservations, only their owners in this process change.
 */
interface SharedTicket {
  readonly places: SharedPlaces | undefined;
  /** The tokens it reserved (0 when no token limit applied). */
  readonly tokens: number;
  marks: SharedMarks | undefined;
  readonly turn: number | undefined;
  /** How long each limit holds it from now, as the shared state last said. */
  told: () => Waits;
  /** The soonest it may be covered (epoch ms). */
  soonestAt: number;
  /** When it is covered, as last said (epoch ms): the order in which tickets are handed out. */
  readyAt: number;
}

/** A call of this process waiting for shared capacity, in its key's line. */
interface SharedWaiter {
  ticket: SharedTicket;
  /** Whether its ticket may still go to a call of a higher class (not once covered, nor a probe's). */
  movable: boolean;
}

/**
 * The rate limiter's side of the shared state (see `SharedBackend`): reservations in the shared buckets
 * and what is written back to them. Every operation may find the shared state unavailable: a reservation
 * then answers `undefined` (the caller decides on this process's buckets), writes are dropped.
 */
export class SharedLimits {
  /** Per shared key, this process's calls waiting for it, by class (only while some wait). */
  readonly #lines = new Map<string, ClassLine<SharedWaiter>>();

  /** @param allowed per class rank, how many calls in a row may go ahead of that class (see `jumpsAllowed`) */
  constructor(
    private readonly link: SharedLink,
    private readonly clock: Clock,
    private readonly waiting: WaitContext,
    private readonly maxPause: number,
    private readonly allowed: (rank: number) => number = () => Number.POSITIVE_INFINITY,
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
   *
   * Within this process, the shared waiters of a key are ordered by traffic class (see `ClassLine`): a
   * call that must wait takes the earliest reservation among the waiting calls of lower classes it may
   * pass, which take the later ones in turn (see {@link SharedTicket}). The shared buckets see the same
   * reservations, so nothing changes for other processes.
   */
  async #wait(request: SharedRequest, answer: SharedRateAnswer, seen: number): Promise<Reservation> {
    const { model, state, sharedKey, configured, tenantBucket, tenant, rank, call, deadlineAt } = request;
    const asks = answer.places !== undefined && typeof this.link.backend.rateCheck === 'function';
    const ticket = this.#ticket(answer, request.tokens, asks ? state.wakeups.nextTurn() : undefined);
    const waiter: SharedWaiter = { ticket, movable: answer.wait > 0 && answer.probe !== true };
    let first = true;
    const waits = async (): Promise<Waits> => {
      const asked = waiter.ticket;
      if (!first && asks) {
        const checked = await this.link.run('rateCheck', (backend) => backend.rateCheck!(sharedKey, asked.places!, asked.tokens, configured, this.maxPause));
        // (Written to the reservation it was asked for: a call of a higher class may have taken it meanwhile.)
        if (checked) this.#told(asked, checked);
      }
      first = false;
      const now = waiter.ticket.told();
      const result = { ...now, paused: Math.max(now.paused ?? 0, state.pausedUntil - this.clock.now()) };
      // Its reservation is covered: it is this call's from now on.
      if (longest(result) === 0) waiter.movable = false;
      return result;
    };
    const reservationOf = (held: SharedTicket): Reservation => ({
      model, tokens: held.tokens, tenantBucket, probe: answer.probe === true, sharedKey, sharedPlaces: held.places, sharedMarks: held.marks,
    });
    const wakeups = asks ? {
      list: state.wakeups,
      get turn() {
        return waiter.ticket.turn!;
      },
      remaining: undefined,
      seen,
    } : undefined;
    const giveBack = () => request.cancel(reservationOf(waiter.ticket));
    // (Only a backend that is asked again can let capacity come before the wait it gave.)
    const soonest = asks ? () => Math.max(0, waiter.ticket.soonestAt - this.clock.now(), state.pausedUntil - this.clock.now()) : undefined;
    const leave = waiter.movable ? this.#joinLine(sharedKey, rank, waiter) : undefined;
    let waited: boolean;
    let served = false;
    try {
      waited = await waitForCapacity(state, { model, tenant, rank, waits, soonest, call, deadlineAt, giveBack, wakeups }, this.waiting);
      served = true;
    } finally {
      waiter.movable = false;
      leave?.(served);
    }
    const reservation = reservationOf(waiter.ticket);
    reservation.admitted = true;
    if (waited && wakeups) state.wakeups.notify();
    return reservation;
  }

  /** A reservation the shared state gave, as a ticket that may move between this process's waiters. */
  #ticket(answer: SharedRateAnswer, requested: number, turn: number | undefined): SharedTicket {
    const ticket: SharedTicket = {
      places: answer.places, tokens: answer.tokensLimited ? requested : 0, marks: answer.marks, turn,
      told: () => ({}), soonestAt: 0, readyAt: 0,
    };
    this.#told(ticket, answer);
    return ticket;
  }

  /** What the shared state said of `ticket`'s reservation now. */
  #told(ticket: SharedTicket, answer: SharedRateAnswer): void {
    const now = this.clock.now();
    ticket.told = fixedWaits(this.clock, sharedWaits(answer));
    ticket.soonestAt = now + (answer.soonest ?? answer.wait);
    ticket.readyAt = now + answer.wait;
    ticket.marks = answer.marks;
  }

  /**
   * Puts a waiting call of class `rank` in this process's line for `sharedKey`: ahead of the waiting calls
   * of lower classes it may pass, taking the earliest of their reservations (they take the later ones, in
   * their order). Returns how it leaves the line.
   */
  #joinLine(sharedKey: string, rank: number, waiter: SharedWaiter): (served: boolean) => void {
    let line = this.#lines.get(sharedKey);
    if (!line) this.#lines.set(sharedKey, (line = new ClassLine(this.allowed)));
    const spot = line.spot(rank);
    const entry = line.join(rank, waiter, spot, () => 0);
    if (spot.before) {
      const moved = [entry, ...spot.jumped].filter((each) => each.item.movable);
      const tickets = moved.map((each) => each.item.ticket).sort((a, b) => a.readyAt - b.readyAt);
      moved.forEach((each, index) => (each.item.ticket = tickets[index]!));
    }
    const owner = line;
    return (served) => {
      owner.leave(entry, served);
      if (owner.size === 0 && this.#lines.get(sharedKey) === owner) this.#lines.delete(sharedKey);
    };
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
