// Closed-loop load: `callers` concurrent loops, each starting a new call as soon as its previous one
// settles (or, with `periodMs`, no sooner than one period after its previous call started), until
// `durationMs` have elapsed. Calls still in flight at the end are awaited and counted; any still pending
// `drainMs` after the end are aborted (and counted as aborted) so a run always ends.
import { getEventListeners, setMaxListeners } from 'node:events';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

/**
 * @typedef {{ ok: boolean, ms: number, at: number, error?: string, status?: number }} CallRecord
 * `at`: when the call settled, in ms since the load began.
 * @typedef {{ records: CallRecord[], elapsedMs: number, drainMs: number, aborted: number, listenersLeft: number }} LoadResult
 * `listenersLeft`: abort listeners still on the callers' shared signal once every call settled (a client that
 * leaves one per call leaks on a long-lived signal).
 */

/**
 * With `periodMs`, each caller starts a call at most once a period, on a schedule of its own (caller `i`
 * of `n` at `i / n` of a period, then every period): `callers` × 1000 / `periodMs` calls a second are
 * offered while calls take less than a period, fewer (closed loop) when they take longer.
 * @param {{ callers: number, durationMs: number, drainMs?: number, periodMs?: number, call: (signal: AbortSignal) => Promise<unknown> }} options
 * @returns {Promise<LoadResult>}
 */
export async function closedLoop({ callers, durationMs, drainMs = 60_000, periodMs, call }) {
  const records = [];
  const controller = new AbortController();
  // Every in-flight call listens on the shared signal; listeners left behind are counted (listenersLeft)
  // rather than warned about once per listener.
  setMaxListeners(0, controller.signal);
  const start = performance.now();
  let aborted = 0;

  async function caller(index) {
    let next = start + (periodMs === undefined ? 0 : (index * periodMs) / callers);
    for (;;) {
      if (periodMs !== undefined && next - start >= durationMs) return; // its next call would start after the end
      if (periodMs !== undefined && next > performance.now()) await sleep(next - performance.now());
      if (performance.now() - start >= durationMs) return;
      const t0 = performance.now();
      if (periodMs !== undefined) next = Math.max(next, t0) + periodMs; // a late caller does not burst to catch up
      try {
        await call(controller.signal);
        records.push({ ok: true, ms: performance.now() - t0, at: performance.now() - start });
      } catch (error) {
        if (controller.signal.aborted) aborted++;
        records.push({ ok: false, ms: performance.now() - t0, at: performance.now() - start, error: errorName(error), status: error?.status });
      }
    }
  }

  // The guard only fires if calls are still pending `drainMs` after the end of the run.
  const guard = setTimeout(() => controller.abort(new Error('bench drain limit reached')), durationMs + drainMs);
  try {
    await Promise.all(Array.from({ length: callers }, (_, index) => caller(index)));
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
