import { classOfRank } from '../../core/traffic-class.js';
import { LoadShedError } from '../../errors/load-shed-error.js';

/** One call counted among a model's waiting calls (`rateLimit.maxQueued` bounds them). */
export interface Seat {
  /** Its traffic class's rank (`classRank`: 0 is the highest). */
  readonly rank: number;
  /** Set when it gave way to a higher-class newcomer at the full queue: its wait ends with this error. */
  shed: LoadShedError | undefined;
  /** Ends its current sleep with an error (set while it sleeps). */
  interrupt: ((error: Error) => void) | undefined;
}

/**
 * The calls waiting for one model (for its buckets, a pause, a probe's verdict or a tenant's share), in
 * arrival order, each with its traffic class: what `rateLimit.maxQueued` counts, and who gives way when
 * the queue is full. A newcomer at a full queue takes the seat of the newest waiter of the lowest class
 * below its own (that waiter fails with `LoadShedError`, queue `rateLimit`): the newest has waited least,
 * the older ones keep their progress. A queue full of the newcomer's class or higher refuses the newcomer.
 */
export class WaitingSeats {
  readonly #seats: Seat[] = [];

  /** Calls waiting now. */
  get size(): number {
    return this.#seats.length;
  }

  /** A call of class `rank` starts waiting. */
  take(rank: number): Seat {
    const seat: Seat = { rank, shed: undefined, interrupt: undefined };
    this.#seats.push(seat);
    return seat;
  }

  /** `seat`'s call no longer waits (idempotent). */
  leave(seat: Seat): void {
    const at = this.#seats.indexOf(seat);
    if (at >= 0) this.#seats.splice(at, 1);
  }

  /**
   * A newcomer of class `rank` finds the queue full: the newest waiter of the lowest class below it gives
   * way (its seat is freed now, its wait fails with `LoadShedError`); false when every waiter is of class
   * `rank` or higher.
   */
  shedFor(rank: number): boolean {
    const seats = this.#seats;
    let victim = -1;
    for (let index = seats.length - 1; index >= 0; index--) {
      if (seats[index]!.rank > rank && (victim < 0 || seats[index]!.rank > seats[victim]!.rank)) victim = index;
    }
    if (victim < 0) return false;
    const [seat] = seats.splice(victim, 1);
    seat!.shed = new LoadShedError(classOfRank(seat!.rank), classOfRank(rank), 'rateLimit');
    seat!.interrupt?.(seat!.shed);
    return true;
  }
}
