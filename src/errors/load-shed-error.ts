import type { TrafficClass } from '../core/traffic-class.js';
import { ResilienceError } from './resilience-error.js';

/** The full queues that shed lower classes first. */
export type LoadShedQueue = 'bulkhead' | 'rateLimit';

/**
 * The call was waiting in a full queue and gave way to a call of a higher traffic class (load shedding,
 * lower classes first; see docs/traffic-classes.md). Nothing was sent for it; it may be tried again later.
 */
export class LoadShedError extends ResilienceError {
  override readonly name = 'LoadShedError';
  readonly kind = 'load_shed' as const;
  /** The class of the call that gave way. */
  readonly trafficClass: TrafficClass;
  /** The higher class of the call that took its place. */
  readonly shedFor: TrafficClass;
  /** The queue it was waiting in: the bulkhead's, or the rate limiter's for one model (`rateLimit.maxQueued`). */
  readonly queue: LoadShedQueue;

  constructor(trafficClass: TrafficClass, shedFor: TrafficClass, queue: LoadShedQueue) {
    const where = queue === 'rateLimit' ? "the rate limiter's full queue (`rateLimit.maxQueued`)" : 'the full bulkhead queue';
    super(`Shed from ${where}: this ${trafficClass} call gave way to a higher-class (${shedFor}) call.`);
    this.trafficClass = trafficClass;
    this.shedFor = shedFor;
    this.queue = queue;
  }
}
