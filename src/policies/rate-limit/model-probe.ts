import { Verdict } from '../verdict.js';

/**
 * While a model's limits are unknown, later calls wait at most this long for the first call's verdict
 * before going ahead unpaced (a stalled first call, or a long generation, must not hold everyone).
 */
export const PROBE_WAIT = 1_000;

/**
 * Why a model's calls go one at a time for a while: its limits are not known yet (`learning`), or a
 * pause cut short by `retry.maxRetryAfter` has just ended (`pause`).
 */
export type ProbeReason = 'learning' | 'pause';

/**
 * One call sent alone while the model's other calls wait for its verdict: its response headers (which
 * teach the limits), or its failure (a 429 pauses the model before the verdict is given).
 */
export class ModelProbe extends Verdict {
  /** The reservation sent as this probe: only its end gives the verdict. */
  owner: object | undefined;

  constructor(readonly reason: ProbeReason) {
    super();
  }
}
