// Closed-loop load: `callers` concurrent loops, each starting a new call as soon as its previous one
// settles, until `durationMs` have elapsed. Calls still in flight at the end are awaited and counted;
// any still pending `drainMs` after the end are aborted (and counted as aborted) so a run always ends.
import { getEventListeners, setMaxListeners } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * @typedef {{ ok: boolean, ms: number, error?: string, status?: number }} CallRecord
 * @typedef {{ records: CallRecord[], elapsedMs: number, drainMs: number, aborted: number, listenersLeft: number }} LoadResult
 * `listenersLeft`: abort listeners still on the callers' shared signal once every call settled (a client that
 * leaves one per call leaks on a long-lived signal).
 */

/**
 * @param {{ callers: number, durationMs: number, drainMs?: number, call: (signal: AbortSignal) => Promise<unknown> }} options
 * @returns {Promise<LoadResult>}
 */
export async function closedLoop({ callers, durationMs, drainMs = 60_000, call }) {
  const records = [];
  const controller = new AbortController();
  // Every in-flight call listens on the shared signal; listeners left behind are counted (listenersLeft)
  // rather than warned about once per listener.
  setMaxListeners(0, controller.signal);
  const start = performance.now();
  let aborted = 0;

  async function caller() {
    while (performance.now() - start < durationMs) {
      const t0 = performance.now();
      try {
        await call(controller.signal);
        records.push({ ok: true, ms: performance.now() - t0 });
      } catch (error) {
        if (controller.signal.aborted) aborted++;
        records.push({ ok: false, ms: performance.now() - t0, error: errorName(error), status: error?.status });
      }
    }
  }

  // The guard only fires if calls are still pending `drainMs` after the end of the run.
  const guard = setTimeout(() => controller.abort(new Error('bench drain limit reached')), durationMs + drainMs);
  try {
    await Promise.all(Array.from({ length: callers }, caller));
  } finally {
    clearTimeout(guard);
  }
  const elapsedMs = performance.now() - start;
  const listenersLeft = getEventListeners(controller.signal, 'abort').length;
  return { records, elapsedMs, drainMs: Math.max(0, elapsedMs - durationMs), aborted, listenersLeft };
}

function errorName(error) {
  if (error && typeof error === 'object') return error.constructor?.name ?? error.name ?? 'Error';
  return typeof error;
}

/**
 * `calls` calls made by `callers` concurrent loops, each starting a new call as soon as its previous one
 * settles; a failure rejects the whole batch. With `yieldEvery`, each loop lets the event loop turn after
 * that many calls (see YIELD_EVERY in alternate.js: needed with an upstream that answers in microtasks).
 * @returns {Promise<number[]>} the duration of every call, in ms
 */
export async function countedLoop({ callers, calls, call, yieldEvery }) {
  const durations = [];
  let started = 0;
  async function caller() {
    for (let made = 1; started < calls; made++) {
      const index = started++;
      const t0 = performance.now();
      await call(index);
      durations.push(performance.now() - t0);
      if (yieldEvery && made % yieldEvery === 0) await nextTurn();
    }
  }
  await Promise.all(Array.from({ length: callers }, caller));
  return durations;
}
