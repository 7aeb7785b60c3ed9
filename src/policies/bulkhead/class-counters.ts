import { TRAFFIC_CLASSES, type TrafficClass } from '../../core/traffic-class.js';
import { percentiles, type LatencySnapshot } from '../../stats/call-stats.js';
import { LatencyHistogram } from '../../stats/latency-histogram.js';

/** One traffic class in the bulkhead (`stats().bulkhead.classes`). */
export interface BulkheadClassStats {
  /** Calls given a slot (at once or after waiting). */
  readonly granted: number;
  /** Calls waiting now. */
  readonly queued: number;
  /** Waiters that gave way to a higher class (`LoadShedError`). */
  readonly shed: number;
  /** Calls turned away: the queue full of same-or-higher classes, or `queueTimeout` reached. */
  readonly rejected: number;
  /** Time from asking for a slot to getting it, in ms (0 for a slot given at once). */
  readonly queueTime: LatencySnapshot;
}

interface Counts {
  granted: number;
  shed: number;
  rejected: number;
  readonly queueTime: LatencyHistogram;
}

/** The bulkhead's counters per traffic class, in constant memory. */
export class ClassCounters {
  readonly #byClass = new Map<TrafficClass, Counts>(
    TRAFFIC_CLASSES.map((name) => [name, { granted: 0, shed: 0, rejected: 0, queueTime: new LatencyHistogram() }]),
  );

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

  snapshot(queued: (trafficClass: TrafficClass) => number): Record<TrafficClass, BulkheadClassStats> {
    const result = {} as Record<TrafficClass, BulkheadClassStats>;
    for (const [name, { granted, shed, rejected, queueTime }] of this.#byClass) {
      result[name] = { granted, queued: queued(name), shed, rejected, queueTime: percentiles(queueTime) };
    }
    return result;
  }
}
