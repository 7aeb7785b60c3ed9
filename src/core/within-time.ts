import type { Clock } from './clock.js';

/**
 * `work`, or a rejection with `timedOut()` if it has not settled within `ms`. The timer is always
 * released. When the event loop was stalled, the timer and an answer already received can be due at
 * once, and timers run first: the rejection waits one more turn, so that an answer that arrived in time
 * wins.
 */
export async function withinTime<T>(clock: Clock, ms: number, work: Promise<T>, timedOut: () => Error): Promise<T> {
  let timer: unknown;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => (timer = clock.setTimeout(() => reject(timedOut()), 0)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clock.clearTimeout(timer);
  }
}
