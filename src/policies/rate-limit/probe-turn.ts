import { RateLimitTimeoutError } from '../../errors/rate-limit-timeout-error.js';
import type { Abortable } from '../../core/abort-scope.js';
import { waitForCapacity, type ModelQueue, type WaitContext } from './capacity-wait.js';
import { ModelProbe, PROBE_WAIT, type ProbeReason } from './model-probe.js';
import { Verdict } from '../verdict.js';

/** The part of a model's rate-limit state that probes use. */
export interface ProbedModel extends ModelQueue {
  /** The call sent alone, whose verdict the others wait for. */
  probe?: ModelProbe | undefined;
  /** Per class rank, the calls waiting out a pause before their turn (made when one waits). */
  pauseRanks?: number[] | undefined;
  /** Lower-class calls whose pause ended first wait here for the higher classes to look (see {@link probeTurn}). */
  pauseLook?: Verdict | undefined;
}

/** One call's turn while its model's calls go one at a time. */
export interface ProbeTurn {
  readonly model: string;
  readonly tenant: string | undefined;
  readonly call: Abortable;
  readonly deadlineAt: number | undefined;
  /** Its traffic class's rank (`classRank`): higher classes go first. @default 1 (`default`) */
  readonly rank?: number | undefined;
  /** Why the model's calls go one at a time now; `undefined` once they no longer do. */
  readonly needed: () => ProbeReason | undefined;
}

const noop = () => undefined;

/**
 * Waits for this call's turn while `model`'s calls go one at a time (see {@link ProbeReason}): first out
 * any pause, so that no probe is ever sent during one; then the call becomes the probe (returned, for
 * its reservation to own), or waits for the verdict of the probe out and looks again: a verdict that
 * paused the model holds everyone until the pause ends, and the next probe goes first.
 *
 * Resolves `undefined` once the call may go as usual: nothing needs a probe any more, a learning
 * probe's verdict came without a pause, or a learning probe said nothing for {@link PROBE_WAIT} (a long
 * first call must not hold everyone). A pause probe's verdict is waited for: every attempt ends (its
 * timeouts bound it), and one that ends without an answer hands the probe to the next call. Rejects with
 * `RateLimitTimeoutError` when `maxQueued` calls wait already or the verdict does not come before the
 * deadline, and with the call's abort reason.
 */
export async function probeTurn(model: ProbedModel, turn: ProbeTurn, context: WaitContext): Promise<ModelProbe | undefined> {
  const { clock } = context;
  for (;;) {
    const reason = turn.needed();
    if (reason === undefined) {
      releaseLook(model);
      return undefined;
    }
    const now = clock.now();
    if (model.pausedUntil > now) {
      await waitOutPause(model, turn, context);
      continue;
    }
    const current = model.probe;
    if (!current || current.finished) {
      model.probe = new ModelProbe(reason);
      releaseLook(model);
      return model.probe;
    }
    releaseLook(model);
    const verdict = await waitForVerdict(model, current, turn, context);
    const paused = model.pausedUntil > clock.now();
    if (current.reason === 'learning' && (!verdict || !paused)) return undefined;
  }
}

/**
 * Waits out the model's pause. When it ends, the calls that waited look for their turn highest class
 * first (so the highest class waiting becomes the probe): one whose time came while a call of a higher
 * class still waits out the pause (its timer is due at the same moment) waits until that call has looked
 * ({@link releaseLook}), or left.
 */
async function waitOutPause(model: ProbedModel, turn: ProbeTurn, context: WaitContext): Promise<void> {
  const { clock } = context;
  const { model: name, tenant, call, deadlineAt } = turn;
  const rank = turn.rank ?? 1;
  // A pause extended meanwhile (another 429) is followed.
  const waits = () => ({ paused: Math.max(0, model.pausedUntil - clock.now()) });
  const ranks = (model.pauseRanks ??= []);
  ranks[rank] = (ranks[rank] ?? 0) + 1;
  let left = true;
  try {
    await waitForCapacity(model, { model: name, tenant, rank, call, deadlineAt, waits, giveBack: noop }, context);
    left = false;
  } finally {
    ranks[rank]!--;
    // Refused or aborted: it will not look; those waiting for it look again.
    if (left) releaseLook(model);
  }
  while (ranks.slice(0, rank).some((count) => count > 0)) {
    const bound = deadlineAt === undefined ? undefined : Math.max(0, deadlineAt - clock.now());
    // (At its deadline it stops waiting for them; its deadline is then enforced as usual.)
    if (!(await (model.pauseLook ??= new Verdict()).wait(clock, call.signal, bound, rank))) return;
  }
}

/** A call has taken its look after a pause (become the probe, or waits for one): those that waited for it look now. */
function releaseLook(model: ProbedModel): void {
  const look = model.pauseLook;
  if (!look) return;
  model.pauseLook = undefined;
  look.finish();
}

/**
 * Waits, counted among the model's waiting calls, for `probe`'s verdict; true when it came. At a full
 * queue a lower-class waiter gives way to it (see `WaitingSeats`), or it is refused. When the verdict
 * comes, the waiters go on highest class first (see `Verdict.wait`).
 */
async function waitForVerdict(model: ProbedModel, probe: ModelProbe, turn: ProbeTurn, context: WaitContext): Promise<boolean> {
  const { clock, maxQueued } = context;
  const now = clock.now();
  const rank = turn.rank ?? 1;
  if (model.seats.size >= maxQueued && !model.seats.shedFor(rank)) throw new RateLimitTimeoutError(turn.model, undefined);
  const patience = probe.reason === 'learning' ? PROBE_WAIT : Number.POSITIVE_INFINITY;
  const bound = turn.deadlineAt === undefined ? patience : Math.min(patience, turn.deadlineAt - now);
  const limit = Number.isFinite(bound) ? bound : undefined;
  const seat = model.seats.take(rank);
  // The wait ends on the call's abort, or when its seat goes to a higher class.
  const { signal } = turn.call;
  const stop = new AbortController();
  const forward = () => stop.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  seat.interrupt = (error) => stop.abort(error);
  let verdict: boolean;
  try {
    verdict = await probe.wait(clock, stop.signal, limit, rank);
  } finally {
    seat.interrupt = undefined;
    signal.removeEventListener('abort', forward);
    model.seats.leave(seat);
  }
  if (!verdict && probe.reason === 'pause' && turn.deadlineAt !== undefined && clock.now() >= turn.deadlineAt) {
    throw new RateLimitTimeoutError(turn.model, clock.now() - now);
  }
  return verdict;
}
