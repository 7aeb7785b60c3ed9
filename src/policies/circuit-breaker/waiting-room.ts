import type { Abortable } from '../../core/abort-scope.js';
import type { Clock } from '../../core/clock.js';
import { Verdict } from '../verdict.js';
import type { Admission, Refusal } from './circuit.js';

/** A refusal, and (for a probe running in another process) when to ask the shared state again. */
export interface Refused extends Refusal {
  readonly recheckAt?: number | undefined;
}

/** How long a refused call may wait for its circuit (see `CircuitBreakers.admit`). */
export interface ProbeWait {
  /** Only a probe due by then (epoch ms) is waited for: its turn, then its verdict. */
  readonly dueBy: number;
  /** The call's deadline (epoch ms): a probe due at or after it is not waited for. */
  readonly deadlineAt: number | undefined;
  /** The call: its abort (its caller's, its deadline) ends the wait with its reason. */
  readonly call: Abortable;
  /** Its traffic class's rank (`classRank`; default 1, `default`): a higher class waiting looks first. */
  readonly rank?: number | undefined;
}

/** Whether a refused call may wait: for a probe running now, or for one due in time. */
export function mayWait(refused: Refused, wait: ProbeWait | undefined): wait is ProbeWait {
  if (!wait || wait.call.aborted) return false;
  if (refused.probing) return true;
  return refused.retryAt <= wait.dueBy && (wait.deadlineAt === undefined || refused.retryAt < wait.deadlineAt);
}

/**
 * The calls waiting for one circuit to let them through. They wait for its next turn: a change of the
 * circuit (a probe's verdict, a reopening, a probe's place freed), or the moment it lets a probe through
 * again (one timer for all of them, set only while someone waits). Each turn, the waiters look again in
 * the order they came, higher traffic classes first (a call leaves its look to the next turn while a call
 * of a higher class waits too): the first one the circuit admits is its probe, and the others wait for the
 * next turn. Nothing is sent by the room itself.
 */
export class WaitingRoom {
  /** Calls waiting now. */
  count = 0;
  /**
   * Another process holds the shared probe lease: only one waiting call asks the shared state again at a
   * time (`asking`), for all of them, instead of each one.
   */
  probingElsewhere = false;
  asking = false;
  /** Waiting calls per class rank. */
  readonly #ranks: number[] = [];
  /** A call left its look to a higher class: the next one to leave starts a turn. */
  #deferred = false;
  #turn: Verdict | undefined;
  #timer: unknown;
  #wakeAt = Number.POSITIVE_INFINITY;

  constructor(private readonly clock: Clock) {}

  /**
   * Waits for the next turn: the circuit changes, or `at` comes (epoch ms, when given and still ahead).
   * Rejects with the abort reason of `signal`.
   */
  async next(signal: AbortSignal, at: number | undefined): Promise<void> {
    if (at !== undefined && at > this.clock.now()) this.wakeAt(at);
    this.#turn ??= new Verdict();
    await this.#turn.wait(this.clock, signal, undefined);
  }

  /** Ends the turn: every waiter looks again. */
  wake(): void {
    this.#clearTimer();
    const turn = this.#turn;
    this.#turn = undefined;
    turn?.finish();
  }

  /** Ends the turn at `at` (epoch ms) at the latest. */
  wakeAt(at: number): void {
    if (at >= this.#wakeAt) return;
    this.#clearTimer();
    this.#wakeAt = at;
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#wakeAt = Number.POSITIVE_INFINITY;
      this.wake();
    }, Math.max(0, at - this.clock.now()));
  }

  /** A waiter of class `rank` comes in. */
  enter(rank: number): void {
    this.count++;
    this.#ranks[rank] = (this.#ranks[rank] ?? 0) + 1;
  }

  /**
   * Whether a call of a higher class than `rank` waits too: this call then leaves its look to it, and
   * looks again at the turn after it leaves.
   */
  defers(rank: number): boolean {
    const outranked = this.#ranks.slice(0, rank).some((count) => count > 0);
    if (outranked) this.#deferred = true;
    return outranked;
  }

  /** One waiter (of class `rank`) leaves; the last one takes the timer with it; those that deferred to it look again. */
  leave(rank = 1): void {
    this.count--;
    this.#ranks[rank] = (this.#ranks[rank] ?? 1) - 1;
    if (this.count === 0) this.#clearTimer();
    if (this.#deferred && this.count > 0) {
      this.#deferred = false;
      this.wake();
    }
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeAt = Number.POSITIVE_INFINITY;
  }
}

/** What {@link waitInRoom} asks of the breaker. */
export interface Doorkeeper {
  /** Asks the circuit (and the shared one) again. */
  readonly admit: () => Admission | Refused | Promise<Admission | Refused>;
  /** The error a call refused for good fails with. */
  readonly refusal: (refused: Refused) => Error;
}

/**
 * Waits in `room`, from a first refusal, until the circuit admits the call (resolves with its admission),
 * no probe it may wait for is left (rejects with the refusal), or the call is aborted (rejects with its
 * reason). Each turn it asks the circuit again, except while another process probes and another waiting
 * call is already asking the shared state for everyone.
 */
export async function waitInRoom(room: WaitingRoom, clock: Clock, wait: ProbeWait, refused: Refused, door: Doorkeeper): Promise<Admission> {
  const rank = wait.rank ?? 1;
  room.enter(rank);
  if (refused.recheckAt !== undefined) room.probingElsewhere = true;
  try {
    for (;;) {
      // Until the next change; a probe's turn (open), or the shared state's next answer (probing elsewhere).
      await room.next(wait.call.signal, refused.probing ? refused.recheckAt : refused.retryAt);
      // Woken at its deadline (another call's end, at the same instant): it is not sent; its abort comes now.
      if (wait.deadlineAt !== undefined && clock.now() >= wait.deadlineAt) {
        refused = { retryAt: refused.retryAt, probing: true };
        continue;
      }
      // A higher class waits too: it looks first (it becomes the probe); this call looks once it has left.
      if (room.defers(rank)) {
        refused = { retryAt: refused.retryAt, probing: true };
        continue;
      }
      const outcome = room.probingElsewhere ? await askForAll(room, door) : await door.admit();
      if (outcome === undefined) {
        // Another waiting call is asking: its answer (or its next look) is this call's next turn.
        refused = { retryAt: refused.retryAt, probing: true };
        continue;
      }
      if (!('retryAt' in outcome)) return outcome;
      refused = outcome;
      if (!mayWait(refused, wait)) throw door.refusal(refused);
    }
  } finally {
    room.leave(rank);
  }
}

/** One waiting call asks for all while another process probes; `undefined` when another one is asking. */
async function askForAll(room: WaitingRoom, door: Doorkeeper): Promise<Admission | Refused | undefined> {
  if (room.asking) return undefined;
  room.asking = true;
  let outcome: Admission | Refused;
  try {
    outcome = await door.admit();
  } finally {
    room.asking = false;
  }
  // The answer changed (closed, this process probes, reopened): the others look again.
  if (!room.probingElsewhere) room.wake();
  return outcome;
}
