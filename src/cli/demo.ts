/**
 * `openai-resilient demo`: the same realistic workload, with the same scripted trouble, sent first through
 * the bare SDK and then through `resilient()`, each against a fresh loopback account; then a comparison.
 * Offline, no API key, under a minute.
 *
 * @module
 */

import OpenAI from 'openai';
import { resilient, TRAFFIC_CLASSES, type CallStatsSnapshot, type ResilienceOptions, type ResilientClient, type TrafficClass } from '../index.js';
import type { Output } from './progress.js';
import { formatErrors, formatTable, sideMetrics, toSource, type SideMetrics } from './report.js';
import { troubleWindow, TROUBLES } from './scenario.js';
import { runSide, type Timing } from './side.js';
import { NO_COLORS } from './style.js';
import { BATCH, buildWorkload, CALLS_PER_SECOND } from './workload.js';

/** What `resilient()` is given in the demo (besides the SDK client). */
export const DEMO_OPTIONS = {
  cache: true,
  fallback: { models: { 'gpt-4.1': ['gpt-4.1-mini'], 'gpt-4o': ['gpt-4o-mini'] } },
  timeout: { idle: 2_000 },
  circuitBreaker: { halfOpenAfter: 2_000 },
} satisfies ResilienceOptions;

export interface DemoOptions {
  /** Length of each run in seconds, traffic plus drain. Default 10. */
  readonly seconds?: number;
  /** Seed of the workload and of the account's random failures. Default 7. */
  readonly seed?: number;
  /** Print the result as JSON (and nothing else). */
  readonly json?: boolean;
  /** Default: stdout, plain lines, no colors. */
  readonly output?: Output;
}

export interface DemoResult {
  readonly seconds: number;
  readonly seed: number;
  /** The scripted incidents, in ms from the start of the run (`toMs: null`: until the end). */
  readonly script: ReadonlyArray<{ readonly label: string; readonly fromMs: number; readonly toMs: number | null }>;
  readonly bare: SideMetrics;
  readonly resilient: SideMetrics & {
    readonly stats: CallStatsSnapshot;
    /** Per traffic class (`ai.resilience.stats().classes`): streamed chat is interactive, the batch background. */
    readonly classes: Readonly<Record<TrafficClass, CallStatsSnapshot>>;
  };
  /** What resilient() did, as it happened (`  1.4s  circuit gpt-4.1 opened ...`). */
  readonly timeline: readonly string[];
}

const API_KEY = 'sk-demo';

/** Runs the demo and returns its numbers (also printed, as a table or as JSON). */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const seconds = options.seconds ?? 10;
  const seed = options.seed ?? 7;
  const out = options.output ?? { write: (text: string) => void process.stdout.write(text), interactive: false, style: NO_COLORS };
  const quiet = options.json === true;
  const say = (line = ''): void => {
    if (!quiet) out.write(`${line}\n`);
  };
  const drainMs = Math.round(Math.min(2_500, Math.max(500, seconds * 250)));
  const timing: Timing = { windowMs: seconds * 1000 - drainMs, drainMs };
  const calls = buildWorkload(seed, timing.windowMs);
  const script = TROUBLES.map((t) => {
    const { fromMs, toMs } = troubleWindow(t, timing.windowMs);
    return { label: t.label, fromMs: Math.round(fromMs), toMs: Number.isFinite(toMs) ? Math.round(toMs) : null };
  });

  const { bold, dim } = out.style;
  say(`${bold('openai-resilient demo')}: the same ${calls.length} calls, first through the bare SDK, then through resilient()`);
  say(dim(`  loopback OpenAI: 30 requests/s, 8% random 500s, 15-60 ms per answer (seed ${seed}); no network, no API key`));
  say(dim(`  workload: ~${CALLS_PER_SECOND} calls/s of chat, streamed chat and embeddings, with repeats a cache can answer;`));
  say(dim(`    at ${((timing.windowMs * BATCH.at) / 1000).toFixed(1)}s a background batch of ${BATCH.calls} embeddings (resilient() sends streamed chat as interactive, the batch as background)`));
  say(dim('  scripted trouble:'));
  for (const s of script) {
    const until = s.toMs === null ? 'end' : `${(s.toMs / 1000).toFixed(1)}s`;
    say(dim(`    ${`${(s.fromMs / 1000).toFixed(1)}s-${until}`.padEnd(11)} ${s.label}`));
  }
  say(dim(`  resilient(new OpenAI(), ${toSource(DEMO_OPTIONS)})`));
  say();

  const side = { seed, calls, timing, out, quiet };
  const bareRun = await runSide({ ...side, label: 'bare SDK', client: (url) => new OpenAI({ apiKey: API_KEY, baseURL: url }) });
  // Every call sends its first request; each further request is a retry of the SDK's.
  const bare = sideMetrics(bareRun.counters, bareRun.upstream, {
    retries: Math.max(0, bareRun.upstream - bareRun.counters.started),
    latencies: bareRun.counters.latencies,
  });

  const timeline: string[] = [];
  let trips = 0;
  let ai: ResilientClient<OpenAI> | undefined;
  const oursRun = await runSide({
    ...side,
    label: 'resilient()',
    client: (url, log, elapsed) => {
      ai = resilient(new OpenAI({ apiKey: API_KEY, baseURL: url }), DEMO_OPTIONS);
      watch(ai, (line) => {
        const entry = `${(elapsed() / 1000).toFixed(1).padStart(5)}s  ${line}`;
        timeline.push(entry);
        log(dim(`    ${entry}`));
      }, () => trips++);
      return ai;
    },
  });
  const { total, classes } = ai!.resilience.stats();
  const ours = {
    ...sideMetrics(oursRun.counters, oursRun.upstream, { retries: total.retries, latency: total.latency }),
    cacheHits: total.cache.hits,
    breakerTrips: trips,
    fallbacks: total.fallbacks,
    stats: total,
    classes,
  };

  const result: DemoResult = { seconds, seed, script, bare, resilient: ours, timeline };
  if (quiet) {
    out.write(`${JSON.stringify(result, null, 2)}\n`);
    return result;
  }
  say();
  say(formatTable(bare, ours, out.style));
  say();
  say(dim(formatErrors('bare SDK   ', bare)));
  say(dim(formatErrors('resilient()', ours)));
  say(dim('  latency: time to the answer (for a stream, to its end); resilient() numbers from ai.resilience.stats()'));
  say(dim(`  resilient() by traffic class: ${TRAFFIC_CLASSES.map((name) => classLine(name, classes[name])).join(' · ')}`));
  return result;
}

/** `interactive 61 calls, p95 140 ms` (or without latency when none answered). */
function classLine(name: TrafficClass, stats: CallStatsSnapshot): string {
  const latency = stats.latency.count > 0 ? `, p95 ${Math.round(stats.latency.p95)} ms` : '';
  return `${name} ${stats.calls} calls${latency}`;
}

/** Reports what the resilient client does, as it happens: circuits, the first fallback of each kind, stalls. */
function watch(ai: ResilientClient<OpenAI>, note: (line: string) => void, tripped: () => void): void {
  const seen = new Set<string>();
  ai.resilience.on('circuitOpen', (e) => {
    tripped();
    note(`circuit ${e.key} opened (${e.reason.replaceAll('_', ' ')}), next probe in ${(e.retryAfter / 1000).toFixed(1)}s`);
  });
  ai.resilience.on('circuitHalfOpen', (e) => note(`circuit ${e.key} half-open: probing`));
  ai.resilience.on('circuitClose', (e) => note(`circuit ${e.key} closed: ${e.key} is back`));
  ai.resilience.on('fallback', (e) => {
    const key = `${e.from} ${e.to} ${e.reason}`;
    if (!seen.has(key)) note(`falling back ${e.from} -> ${e.to ?? 'a value'} (${e.reason})`);
    seen.add(key);
  });
  ai.resilience.on('streamStall', (e) => note(`stream from ${e.model} silent for ${e.idle} ms after ${e.chunks} events: aborted`));
}
