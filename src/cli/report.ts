/**
 * The demo's results: the numbers of each side, and the comparison table.
 *
 * @module
 */

import type { CallStatsSnapshot } from '../index.js';
import { quantile, type RunCounters } from './run.js';
import { visibleLength, type Style } from './style.js';

/** The numbers of one side of the comparison (`null`: the bare SDK has no such thing). */
export interface SideMetrics {
  /** Calls made (the same schedule on both sides). */
  readonly calls: number;
  /** Calls whose answer arrived in full (a stream read to its end). */
  readonly successes: number;
  readonly successRate: number;
  /** HTTP requests that reached the API, every attempt included. */
  readonly upstreamRequests: number;
  readonly upstreamPerSuccess: number | null;
  /** Time to answer (for streams, to their end), ms, over the calls that got one. */
  readonly latencyP50: number | null;
  readonly latencyP95: number | null;
  readonly cacheHits: number | null;
  /** `circuitOpen` events. */
  readonly breakerTrips: number | null;
  readonly fallbacks: number | null;
  /** Attempts beyond each call's first. */
  readonly retries: number;
  /** Calls still pending at the end of the run, aborted by the demo. */
  readonly hung: number;
  /** Final errors the calls ended with, by name. */
  readonly errors: Readonly<Record<string, number>>;
}

/** A side's numbers from the run's counters; latency either measured (`latencies`) or from the stats. */
export function sideMetrics(
  counters: RunCounters,
  upstream: number,
  extra: { readonly retries: number; readonly latencies?: readonly number[]; readonly latency?: CallStatsSnapshot['latency'] },
): SideMetrics {
  // The stats' percentiles are 0 before the first answer: no latency was measured.
  const stats = extra.latency && extra.latency.count > 0 ? extra.latency : undefined;
  const p50 = extra.latency ? stats?.p50 : quantile(extra.latencies ?? [], 0.5);
  const p95 = extra.latency ? stats?.p95 : quantile(extra.latencies ?? [], 0.95);
  return {
    calls: counters.started,
    successes: counters.successes,
    successRate: counters.started === 0 ? 0 : counters.successes / counters.started,
    upstreamRequests: upstream,
    upstreamPerSuccess: counters.successes === 0 ? null : upstream / counters.successes,
    latencyP50: p50 ?? null,
    latencyP95: p95 ?? null,
    cacheHits: null,
    breakerTrips: null,
    fallbacks: null,
    retries: extra.retries,
    hung: counters.hung,
    errors: { ...counters.errors },
  };
}

interface Row {
  readonly label: string;
  readonly value: (m: SideMetrics) => number | null;
  readonly format: (value: number) => string;
  /** Which way is better, to highlight the better side. */
  readonly better?: 'higher' | 'lower';
}

const count = (value: number): string => String(value);
const ms = (value: number): string => `${Math.round(value)} ms`;

const ROWS: readonly Row[] = [
  { label: 'calls', value: (m) => m.calls, format: count },
  { label: 'success rate', value: (m) => m.successRate, format: (v) => `${(v * 100).toFixed(1)}%`, better: 'higher' },
  { label: 'upstream requests', value: (m) => m.upstreamRequests, format: count, better: 'lower' },
  { label: 'upstream requests / success', value: (m) => m.upstreamPerSuccess, format: (v) => v.toFixed(2), better: 'lower' },
  { label: 'latency p50', value: (m) => m.latencyP50, format: ms, better: 'lower' },
  { label: 'latency p95', value: (m) => m.latencyP95, format: ms, better: 'lower' },
  { label: 'cache hits', value: (m) => m.cacheHits, format: count },
  { label: 'breaker trips', value: (m) => m.breakerTrips, format: count },
  { label: 'fallbacks', value: (m) => m.fallbacks, format: count },
  { label: 'retries', value: (m) => m.retries, format: count },
  { label: 'calls hung at the end', value: (m) => m.hung, format: count, better: 'lower' },
];

const pad = (text: string, width: number, left = false): string => {
  const fill = ' '.repeat(Math.max(0, width - visibleLength(text)));
  return left ? text + fill : fill + text;
};

/** The comparison table, bare SDK against resilient(), one metric per row. */
export function formatTable(bare: SideMetrics, ours: SideMetrics, style: Style): string {
  const header = ['', 'bare SDK', 'resilient()'];
  const cells = ROWS.map((row) => {
    const a = row.value(bare);
    const b = row.value(ours);
    const shown = [a, b].map((v) => (v === null ? '—' : row.format(v)));
    if (row.better && a !== null && b !== null && row.format(a) !== row.format(b)) {
      const oursBetter = row.better === 'higher' ? b > a : b < a;
      shown[1] = oursBetter ? style.green(shown[1]!) : style.red(shown[1]!);
    }
    return [row.label, shown[0]!, shown[1]!];
  });
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...cells.map((c) => visibleLength(c[i]!))));
  const line = (c: readonly string[]): string =>
    `  ${pad(c[0]!, widths[0]!, true)}   ${pad(c[1]!, widths[1]!)}   ${pad(c[2]!, widths[2]!)}`;
  const rule = `  ${'─'.repeat(widths.reduce((sum, w) => sum + w, 0) + 6)}`;
  return [style.bold(line(header)), rule, ...cells.map(line)].join('\n');
}

/** One line per side listing the errors its failed calls ended with, most frequent first. */
export function formatErrors(label: string, metrics: SideMetrics): string {
  const entries = Object.entries(metrics.errors).sort((x, y) => y[1] - x[1]);
  const list = entries.length === 0 ? 'none' : entries.map(([name, n]) => `${n} × ${name}`).join(', ');
  return `  ${label} failures: ${list}`;
}

/** `value` as a JavaScript literal, the way it would be written in code. */
export function toSource(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toSource).join(', ')}]`;
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number') return value >= 1000 ? value.toLocaleString('en-US').replaceAll(',', '_') : String(value);
  if (typeof value !== 'object' || value === null) return String(value);
  const key = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k}'`);
  return `{ ${Object.entries(value).map(([k, v]) => `${key(k)}: ${toSource(v)}`).join(', ')} }`;
}
