import type { PipelineContext } from './pipeline-context.js';

/** A retry's place in the wait for an open circuit's next probe. */
export interface CircuitWait {
  /** How long to wait from now: until the circuit lets its next probe through. */
  readonly delay: number;
  /** Gives the place back (once the wait is over, or the call ended). */
  release(): void;
}

/**
 * Whether a retry due `delay` ms from now must wait for its circuit. A call's own failed attempts count
 * towards opening its circuit (five failures in a row say the model is down, whoever sent them), but a
 * call whose retry falls due while the circuit is open keeps its retries: the retry waits until the
 * circuit lets its next probe through, and goes as that probe. Only as many retries wait at once as the
 * circuit has probes (`halfOpenProbes`), so the extra requests stay bounded; the others end at once, as a
 * call arriving meanwhile does.
 *
 * It waits no longer than it would for a server's `retry-after` (`retry.maxRetryAfter`) and only within
 * what is left of `timeout.total` (`remaining`). `undefined`: the circuit is no obstacle; `'refused'`: the
 * retry cannot wait for it, and the call ends with its last upstream error.
 */
export function waitForCircuit(
  ctx: PipelineContext,
  breakerKey: string,
  delay: number,
  remaining: number | undefined,
): CircuitWait | 'refused' | undefined {
  const now = ctx.options.clock.now();
  const breakers = ctx.shared.breakers!;
  const reopensAt = breakers.refusedUntil(breakerKey, now + delay);
  if (reopensAt === undefined) return undefined;
  const wait = reopensAt - now;
  if (wait > ctx.options.retry.maxRetryAfter || (remaining !== undefined && wait >= remaining)) return 'refused';
  const release = breakers.awaitProbe(breakerKey);
  return release ? { delay: wait, release } : 'refused';
}
