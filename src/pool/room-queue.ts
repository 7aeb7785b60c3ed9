import type { Clock } from '../core/clock.js';

/** One call waiting for a pool member to be ready. */
interface RoomWaiter {
  /** Its traffic class's rank (`classRank`: 0 is the highest). */
  readonly rank: number;
  /** Its arrival order, kept while it waits again (smaller waited longer). */
  readonly seq: number;
  readonly wake: () => void;
}

/**
 * The calls of a pool waiting for a member to be ready: one with room (every member serving their model
 * full), or one whose circuit lets a probe through or whose pause ends. Each time something frees up (an
 * attempt ends, or a waiter's ready time comes) every waiter looks again, highest traffic class first and
 * in arrival order within a class: the first that a member can take gets it, the others wait again.
 *
 * Anti-starvation (`pool.lowerClassEvery`): while a lower class waits and higher classes keep taking what
 * frees up, every `lowerClassEvery`-th time the lower classes' longest waiter looks first. A lower class
 * so keeps at least `1 / lowerClassEvery` of the room that frees up under contention (when a member can
 * take it), and a higher class gives up at most that much. Nothing is allocated while nobody waits.
 */
export class RoomQueue {
  #waiters: RoomWaiter[] = [];
  #seq = 0;
  /** Times in a row a higher class took what freed up while a lower one looked too. */
  #higherInARow = 0;
  /** The lowest class (highest rank) of the waiters last woken, until one of them is served. */
  #lowestWoken: number | undefined;

  constructor(private readonly lowerClassEvery: number) {}

  get size(): number {
    return this.#waiters.length;
  }

  /** A call's place in arrival order, kept for all its waits. */
  nextSeq(): number {
    return this.#seq++;
  }

  /**
   * Waits until every waiter looks again (see {@link wakeAll}), at most `ms`. When `ms` passes: with
   * `wakesAll` (the time a member is ready), every waiter looks again, in order; otherwise the call alone
   * (its patience is over). Rejects with the abort reason of `signal`.
   */
  wait(clock: Clock, ms: number, signal: AbortSignal, rank: number, seq: number, wakesAll: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const end = () => {
        this.#remove(waiter);
        clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: RoomWaiter = {
        rank,
        seq,
        wake: () => {
          end();
          resolve();
        },
      };
      const onAbort = () => {
        end();
        reject(signal.reason);
      };
      const onTime = () => {
        if (wakesAll) this.wakeAll();
        else waiter.wake();
      };
      const timer = Number.isFinite(ms) ? clock.setTimeout(onTime, Math.max(0, ms)) : undefined;
      this.#add(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Something freed up: every waiter looks again, highest class first (see the class for the exception). */
  wakeAll(): void {
    if (this.#waiters.length === 0) return;
    const order = [...this.#waiters].sort((a, b) => a.rank - b.rank || a.seq - b.seq);
    const top = order[0]!.rank;
    const lowest = order.at(-1)!.rank;
    if (lowest > top && this.#higherInARow + 1 >= this.lowerClassEvery) {
      // The lower classes' longest waiter looks first.
      let oldest = order.findIndex((waiter) => waiter.rank > top);
      for (let index = oldest + 1; index < order.length; index++) if (order[index]!.seq < order[oldest]!.seq) oldest = index;
      order.unshift(...order.splice(oldest, 1));
    }
    this.#lowestWoken = lowest > top ? lowest : undefined;
    // Woken in this order, they look again in this order (their promises resolve in turn).
    for (const waiter of order) waiter.wake();
  }

  /** A waiter of class `rank` that had been woken got a member: counts for the anti-starvation rule. */
  served(rank: number): void {
    const lowest = this.#lowestWoken;
    this.#lowestWoken = undefined;
    if (lowest === undefined) return;
    if (rank < lowest) this.#higherInARow++;
    else this.#higherInARow = 0;
  }

  #add(waiter: RoomWaiter): void {
    const waiters = this.#waiters;
    let index = waiters.length;
    while (index > 0 && waiters[index - 1]!.seq > waiter.seq) index--;
    waiters.splice(index, 0, waiter);
  }

  #remove(waiter: RoomWaiter): void {
    const at = this.#waiters.indexOf(waiter);
    if (at >= 0) this.#waiters.splice(at, 1);
  }
}
