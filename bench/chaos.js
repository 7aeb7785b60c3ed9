// Case "chaos (protect)": a closed-loop load of more callers than the account can serve, against a
// loopback fault server with an OpenAI-like rate limit (token bucket), random 500s and latency. Runs
// the bare SDK and resilient() one after the other, each against a fresh server, and compares them.
import OpenAI from 'openai';
import { resilient } from '../dist/index.js';
import { startFaultServer } from '../dist/testing/index.js';
import { closedLoop } from './load.js';
import { barChart } from './svg-chart.js';
import { checkTarget, countBy, markdownTable, pct, percentile, reportTargets, round } from './report.js';

const CAPACITY = { requestsPerMinute: 1200, burstSeconds: 1 }; // 20 req/s, a bucket of 20
const RANDOM_FAILURES = { rate: 0.1, seed: 42 };
const LATENCY_MS = { min: 20, max: 60 };
const PARAMS = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say ok' }], max_tokens: 16 };

const TARGETS = { successRate: 0.99, goodputShare: 0.9, upstreamPerSuccess: 1.2 };

function positiveEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

const CLIENTS = [
  { name: 'bare SDK', create: (url) => new OpenAI({ apiKey: 'sk-bench', baseURL: url }) },
  { name: 'resilient()', create: (url) => resilient(new OpenAI({ apiKey: 'sk-bench', baseURL: url })) },
];

async function runOne(spec, { callers, durationMs }) {
  const server = await startFaultServer({ capacity: CAPACITY, randomFailures: RANDOM_FAILURES, latencyMs: LATENCY_MS });
  try {
    const client = spec.create(server.url);
    const retries = [];
    const off = client.resilience?.on?.('retry', (e) => retries.push(e.kind));
    const load = await closedLoop({
      callers,
      durationMs,
      call: (signal) => client.chat.completions.create(PARAMS, { signal }),
    });
    off?.();
    const stats = server.stats();
    return summarize(spec.name, load, stats, retries.length > 0 || client.resilience ? countBy(retries, (k) => k) : undefined);
  } finally {
    await server.close();
  }
}

function summarize(name, load, stats, retriesByKind) {
  const successes = load.records.filter((r) => r.ok);
  const failures = load.records.filter((r) => !r.ok);
  const elapsedS = load.elapsedMs / 1000;
  const capacityPerSecond = CAPACITY.requestsPerMinute / 60;
  const latencies = successes.map((r) => r.ms);
  return {
    client: name,
    calls: load.records.length,
    successes: successes.length,
    failures: failures.length,
    successRate: load.records.length ? successes.length / load.records.length : null,
    elapsedS: round(elapsedS, 3),
    drainS: round(load.drainMs / 1000, 3),
    capacityPerSecond,
    goodputPerSecond: round(successes.length / elapsedS, 2),
    goodputShare: successes.length / (capacityPerSecond * elapsedS),
    upstreamRequests: stats.received,
    upstreamPerSuccess: successes.length ? stats.received / successes.length : null,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    server: stats,
    errors: countBy(failures, (r) => `${r.error}${r.status ? ` ${r.status}` : ''}`),
    abortedAtDrainLimit: load.aborted,
    ...(retriesByKind ? { retriesByKind } : {}),
  };
}

function row(s) {
  return {
    calls: s.calls,
    'success rate': pct(s.successRate),
    'goodput / capacity': pct(s.goodputShare),
    'upstream req / success': s.upstreamPerSuccess === null ? 'n/a' : s.upstreamPerSuccess.toFixed(2),
    'p50 ms': s.p50Ms,
    'p95 ms': s.p95Ms,
    'p99 ms': s.p99Ms,
    '429s sent': s.server.rateLimited,
  };
}

export const chaos = {
  name: 'chaos',
  title: 'chaos (protect)',
  async run() {
    const seconds = positiveEnv('BENCH_SECONDS', 15);
    const callers = Math.floor(positiveEnv('BENCH_CALLERS', 60));
    const config = {
      seconds,
      callers,
      capacity: CAPACITY,
      randomFailures: RANDOM_FAILURES,
      latencyMs: LATENCY_MS,
      request: PARAMS,
    };
    console.log(
      `\n== chaos (protect): ${callers} closed-loop callers for ${seconds} s against ${CAPACITY.requestsPerMinute / 60} req/s ` +
        `(bucket ${CAPACITY.burstSeconds} s), ${RANDOM_FAILURES.rate * 100}% random 500s, ${LATENCY_MS.min}-${LATENCY_MS.max} ms latency`,
    );
    const runs = [];
    for (const spec of CLIENTS) {
      console.log(`   running ${spec.name} ...`);
      runs.push(await runOne(spec, { callers, durationMs: seconds * 1000 }));
    }
    console.table(Object.fromEntries(runs.map((s) => [s.client, row(s)])));

    const ours = runs.find((s) => s.client === 'resilient()');
    const targets = [
      checkTarget('success rate', ours.successRate, { atLeast: TARGETS.successRate, format: (v) => pct(v) }),
      checkTarget('goodput / capacity', ours.goodputShare, { atLeast: TARGETS.goodputShare, format: (v) => pct(v) }),
      checkTarget('upstream requests per success', ours.upstreamPerSuccess, { atMost: TARGETS.upstreamPerSuccess, format: (v) => v.toFixed(2) }),
    ];
    return reportTargets('chaos', 'resilient() targets:', targets, {
      case: 'chaos (protect)',
      date: new Date().toISOString(),
      node: process.version,
      openai: (await import('openai/version')).VERSION,
      config,
      notes: [
        'goodputShare = successes / (capacity req/s × elapsed s); the bucket starts full, so it can exceed 100% by burstSeconds / elapsed.',
        'upstreamPerSuccess = requests the server received / successful calls; random 500s consume no capacity.',
        'latencies (p50/p95/p99) are of successful calls, from the call to its settlement, retries included.',
      ],
      runs,
    });
  },

  document(result) {
    const { config, runs } = result;
    const rows = runs.map((s) => {
      const r = row(s);
      return [s.client, r.calls, r['success rate'], r['goodput / capacity'], r['upstream req / success'], s.p50Ms, s.p95Ms, s.p99Ms, r['429s sent']];
    });
    return {
      markdown: [
        `${config.callers} closed-loop callers for ${config.seconds} s against a loopback fault server with ` +
          `${config.capacity.requestsPerMinute / 60} requests/s of capacity (a bucket of ${config.capacity.burstSeconds} s; 429s with ` +
          `\`retry-after-ms\` beyond it), ${config.randomFailures.rate * 100}% random 500s and ${config.latencyMs.min}-${config.latencyMs.max} ms ` +
          'of latency; the bare SDK and `resilient()` (defaults) each against a fresh server. Latencies are of successful calls, retries ' +
          "and waits included: with 60 callers sharing 20 requests/s, `resilient()`'s calls wait their turn in its rate limiter (seconds), " +
          "while the bare SDK's few successes are the calls that happened to get through.",
        '',
        markdownTable(['client', 'calls', 'success rate', 'goodput / capacity', 'upstream req / success', 'p50 ms', 'p95 ms', 'p99 ms', '429s sent'], rows),
      ].join('\n'),
      charts: {
        'chaos-success': barChart({
          title: 'Chaos: success rate and goodput as a share of capacity (%, higher is better)',
          series: runs.map((s) => s.client),
          groups: [
            { label: 'success rate', values: runs.map((s) => s.successRate * 100) },
            { label: 'goodput / capacity', values: runs.map((s) => s.goodputShare * 100) },
          ],
          format: (v) => `${v.toFixed(1)}%`,
        }),
        'chaos-latency': barChart({
          title: 'Chaos: latency of successful calls (ms, lower is better)',
          series: runs.map((s) => s.client),
          groups: ['p50', 'p95', 'p99'].map((p) => ({ label: p, values: runs.map((s) => s[`${p}Ms`]) })),
          format: (v) => `${v} ms`,
        }),
      },
    };
  },
};
