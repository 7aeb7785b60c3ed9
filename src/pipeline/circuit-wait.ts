import type { Abortable } from '../core/abort-scope.js';
import type { ProbeWait } from '../policies/circuit-breaker/circuit-breakers.js';
import { classRank, type TrafficClass } from '../core/traffic-class.js';
import type { PipelineContext } from './pipeline-context.js';

/**
 * Until when an attempt due at `dueAt` may wait for a probe of its open circuit, or `undefined` when it
 * may not wait (a fallback can serve the call now, so it is not held).
 *
 * - A call's first attempt waits for a probe due within `circuitBreaker.waitForProbe` (`0`: it does not).
 * - A retry waits as long as a retry waits for a server's `retry-after` (`retry.maxRetryAfter`): a call
 *   keeps its retries. A call's own failed attempts count towards opening its circuit (five failures in a
 *   row say the model is down, whoever sent them), and its retry may fall due while the circuit is open.
 */
export function probeDueBy(ctx: PipelineContext, dueAt: number, retry: boolean, mayWait: boolean): number | undefined {
  if (!mayWait) return undefined;
  const patience = retry ? ctx.options.retry.maxRetryAfter : (ctx.options.circuitBreaker?.settings.waitForProbe ?? 0);
  return patience > 0 ? dueAt + patience : undefined;
}

/**
 * What the breaker needs to let an attempt wait for its circuit (see `CircuitBreakers.admit`); a higher
 * `trafficClass` waiting looks first, and so becomes the probe.
 */
export function probeWait(dueBy: number | undefined, deadlineAt: number | undefined, call: Abortable, trafficClass: TrafficClass = 'default'): ProbeWait | undefined {
  return dueBy === undefined ? undefined : { dueBy, deadlineAt, call, rank: classRank(trafficClass) };
}

/**
 * When a retry due `delay` ms from now can be sent, given its circuit: `undefined` when the circuit is no
 * obstacle (or not known to be one yet); else the delay until the circuit lets its next probe through,
 * after which the retry waits its turn like any call that finds the circuit open (it is that probe, or
 * waits for the probe's verdict); `'refused'` when that probe is not due by `dueBy` nor before the
 * deadline (`remaining` from now), or the retry may not wait: the call then ends at once with its last
 * upstream error.
 */
export function retryPastCircuit(
  ctx: PipelineContext,
  breakerKey: string,
  delay: number,
  dueBy: number | undefined,
  remaining: number | undefined,
): number | 'refused' | undefined {
  const now = ctx.options.clock.now();
  const reopensAt = ctx.shared.breakers!.refusedUntil(breakerKey, now + delay);
  if (reopensAt === undefined) return undefined;
  if (dueBy === undefined || reopensAt > dueBy || (remaining !== undefined && reopensAt - now >= remaining)) return 'refused';
  return reopensAt - now;
}
