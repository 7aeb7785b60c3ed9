import { AbortScope, sleep } from '../../internal/abort-scope.js';
import type { Clock } from '../../internal/clock.js';

/**
 * While a model's limits are unknown, later calls wait at most this long for the first call's headers
 * before going ahead unpaced (a stalled first call must not hold everyone).
 */
export const PROBE_WAIT = 1_000;

/**
 * The first call to a model whose limits are not known yet goes alone: the others wait for its response
 * headers (which teach the limits), for at most {@link PROBE_WAIT}.
 */
export class LearningProbe {
  readonly #done: Promise<void>;
  readonly finish: () => void;

  constructor() {
    let finish!: () => void;
    this.#done = new Promise<void>((resolve) => (finish = resolve));
    this.finish = finish;
  }

  /** Waits for the probe's headers, at most {@link PROBE_WAIT} and never past the deadline. */
  async wait(clock: Clock, signal: AbortSignal, deadlineAt: number | undefined): Promise<void> {
    const limit = deadlineAt === undefined ? PROBE_WAIT : Math.min(PROBE_WAIT, deadlineAt - clock.now());
    const scope = new AbortScope(clock, [signal]);
    try {
      await Promise.race([this.#done, sleep(clock, Math.max(0, limit), scope.signal)]);
    } finally {
      scope.abort(undefined);
      scope.dispose();
    }
    if (signal.aborted) throw signal.reason;
  }
}
