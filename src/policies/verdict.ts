import { AbortScope, sleep } from '../core/abort-scope.js';
import type { Clock } from '../core/clock.js';

/**
 * Something calls wait for and that happens once: one call sent alone while the others wait for what it
 * says (the rate limiter's probe after a pause, a circuit's half-open probe), or the next change of a
 * circuit. `finish()` gives the verdict; every `wait()` then resolves.
 */
export class Verdict {
  readonly #done: Promise<void>;
  #resolve!: () => void;
  /** Per class rank, what the waiters of that class await (made when one waits): given highest class first. */
  #ranked: { promise: Promise<void>; resolve: () => void }[] | undefined;
  #finished = false;

  constructor() {
    this.#done = new Promise<void>((resolve) => (this.#resolve = resolve));
  }

  get finished(): boolean {
    return this.#finished;
  }

  finish(): void {
    this.#finished = true;
    // Waiters resume in the order their promises resolve: the highest class first, then the others.
    if (this.#ranked) for (const ranked of this.#ranked) ranked?.resolve();
    this.#resolve();
  }

  /**
   * Waits for the verdict, at most `ms` when given; true when it came. Rejects with the abort reason when
   * `signal` aborts first. A verdict that arrived in time but was not read yet (a busy event loop runs the
   * due timer before the socket's data) still counts: before saying no, the wait lets pending I/O run once.
   * With `rank` (a traffic class's `classRank`), the waiters resume by class when the verdict comes, the
   * highest first (in arrival order within a class), and before those that gave none.
   */
  async wait(clock: Clock, signal: AbortSignal, ms: number | undefined, rank?: number): Promise<boolean> {
    if (!this.#finished) {
      const done = rank === undefined ? this.#done : this.#rankedDone(rank);
      const scope = new AbortScope(clock, [signal]);
      const limit = new Promise<void>((resolve, reject) => {
        if (ms === undefined) scope.signal.addEventListener('abort', () => reject(scope.reason as Error), { once: true });
        else sleep(clock, Math.max(0, ms), scope.signal).then(resolve, reject);
      });
      try {
        await Promise.race([done, limit]);
      } catch (error) {
        if (!signal.aborted) throw error;
      } finally {
        scope.abort(undefined);
        scope.dispose();
      }
    }
    if (signal.aborted) throw signal.reason;
    if (!this.#finished) await ioTurn();
    return this.#finished;
  }

  #rankedDone(rank: number): Promise<void> {
    const ranked = (this.#ranked ??= []);
    let entry = ranked[rank];
    if (!entry) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      ranked[rank] = entry = { promise, resolve };
    }
    return entry.promise;
  }
}

/**
 * Returns after the event loop has read the sockets once: `setImmediate` runs right after the loop's
 * I/O phase (a timer of 0 ms may run before it); where there is none (a browser), a 0 ms timer.
 */
function ioTurn(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}
