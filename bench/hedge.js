// Case "hedge": the tail-latency gain of hedging on a server with a slow tail. A loopback fault server
// answers 97% of requests in 8-12 ms and 3% in 400 ms (drawn per request: a hedge is slow only 3% of the
// time too). The bare SDK and two hedging clients, measured in alternating rounds of closed-loop calls:
// a fixed 30 ms hedge delay, and the default learned delay (the model's p95). Reports p50/p95/p99, the
// share of calls hedged and the extra upstream requests that cost.
import OpenAI from 'openai';
import { resilient } from '../dist/index.js';
import { startFaultServer } from '../dist/testing/index.js';
import { countedLoop } from './load.js';
import { barChart } from './svg-chart.js';
import { checkTarget, markdownTable, percentile, reportTargets, round } from './report.js';

const LATENCY_MS = { min: 8, max: 12, slowShare: 0.03, slowMs: 400 };
// Limits far above the load, announced in the x-ratelimit-* headers the rate limiter learns from.
const CAPACITY = { requestsPerMinute: 6_000_000, tokensPerMinute: 1e10 };
const SEED = { rate: 0, seed: 7 }; // no failures; seeds the latency draws
const ROUNDS = 6;
const CALLS_PER_ROUND = 500;
const CALLERS = 8;
const WARMUP = 200;
const PARAMS = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say ok' }], max_tokens: 16 };
const FIXED = { delay: 30, maxHedgedShare: 0.1 };
const TARGETS = { p99Gain: 2, extraRequestsPerCall: FIXED.maxHedgedShare };

const CLIENTS = [
  { name: 'bare SDK', create: (url) => new OpenAI({ apiKey: 'sk-bench', baseURL: url }) },
  { name: 'hedge, fixed 30 ms', create: (url) => resilient(new OpenAI({ apiKey: 'sk-bench', baseURL: url }), { hedge: FIXED }) },
  { name: 'hedge, learned p95', create: (url) => resilient(new OpenAI({ apiKey: 'sk-bench', baseURL: url }), { hedge: true }) },
];

/** `calls` calls by `CALLERS` closed loops; their latencies, and the upstream requests they made. */
async function batch(client, server, calls) {
  const before = server.stats().received;
  const latencies = await countedLoop({ callers: CALLERS, calls, call: () => client.chat.completions.create(PARAMS) });
  return { latencies, upstream: server.stats().received - before };
}

function summarize(name, latencies, upstream, hedges) {
  const calls = latencies.length;
  return {
    client: name,
    calls,
    p50Ms: round(percentile(latencies, 50), 1),
    p95Ms: round(percentile(latencies, 95), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    maxMs: round(Math.max(...latencies), 1),
    upstreamRequests: upstream,
    extraRequestsPerCall: (upstream - calls) / calls,
    hedgesSent: hedges?.sent ?? 0,
    hedgesWon: hedges?.won ?? 0,
    hedgedShare: (hedges?.sent ?? 0) / calls,
  };
}

export const hedge = {
  name: 'hedge',
  title: 'hedge: p99 on a server with a slow tail',
  async run() {
    console.log(
      `\n== hedge: loopback server answering in ${LATENCY_MS.min}-${LATENCY_MS.max} ms, ${LATENCY_MS.slowShare * 100}% in ${LATENCY_MS.slowMs} ms; ` +
        `${CALLERS} closed-loop callers, ${ROUNDS} alternating rounds of ${CALLS_PER_ROUND} calls per client`,
    );
    const server = await startFaultServer({ capacity: CAPACITY, randomFailures: SEED, latencyMs: LATENCY_MS });
    try {
      const clients = CLIENTS.map((spec) => ({ ...spec, client: spec.create(server.url), latencies: [], upstream: 0 }));
      for (const c of clients) await batch(c.client, server, WARMUP);
      const hedgesBefore = clients.map((c) => c.client.resilience?.stats().total.hedges ?? { sent: 0, won: 0 });
      for (let r = 0; r < ROUNDS; r++) {
        for (const c of r % 2 === 0 ? clients : [...clients].reverse()) {
          const { latencies, upstream } = await batch(c.client, server, CALLS_PER_ROUND);
          c.latencies.push(...latencies);
          c.upstream += upstream;
        }
      }
      const runs = clients.map((c, i) => {
        const now = c.client.resilience?.stats().total.hedges;
        const hedges = now && { sent: now.sent - hedgesBefore[i].sent, won: now.won - hedgesBefore[i].won };
        return summarize(c.name, c.latencies, c.upstream, hedges);
      });
      console.table(
        Object.fromEntries(
          runs.map((s) => [s.client, {
            'p50 ms': s.p50Ms, 'p95 ms': s.p95Ms, 'p99 ms': s.p99Ms, 'max ms': s.maxMs,
            'hedged calls': `${(s.hedgedShare * 100).toFixed(1)}%`, 'hedges won': s.hedgesWon, 'extra req / call': s.extraRequestsPerCall.toFixed(3),
          }]),
        ),
      );
      const [bare, fixed] = runs;
      const targets = [
        checkTarget('p99 gain, bare / hedged (fixed 30 ms)', bare.p99Ms / fixed.p99Ms, { atLeast: TARGETS.p99Gain, format: (v) => `${v.toFixed(1)}×` }),
        checkTarget('extra upstream requests per call (fixed 30 ms)', fixed.extraRequestsPerCall, { atMost: TARGETS.extraRequestsPerCall, format: (v) => v.toFixed(3) }),
      ];
      return reportTargets('hedge', 'hedge targets:', targets, {
        case: 'hedge',
        config: { latencyMs: LATENCY_MS, capacity: CAPACITY, rounds: ROUNDS, callsPerRound: CALLS_PER_ROUND, callers: CALLERS, warmup: WARMUP, fixed: FIXED, request: PARAMS },
        notes: [
          'Latencies are of whole calls, from the call to its settlement; every call succeeded.',
          'extraRequestsPerCall = (requests the server received − calls) / calls: the cost of the hedges.',
          'The learned client uses hedge: true: delay { percentile: 95 } of the model\'s recent attempts, maxHedgedShare 0.1, minSamples 20 (reached in warm-up).',
        ],
        runs,
      });
    } finally {
      await server.close();
    }
  },

  document(result) {
    const { config, runs } = result;
    const [bare, fixed] = runs;
    return {
      markdown: [
        `A loopback fault server answering ${config.latencyMs.min}-${config.latencyMs.max} ms, but ${config.latencyMs.slowShare * 100}% of requests ` +
          `in ${config.latencyMs.slowMs} ms (\`latencyMs: { min: ${config.latencyMs.min}, max: ${config.latencyMs.max}, slowShare: ${config.latencyMs.slowShare}, slowMs: ${config.latencyMs.slowMs} }\`), ` +
          `${config.callers} closed-loop callers, ${config.rounds} alternating rounds of ${config.callsPerRound} calls per client. ` +
          `With \`hedge: { delay: ${config.fixed.delay}, maxHedgedShare: ${config.fixed.maxHedgedShare} }\` the p99 goes from **${bare.p99Ms} ms** to ` +
          `**${fixed.p99Ms} ms** for ${(fixed.extraRequestsPerCall * 100).toFixed(1)}% more upstream requests; \`hedge: true\` learns the delay (the p95 of the model's attempts).`,
        '',
        markdownTable(
          ['client', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'calls hedged', 'hedges won', 'extra upstream requests'],
          runs.map((s) => [s.client, s.p50Ms, s.p95Ms, s.p99Ms, s.maxMs, `${(s.hedgedShare * 100).toFixed(1)}%`, s.hedgesWon, `${(s.extraRequestsPerCall * 100).toFixed(1)}%`]),
        ),
      ].join('\n'),
      charts: {
        hedge: barChart({
          title: 'Hedging on a slow tail: call latency (ms, lower is better)',
          series: runs.map((s) => s.client),
          groups: ['p50', 'p95', 'p99'].map((p) => ({ label: p, values: runs.map((s) => s[`${p}Ms`]) })),
          format: (v) => `${v} ms`,
        }),
      },
    };
  },
};
