import type { Clock } from '../core/clock.js';

/** A timer waiting on a {@link FakeClock}. */
export interface PendingTimer {
  /** When it fires, in the clock's time. */
  readonly at: number;
  /** The delay it was scheduled with, in milliseconds. */
  readonly delay: number;
}

interface Timer extends PendingTimer {
  readonly id: number;
  readonly callback: () => void;
}

/**
 * A manual clock for the `clock` option: waits and timeouts fire only when the test advances time.
 * Requests still travel over real sockets in real time, so tests wait for the pipeline to reach a
 * wait with {@link FakeClock.until} before advancing.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * const ai = resilient(new OpenAI({ baseURL: server.url, apiKey: 'k' }), { clock });
 * server.enqueue(faults.rateLimited({ retryAfterMs: 2000 }));
 * const call = ai.models.list();
 * await clock.until((timers) => timers.some((t) => t.delay === 2000));
 * await clock.advance(2000);
 * await call;
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: Timer[] = [];
  #watchers = new Set<() => void>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const delay = Math.max(0, ms);
    const timer: Timer = { id: this.#nextId++, at: this.#now + delay, delay, callback };
    this.#timers.push(timer);
    for (const watch of this.#watchers) watch();
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }

  /** Timers not yet fired or cleared, soonest first. */
  pending(): PendingTimer[] {
    return [...this.#timers].sort((a, b) => a.at - b.at).map(({ at, delay }) => ({ at, delay }));
  }

  /**
   * Resolves once `condition(pending())` holds; rejects after `realTimeout` real milliseconds so that a
   * test never hangs.
   */
  until(condition: (timers: PendingTimer[]) => boolean, realTimeout = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition(this.pending())) return;
        done();
        resolve();
      };
      const guard = setTimeout(() => {
        done();
        reject(new Error(`FakeClock.until: condition not met within ${realTimeout} ms; pending: ${JSON.stringify(this.pending())}`));
      }, realTimeout);
      const done = () => {
        clearTimeout(guard);
        this.#watchers.delete(check);
      };
      this.#watchers.add(check);
      check();
    });
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order. Pending promise callbacks
   * run between two timers, as they would in real time.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((timer) => timer !== due);
      this.#now = Math.max(this.#now, due.at);
      due.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}

/** Lets queued promise callbacks and I/O callbacks run (a real macrotask turn). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
