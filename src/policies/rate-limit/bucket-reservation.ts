import type { Abortable } from '../../core/abort-scope.js';
import { longest, waitForCapacity, type WaitContext, type Waits } from './capacity-wait.js';
import type { Spot } from './class-line.js';
import type { LineItem, ModelState, Place, Places } from './model-state.js';
import type { Reservation } from './reservation.js';
import type { TenantHold } from './tenant-shares.js';

/** One call's reservation in this process's buckets of a model. */
export interface BucketRequest {
  readonly model: string;
  readonly state: ModelState;
  /** Its token estimate (0 when no token limit is known). */
  readonly tokens: number;
  readonly tenantBucket: TenantHold | undefined;
  readonly probe: boolean;
  /** Its traffic class's rank (`classRank`): it goes ahead of the waiting calls of lower classes (see `ClassLine`). */
  readonly rank: number;
  readonly tenant: string | undefined;
  readonly call: Abortable;
  readonly deadlineAt: number | undefined;
  /** Gives back a reservation that will not be sent (the limiter's `cancel`). */
  readonly cancel: (reservation: Reservation) => void;
}

/**
 * Takes one request and `tokens` from the model's buckets and waits for its turn: at once when they cover
 * it (nothing is set up for a wait then), otherwise until they do, woken early when capacity comes before
 * the refill would bring it (see `WakeList`). It takes its place ahead of the waiting calls of lower
 * traffic classes (see `ClassLine`). On refusal or abort the reservation is given back and the calls
 * behind it move up. `onReserved` sees the reservation before any wait (a probe owns it).
 */
export async function reserveInBuckets(request: BucketRequest, context: WaitContext, onReserved: (reservation: Reservation) => void): Promise<Reservation> {
  const { model, state, tokens, tenantBucket, probe } = request;
  const { clock } = context;
  const now = clock.now();
  const spot = state.line.spot(request.rank);
  const ahead = spot.before?.item.places;
  const take = (place: Place | undefined, bucket: Place['bucket'], amount: number) =>
    place?.bucket === bucket ? bucket.reserveBefore(place.ticket, amount, now) : bucket.reserve(amount, now);
  const places: Places = {};
  if (state.requests) places.requests = { bucket: state.requests, ticket: take(ahead?.requests, state.requests, 1) };
  if (state.tokens) places.tokens = { bucket: state.tokens, ticket: take(ahead?.tokens, state.tokens, tokens) };
  const reservation: Reservation = { model, tokens: state.tokens ? tokens : 0, tenantBucket, probe, places };
  onReserved(reservation);
  const { requests, tokens: tokenPlace } = places;
  const covered = (place: Place | undefined) => !place || place.bucket.waitFor(place.ticket, now) === 0;
  if (state.pausedUntil > now || !covered(requests) || !covered(tokenPlace)) await waitForTurn(request, reservation, places, spot, context);
  const admittedAt = clock.now();
  requests?.bucket.admitted(requests.ticket, admittedAt);
  tokenPlace?.bucket.admitted(tokenPlace.ticket, admittedAt);
  reservation.admitted = true;
  return reservation;
}

/** Waits in the model's line until the buckets cover `places`; gives them back on refusal or abort. */
async function waitForTurn(request: BucketRequest, reservation: Reservation, places: Places, spot: Spot<LineItem>, context: WaitContext): Promise<void> {
  const { state, tenant, rank, call, deadlineAt } = request;
  const { clock } = context;
  const { requests, tokens } = places;
  requests?.bucket.waiting(requests.ticket);
  tokens?.bucket.waiting(tokens.ticket);
  const waits = (): Waits => {
    const at = clock.now();
    return {
      paused: Math.max(0, state.pausedUntil - at),
      requests: requests ? requests.bucket.waitFor(requests.ticket, at) : 0,
      tokens: tokens ? tokens.bucket.waitFor(tokens.ticket, at) : 0,
    };
  };
  const soonest = () => {
    const at = clock.now();
    const server = (place: Place | undefined) => (place ? place.bucket.soonest(place.ticket, at) : 0);
    return Math.max(0, state.pausedUntil - at, server(requests), server(tokens));
  };
  const missesDeadline = () => deadlineAt !== undefined && clock.now() + Math.min(longest(waits()), soonest()) >= deadlineAt;
  // A call that can no longer meet its deadline because a higher class went ahead gives way at once.
  const recheck = () => {
    if (missesDeadline()) state.wakeups.wakeTurn(entry.order);
  };
  const entry = state.line.join(request.rank, { places, recheck }, spot, () => state.wakeups.nextTurn());
  const wakeups = {
    list: state.wakeups,
    get turn() {
      return entry.order;
    },
    remaining: () => longest(waits()),
  };
  const giveBack = () => {
    // Out of the line first: no newcomer takes the place of a reservation given back.
    state.line.leave(entry, false);
    request.cancel(reservation);
  };
  // The calls this one went ahead of look at their deadlines once it is sure to wait (not refused for its own).
  if (spot.before && !missesDeadline()) for (const passed of spot.jumped) passed.item.recheck();
  let served = false;
  try {
    await waitForCapacity(state, { model: reservation.model, tenant, rank, waits, soonest, call, deadlineAt, giveBack, wakeups }, context);
    served = true;
  } finally {
    state.line.leave(entry, served);
  }
}
