/**
 * A call's traffic class (issue 26): where it stands when capacity is scarce. Every queue serves higher
 * classes first; a lower class uses what the higher ones leave. Never sent upstream.
 * - `interactive`: someone is waiting on the answer (a chat reply);
 * - `default`: everything not declared otherwise;
 * - `background`: work that can wait (batches, embeddings of a backlog, evaluations).
 */
export type TrafficClass = 'interactive' | 'default' | 'background';

/** Every class, highest first. */
export const TRAFFIC_CLASSES: readonly TrafficClass[] = Object.freeze(['interactive', 'default', 'background']);

/** 0 for the highest class (`interactive`), 1 for `default`, 2 for `background`: lower is served first. */
export function classRank(trafficClass: TrafficClass): number {
  return trafficClass === 'interactive' ? 0 : trafficClass === 'default' ? 1 : 2;
}

/** The class of rank `rank` (the inverse of {@link classRank}); `default` for a rank out of range. */
export function classOfRank(rank: number): TrafficClass {
  return TRAFFIC_CLASSES[rank] ?? 'default';
}
