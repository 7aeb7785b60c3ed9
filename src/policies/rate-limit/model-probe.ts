import { AbortScope, sleep } from '../../internal/abort-scope.js';
import type { Clock } from '../../internal/clock.js';

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
export class ModelProbe {
  readonly #done: Promise<void>;
  #resolve!: () => void;
  #finished = false;
  /** The reservation sent as this probe: only its end gives the verdict. */
  owner: object | undefined;

  constructor(readonly reason: ProbeReason) {
    this.#done = new Promise<void>((resolve) => (this.#resolve = resolve));
  }

  get finished(): boolean {
    return this.#finished;
  }

  finish(): void {
    this.#finished = true;
    this.#resolve();
  }

  /**
   * Waits for the verdict, at most `ms` when given; true when it came. A verdict that arrived in time but
   * was not read yet (a busy event loop runs the due timer before the socket's data) still counts: before
   * saying no, the wait lets pending I/O run once.
   */
  async wait(clock: Clock, signal: AbortSignal, ms: number | undefined): Promise<boolean> {
    if (!this.#finished) {
      const scope = new AbortScope(clock, [signal]);
      const limit = new Promise<void>((resolve, reject) => {
        if (ms === undefined) scope.signal.addEventListener('abort', () => reject(scope.reason as Error), { once: true });
        else sleep(clock, Math.max(0, ms), scope.signal).then(resolve, reject);
      });
      try {
        await Promise.race([this.#done, limit]);
      } catch (error) {
        if (!signal.aborted) throw error;
      } finally {
        scope.abort(undefined);
        scope.dispose();
      }
    }
    if (signal.aborted) throw signal.reason;
    if (!this.#finished) await ioTurn();
    return this.#finished;
  }
}

/**
 * Returns after the event loop has read the sockets once: `setImmediate` runs right after the loop's
 * I/O phase (a timer of 0 ms may run before it); where there is none (a browser), a 0 ms timer.
 */
function ioTurn(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}
