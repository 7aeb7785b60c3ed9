import type { Clock } from './clock.js';

/**
 * An AbortController that follows parent signals and owns timers, all released by {@link AbortScope.dispose}.
 * Every listener and timer it adds is removed on dispose, so a long-lived caller signal never accumulates
 * listeners and no timer outlives the work it guards.
 */
export class AbortScope {
  readonly #controller = new AbortController();
  readonly #unlinks: Array<() => void> = [];
  readonly #timers: unknown[] = [];
  readonly #clock: Clock;

  constructor(clock: Clock, parents: ReadonlyArray<AbortSignal | undefined | null>) {
    this.#clock = clock;
    for (const parent of parents) {
      if (!parent) continue;
      if (parent.aborted) {
        this.#controller.abort(parent.reason);
        continue;
      }
      const onAbort = () => this.#controller.abort(parent.reason);
      parent.addEventListener('abort', onAbort, { once: true });
      this.#unlinks.push(() => parent.removeEventListener('abort', onAbort));
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    this.#controller.abort(reason);
  }

  /** Aborts with `reason()` after `ms`, unless disposed first. */
  abortAfter(ms: number, reason: () => unknown): void {
    if (this.signal.aborted) return;
    this.#timers.push(this.#clock.setTimeout(() => this.#controller.abort(reason()), ms));
  }

  /** Clears the timers but keeps following the parents (a stream still wants the caller's abort). */
  clearTimers(): void {
    for (const timer of this.#timers.splice(0)) this.#clock.clearTimeout(timer);
  }

  dispose(): void {
    this.clearTimers();
    for (const unlink of this.#unlinks.splice(0)) unlink();
  }
}

/**
 * Waits `ms` on `clock`; rejects with the signal's reason as soon as `signal` aborts. The timer and the
 * listener are always released.
 */
export function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
