import { TRAFFIC_CLASSES, type TrafficClass } from '../core/traffic-class.js';
import { percentiles, type LatencySnapshot } from '../stats/call-stats.js';
import { LatencyHistogram } from '../stats/latency-histogram.js';

/** One traffic class in a queue: the bulkhead's (`stats().bulkhead.classes`) or the rate limiter's (`stats().rateLimit.classes`). */
export interface QueueClassStats {
  /** Calls given a slot, or capacity (at once or after waiting). */
  readonly granted: number;
  /** Calls waiting now. */
  readonly queued: number;
  /** Waiters that gave way to a higher class (`LoadShedError`). */
  readonly shed: number;
  /**
   * Calls turned away: the queue full of same-or-higher classes, or (bulkhead) `queueTimeout` reached, or
   * (rate limiter) the wait would pass the call's deadline.
   */
  readonly rejected: number;
  /** Time from asking for a slot (capacity) to getting it, in ms (0 when given at once). */
  readonly queueTime: LatencySnapshot;
}

/** One traffic class in the bulkhead (`stats().bulkhead.classes`). */
export type BulkheadClassStats = QueueClassStats;

interface Counts {
  granted: number;
  shed: number;
  rejected: number;
  readonly queueTime: LatencyHistogram;
}

/** A queue's counters per traffic class (the bulkhead's, the rate limiter's), in constant memory. */
export class ClassCounters {
  readonly #byClass = new Map<TrafficClass, Counts>(
    TRAFFIC_CLASSES.map((name) => [name, { granted: 0, shed: 0, rejected: 0, queueTime: new LatencyHistogram() }]),
  );

  /** Calls asking now, per class (for a queue that does not count its waiters itself). */
  readonly #asking = new Map<TrafficClass, number>(TRAFFIC_CLASSES.map((name) => [name, 0]));

  /** A call of `trafficClass` starts asking (until {@link answered}). */
  asking(trafficClass: TrafficClass): void {
    this.#asking.set(trafficClass, this.#asking.get(trafficClass)! + 1);
  }

  /** A call of `trafficClass` is no longer asking (granted, refused, shed or aborted). */
  answered(trafficClass: TrafficClass): void {
    this.#asking.set(trafficClass, this.#asking.get(trafficClass)! - 1);
  }

  granted(trafficClass: TrafficClass, waited: number): void {
    const counts = this.#byClass.get(trafficClass)!;
    counts.granted++;
    counts.queueTime.record(waited);
  }

  shed(trafficClass: TrafficClass): void {
    this.#byClass.get(trafficClass)!.shed++;
  }

  rejected(trafficClass: TrafficClass): void {
    this.#byClass.get(trafficClass)!.rejected++;
  }

  /** `queued`: the calls waiting now, per class (by default, those {@link asking} and not {@link answered}). */
  snapshot(queued: (trafficClass: TrafficClass) => number = (name) => this.#asking.get(name)!): Record<TrafficClass, QueueClassStats> {
    const result = {} as Record<TrafficClass, QueueClassStats>;
    for (const [name, { granted, shed, rejected, queueTime }] of this.#byClass) {
      result[name] = { granted, queued: queued(name), shed, rejected, queueTime: percentiles(queueTime) };
    }
    return result;
  }
}
