/**
 * The source of time for every policy. Injectable so that tests (ours and yours) can drive waits and
 * timeouts with a fake clock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number;
  /** Runs `callback` after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a pending callback. */
  clearTimeout(handle: unknown): void;
}

/** Largest delay `setTimeout` accepts; anything larger overflows to 1 ms. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** The real clock: `Date.now()` and global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_DELAY)),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Lets a timer not keep the process alive, as an open socket would not once its request is done: a
 * Node.js `Timeout` (the system clock's, or a clock built on Node's timers) is unref'd; any other
 * handle (a fake clock's, a browser's number) is left as it is.
 */
export function unrefTimer(handle: unknown): void {
  if (typeof handle === 'object' && handle !== null) (handle as { unref?: () => void }).unref?.();
}
