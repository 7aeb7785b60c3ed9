/** One call waiting for capacity that may come before its time. */
export interface Sleeper {
  /**
   * Its turn among the model's reservations (they are served in this order); it may grow while it sleeps
   * (a higher traffic class went ahead of it), never past another sleeper's.
   */
  readonly turn: number;
  /**
   * How long it still waits, as things stand now; `undefined` when only an asynchronous look can tell (a
   * shared reservation asks the shared state): it is then woken to look, and wakes the next one itself.
   */
  readonly remaining: (() => number) | undefined;
  /** Ends its sleep now: it looks again. */
  readonly wake: () => void;
  /** Its wait became `ms` from now: sleeps no longer than that. */
  readonly shorten: (ms: number) => void;
}

/**
 * The calls waiting for one model's capacity, in turn order, so that capacity that comes before a refill
 * would (a success that widens the burst, the server saying more is left, a reservation given back) is
 * used at once instead of at the times the calls computed when they went to sleep. Turns are served in
 * order: no call may go before the one ahead of it, so a notification wakes the calls that may go now,
 * in turn, and shortens the sleep of the first that may not (its successor's sleep is shortened when it
 * leaves): it costs the calls it wakes, plus one.
 */
export class WakeList {
  #sleepers: Sleeper[] = [];
  #turns = 0;
  #notices = 0;

  /**
   * How many notifications there have been: a call that looks at the shared state asynchronously notes it
   * before it looks, and looks again instead of sleeping if a notification came meanwhile (it was not in
   * the list to be woken, and its look may have read the state from before).
   */
  get notices(): number {
    return this.#notices;
  }

  /** The next reservation's turn. */
  nextTurn(): number {
    return this.#turns++;
  }

  /** Adds a sleeper; returns the function that removes it (idempotent). */
  add(sleeper: Sleeper): () => void {
    const sleepers = this.#sleepers;
    let index = sleepers.length;
    while (index > 0 && sleepers[index - 1]!.turn > sleeper.turn) index--;
    sleepers.splice(index, 0, sleeper);
    return () => {
      const at = this.#sleepers.indexOf(sleeper);
      if (at >= 0) this.#sleepers.splice(at, 1);
    };
  }

  /**
   * Capacity may have come early, or the first sleeper left: wakes those that may go, in turn, and
   * shortens the sleep of the first that may not yet.
   */
  notify(): void {
    this.#notices++;
    while (this.#sleepers.length > 0) {
      const head = this.#sleepers[0]!;
      const remaining = head.remaining?.();
      if (remaining !== undefined && remaining > 0) {
        head.shorten(remaining);
        return;
      }
      this.#sleepers.shift();
      head.wake();
      if (remaining === undefined) return;
    }
  }

  /** Wakes the sleeper of `turn`, if it sleeps: it looks again now (a call went ahead of it). */
  wakeTurn(turn: number): void {
    const at = this.#sleepers.findIndex((sleeper) => sleeper.turn === turn);
    if (at < 0) return;
    const [sleeper] = this.#sleepers.splice(at, 1);
    sleeper!.wake();
  }

  get size(): number {
    return this.#sleepers.length;
  }
}
