import { AbortScope } from '../core/abort-scope.js';
import { MAX_TIMER_DELAY, type Clock } from '../core/clock.js';

/**
 * How one attempt is bounded in time and aborted. There are two ways, with the same behaviour:
 * - {@link SignalledAttempt}: an `AbortSignal` that follows the call's signal and fires on this
 *   attempt's timer, handed to the SDK as the request's `signal`;
 * - {@link TimedAttempt}: no `AbortSignal`, for the calls that only time can abort.
 */
export interface AttemptAbort {
  /** The `signal` to send the attempt with, `undefined` for none. */
  readonly signal: AbortSignal | undefined;
  /**
   * The `timeout` to send the attempt with, in ms; `undefined` to leave the client's own, when that one
   * is right (the SDK then sends no `x-stainless-timeout` header, as for a bare call).
   */
  readonly sdkTimeout: number | undefined;
  /** The response headers arrived: `controller` (the SDK's, for this request) aborts the rest of the attempt. */
  answered(controller: AbortController): void;
  /** Whether this attempt's own time limit ended it. */
  readonly expired: boolean;
  /** Stops the timers; a stream handed to the caller still follows the call's signal until {@link dispose}. */
  clearTimers(): void;
  dispose(): void;
}

/**
 * An attempt aborted through its own `AbortSignal`: the call's signal (the caller's abort, the deadline, a
 * cockatiel policy, a lost hedge race) or this attempt's timer. The SDK's own timer must never fire first.
 */
export class SignalledAttempt implements AttemptAbort {
  readonly sdkTimeout: number | undefined;
  readonly #scope: AbortScope;
  readonly #parent: AbortSignal;

  /** `clientTimeout`: the SDK client's own `timeout`, left alone when it cannot fire first. */
  constructor(clock: Clock, parent: AbortSignal, limit: number | undefined, reason: () => unknown, clientTimeout: unknown) {
    this.sdkTimeout = limit !== undefined && typeof clientTimeout === 'number' && limit <= clientTimeout ? undefined : MAX_TIMER_DELAY;
    this.#parent = parent;
    this.#scope = new AbortScope(clock, [parent]);
    if (limit !== undefined) this.#scope.abortAfter(limit, reason);
  }

  get signal(): AbortSignal {
    return this.#scope.signal;
  }

  get expired(): boolean {
    return this.#scope.aborted && !this.#parent.aborted;
  }

  answered(): void {}

  clearTimers(): void {
    this.#scope.clearTimers();
  }

  dispose(): void {
    this.#scope.dispose();
  }
}

/**
 * An attempt bounded by time alone, with no `AbortSignal`: until the response headers arrive, the SDK's
 * own `timeout` ends it; from then on, this attempt's timer aborts the SDK's request controller. Both are
 * set to the same whole number of ms, the SDK's after ours, so ours always fires first and
 * {@link expired} is set before the SDK's timeout error arrives.
 *
 * This is the way of every call that has no caller signal, no cockatiel policy and no hedge, on the
 * system clock (the SDK's timer runs on real time): the SDK composes a request's signal with its own
 * through `AbortSignal.any`, which costs 15–30 µs per attempt on Node 20 and 22, about a third of what
 * the SDK itself spends on a call (`npm run bench overhead`).
 */
export class TimedAttempt implements AttemptAbort {
  readonly signal = undefined;
  readonly sdkTimeout: number | undefined;
  readonly #clock: Clock;
  #timer: unknown;
  #expired = false;
  #controller: AbortController | undefined;
  readonly #reason: () => unknown;

  /**
   * `limit`: the attempt's time limit in ms, `undefined` for none; `onExpired` runs when it is reached.
   * `clientTimeout`: the SDK client's own `timeout`, used as it is when it is the limit.
   */
  constructor(clock: Clock, limit: number | undefined, reason: () => unknown, onExpired: () => void, clientTimeout: unknown) {
    this.#clock = clock;
    this.#reason = reason;
    if (limit === undefined) {
      this.sdkTimeout = MAX_TIMER_DELAY;
      return;
    }
    const ms = Math.min(Math.max(1, Math.ceil(limit)), MAX_TIMER_DELAY);
    this.sdkTimeout = ms === clientTimeout ? undefined : ms;
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      this.#expired = true;
      onExpired();
      this.#controller?.abort(reason());
    }, ms);
  }

  get expired(): boolean {
    return this.#expired;
  }

  answered(controller: AbortController): void {
    this.#controller = controller;
    // The limit was reached while the headers were on their way: the body is not waited for.
    if (this.#expired) controller.abort(this.#reason());
  }

  /**
   * Also lets go of the SDK's request controller, which only the timer aborts: a stream handed over
   * must not be reachable from here (its body's reader hangs off the controller's signal), or a stream
   * its caller drops could never be garbage-collected (see `responses/collected-streams.ts`).
   */
  clearTimers(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#controller = undefined;
  }

  dispose(): void {
    this.clearTimers();
  }
}
