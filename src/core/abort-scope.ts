import type { Clock } from './clock.js';

/**
 * Work that can be aborted from outside (a call, by its caller or its deadline; a hedged attempt, by its
 * race). Its `AbortSignal` is made only when something asks for it: a call that goes straight through
 * never does, and making one costs a few µs (`npm run bench overhead`).
 */
export interface Abortable {
  readonly aborted: boolean;
  /** Why it was aborted, once it is. */
  readonly reason: unknown;
  /** For what must be told of an abort as it happens: a wait, a request in flight, a cockatiel policy. */
  readonly signal: AbortSignal;
}

/** An `AbortSignal` as an {@link Abortable} (a cockatiel policy's, or a caller's). */
export function abortableOf(signal: AbortSignal): Abortable {
  return {
    get aborted() {
      return signal.aborted;
    },
    get reason() {
      return signal.reason as unknown;
    },
    signal,
  };
}

/**
 * An AbortController that follows parent signals and owns timers, all released by {@link AbortScope.dispose}.
 * Every listener and timer it adds is removed on dispose, so a long-lived caller signal never accumulates
 * listeners and no timer outlives the work it guards.
 */
export class AbortScope implements Abortable {
  #controller: AbortController | undefined;
  #unlinks: Array<() => void> | undefined;
  #timers: unknown[] | undefined;
  readonly #clock: Clock;
  #aborted = false;
  #reason: unknown;
  /** A deadline whose timer is not set yet (see {@link abortAfterOnDemand}). */
  #deadline: { readonly at: number; readonly reason: () => unknown } | undefined;

  constructor(clock: Clock, parents: ReadonlyArray<AbortSignal | undefined | null>) {
    this.#clock = clock;
    for (const parent of parents) if (parent) (this.#unlinks ??= []).push(this.follow(parent));
  }

  /**
   * Aborts this scope when `parent` aborts, until the returned function (or {@link dispose}) lets go of it:
   * for a parent that must stop mattering before the scope ends, such as a cockatiel policy's signal,
   * which the policy aborts as soon as the work returns (a stream handed over must outlive that).
   */
  follow(parent: AbortSignal): () => void {
    if (parent.aborted) {
      this.abort(parent.reason);
      return () => undefined;
    }
    const onAbort = () => this.abort(parent.reason);
    parent.addEventListener('abort', onAbort, { once: true });
    return () => parent.removeEventListener('abort', onAbort);
  }

  /**
   * Made on first use (an `AbortController` costs about 1 KB); already aborted if the scope is. Whoever
   * asks for it is told of an abort as it happens, a deadline's included: asking sets its timer.
   */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
      else this.#armDeadline();
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }

  /** Aborts with `reason()` after `ms`, unless disposed first. */
  abortAfter(ms: number, reason: () => unknown): void {
    if (this.#aborted) return;
    (this.#timers ??= []).push(this.#clock.setTimeout(() => this.abort(reason()), ms));
  }

  /**
   * Aborts with `reason()` after `ms`, unless disposed first, as {@link abortAfter} does, except that the
   * timer is set only once something asks for the {@link signal}: what waits on the scope (a retry's
   * backoff, a queue) or follows it (a request sent with a signal) is told at the deadline, and a call
   * that goes straight through, whose attempts bound themselves by the deadline (`TimedAttempt`), sets
   * no timer (setting and clearing one costs about 1 µs: `npm run bench overhead`).
   */
  abortAfterOnDemand(ms: number, reason: () => unknown): void {
    if (this.#aborted) return;
    this.#deadline = { at: this.#clock.now() + ms, reason };
    if (this.#controller !== undefined) this.#armDeadline();
  }

  #armDeadline(): void {
    const deadline = this.#deadline;
    if (deadline === undefined) return;
    this.#deadline = undefined;
    const ms = deadline.at - this.#clock.now();
    if (ms <= 0) this.abort(deadline.reason());
    else this.abortAfter(ms, deadline.reason);
  }

  /** Clears the timers but keeps following the parents (a stream still wants the caller's abort). */
  clearTimers(): void {
    this.#deadline = undefined;
    const timers = this.#timers;
    if (timers === undefined) return;
    for (const timer of timers) this.#clock.clearTimeout(timer);
    timers.length = 0;
  }

  dispose(): void {
    this.clearTimers();
    const unlinks = this.#unlinks;
    if (unlinks === undefined) return;
    for (const unlink of unlinks) unlink();
    unlinks.length = 0;
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
