/**
 * Runs a workload through one client, open loop: each call starts at its scheduled time whatever the
 * others are doing, as users would. Once the traffic window is over, calls in flight get `drainMs` to
 * finish; the ones still pending then are aborted and counted as hung.
 *
 * @module
 */

import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type OpenAI from 'openai';
import { perform, type Call } from './workload.js';

/** Live counters of a run (read by the progress display). */
export interface RunCounters {
  /** Calls started so far. */
  started: number;
  successes: number;
  failures: number;
  /** Calls aborted because they were still pending at the end of the drain. */
  hung: number;
  /** Time to answer of every call that got one (for streams, to their end), in ms. */
  readonly latencies: number[];
  /** Final errors by name (`RateLimitError`, `StreamIdleTimeoutError`, ...). */
  readonly errors: Record<string, number>;
}

export interface RunOptions {
  readonly client: OpenAI;
  readonly calls: readonly Call[];
  readonly windowMs: number;
  readonly drainMs: number;
  /** Called once, right before the first call is due. */
  readonly onStart?: () => void;
}

/** Aborts a sleep without an unhandled rejection. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

function errorName(error: unknown): string {
  if (typeof error === 'object' && error !== null) return (error as { constructor?: { name?: string } }).constructor?.name ?? 'Error';
  return typeof error;
}

/** Starts a run; `counters` fill up live, `done` resolves when every call has settled. */
export function startRun(options: RunOptions): { counters: RunCounters; done: Promise<RunCounters> } {
  const counters: RunCounters = { started: 0, successes: 0, failures: 0, hung: 0, latencies: [], errors: {} };
  const cutoff = new AbortController(); // aborts the calls still pending after the drain
  const timers = new AbortController(); // cancels the run's own sleeps
  setMaxListeners(options.calls.length * 4 + 10, cutoff.signal);

  const one = async (call: Call): Promise<void> => {
    const startedAt = performance.now();
    counters.started++;
    try {
      await perform(options.client, call, cutoff.signal, () => counters.latencies.push(performance.now() - startedAt));
      counters.successes++;
    } catch (error) {
      counters.failures++;
      const name = cutoff.signal.aborted ? 'hung (aborted at the deadline)' : errorName(error);
      if (cutoff.signal.aborted) counters.hung++;
      counters.errors[name] = (counters.errors[name] ?? 0) + 1;
    }
  };

  const done = (async () => {
    const inFlight: Array<Promise<void>> = [];
    options.onStart?.();
    const begin = performance.now();
    for (const call of options.calls) {
      await pause(begin + call.at - performance.now(), timers.signal);
      inFlight.push(one(call));
    }
    await pause(begin + options.windowMs - performance.now(), timers.signal);
    const settled = Promise.all(inFlight);
    await Promise.race([settled, pause(options.drainMs, timers.signal)]);
    timers.abort(); // clears the drain timer if every call settled first
    cutoff.abort();
    await settled;
    return counters;
  })();
  return { counters, done };
}

/** The `p`-quantile (0..1) of `values` by nearest rank, or `undefined` when there are none. */
export function quantile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}
