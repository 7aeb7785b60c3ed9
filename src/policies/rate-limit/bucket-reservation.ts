import type { Abortable } from '../../core/abort-scope.js';
import { longest, waitForCapacity, type WaitContext, type Waits } from './capacity-wait.js';
import type { ModelState, Place, Places } from './model-state.js';
import type { Reservation } from './reservation.js';
import type { TokenBucket } from './token-bucket.js';

/** One call's reservation in this process's buckets of a model. */
export interface BucketRequest {
  readonly model: string;
  readonly state: ModelState;
  /** Its token estimate (0 when no token limit is known). */
  readonly tokens: number;
  readonly tenantBucket: TokenBucket | undefined;
  readonly probe: boolean;
  readonly tenant: string | undefined;
  readonly call: Abortable;
  readonly deadlineAt: number | undefined;
  /** Gives back a reservation that will not be sent (the limiter's `cancel`). */
  readonly cancel: (reservation: Reservation) => void;
}

/**
 * Takes one request and `tokens` from the model's buckets and waits for its turn: at once when they cover
 * it (nothing is set up for a wait then), otherwise until they do, woken early when capacity comes before
 * the refill would bring it (see `WakeList`). On refusal or abort the reservation is given back and the
 * calls behind it move up. `onReserved` sees the reservation before any wait (a probe owns it).
 */
export async function reserveInBuckets(request: BucketRequest, context: WaitContext, onReserved: (reservation: Reservation) => void): Promise<Reservation> {
  const { model, state, tokens, tenantBucket, probe } = request;
  const { clock } = context;
  const now = clock.now();
  const places: Places = {};
  if (state.requests) places.requests = { bucket: state.requests, ticket: state.requests.reserve(1, now) };
  if (state.tokens) places.tokens = { bucket: state.tokens, ticket: state.tokens.reserve(tokens, now) };
  const reservation: Reservation = { model, tokens: state.tokens ? tokens : 0, tenantBucket, probe, places };
  onReserved(reservation);
  const { requests, tokens: tokenPlace } = places;
  const covered = (place: Place | undefined) => !place || place.bucket.waitFor(place.ticket, now) === 0;
  if (state.pausedUntil > now || !covered(requests) || !covered(tokenPlace)) await waitForTurn(request, reservation, places, context);
  const admittedAt = clock.now();
  requests?.bucket.admitted(requests.ticket, admittedAt);
  tokenPlace?.bucket.admitted(tokenPlace.ticket, admittedAt);
  reservation.admitted = true;
  return reservation;
}

/** Waits until the buckets cover `places`; gives them back on refusal or abort. */
async function waitForTurn(request: BucketRequest, reservation: Reservation, places: Places, context: WaitContext): Promise<void> {
  const { state, tenant, call, deadlineAt } = request;
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
  const wakeups = { list: state.wakeups, turn: state.wakeups.nextTurn(), remaining: () => longest(waits()) };
  const giveBack = () => request.cancel(reservation);
  await waitForCapacity(state, { model: reservation.model, tenant, waits, soonest, call, deadlineAt, giveBack, wakeups }, context);
}
