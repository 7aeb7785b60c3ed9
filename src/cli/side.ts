/**
 * One side of the demo: a fresh loopback account, one client, the workload, live progress, and
 * everything closed at the end whatever happens.
 *
 * @module
 */

import type OpenAI from 'openai';
import { showProgress, type Output } from './progress.js';
import { startRun, type RunCounters } from './run.js';
import { startScenario } from './scenario.js';
import type { Call } from './workload.js';

export interface Timing {
  /** Calls start during the first `windowMs` of a run... */
  readonly windowMs: number;
  /** ...and those still pending `drainMs` later are aborted. */
  readonly drainMs: number;
}

export interface SideSpec {
  readonly label: string;
  readonly seed: number;
  readonly calls: readonly Call[];
  readonly timing: Timing;
  readonly out: Output;
  /** No progress output (JSON mode). */
  readonly quiet: boolean;
  /**
   * Builds the client for the account at `url`; `log` prints a line above the progress, `elapsed` is the
   * time since the run started.
   */
  readonly client: (url: string, log: (line: string) => void, elapsed: () => number) => OpenAI;
}

export interface SideRun {
  readonly counters: RunCounters;
  /** HTTP requests the client sent, every attempt and backend included. */
  readonly upstream: number;
}

/** Runs the workload through the client of `spec`, against a fresh account. */
export async function runSide(spec: SideSpec): Promise<SideRun> {
  const { timing, out } = spec;
  const scenario = await startScenario(spec.seed, timing.windowMs);
  let startedAt = performance.now();
  const elapsed = (): number => performance.now() - startedAt;
  let progress: ReturnType<typeof showProgress> | undefined;
  try {
    const client = spec.client(scenario.url, (line) => progress?.log(line), elapsed);
    const run = startRun({
      client,
      calls: spec.calls,
      ...timing,
      onStart: () => {
        startedAt = performance.now();
        scenario.begin();
      },
    });
    const { counters } = run;
    if (!spec.quiet) {
      progress = showProgress(out, spec.label, () => ({
        elapsedMs: elapsed(),
        totalMs: timing.windowMs + timing.drainMs,
        planned: spec.calls.length,
        successes: counters.successes,
        failures: counters.failures,
        upstream: scenario.upstreamRequests,
      }));
    }
    await run.done;
    return { counters, upstream: scenario.upstreamRequests };
  } finally {
    progress?.stop();
    await scenario.close();
  }
}
