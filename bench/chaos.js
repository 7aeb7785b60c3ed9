// Case "chaos (protect)": a closed-loop load of more callers than the account can serve, against a
// loopback fault server with an OpenAI-like rate limit (token bucket), random 500s and latency. Runs every
// subject (bench/subjects/: the bare SDK, the Vercel AI SDK, LangChain.js, a cockatiel policy, resilient())
// one after the other, each against a fresh server, and compares them.
import { startFaultServer } from '../dist/testing/index.js';
import { closedLoop } from './load.js';
import { describeSubjects, subjectColors, subjectsTable } from './subjects/describe.js';
import { loadSubjects } from './subjects/index.js';
import { barChart } from './svg-chart.js';
import { checkTarget, countBy, markdownTable, pct, percentile, positiveEnv, reportTargets, round } from './report.js';

const CAPACITY = { requestsPerMinute: 1200, burstSeconds: 1 }; // 20 req/s, a bucket of 20
const RANDOM_FAILURES = { rate: 0.1, seed: 42 };
const LATENCY_MS = { min: 20, max: 60 };
const PARAMS = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say ok' }], max_tokens: 16 };

const TARGETS = { successRate: 0.99, goodputShare: 0.9, upstreamPerSuccess: 1.2 };


async function runOne(subject, { callers, durationMs }) {
  const server = await startFaultServer({ capacity: CAPACITY, randomFailures: RANDOM_FAILURES, latencyMs: LATENCY_MS });
  await subject.open?.();
  try {
    const client = subject.makeClient(server.url);
    const retries = [];
    const off = client.resilience?.on?.('retry', (e) => retries.push(e.kind));
    const load = await closedLoop({
      callers,
      durationMs,
      call: (signal) => client.chat.completions.create(PARAMS, { signal }),
    });
    off?.();
    const stats = server.stats();
    return summarize(subject.name, load, stats, retries.length > 0 || client.resilience ? countBy(retries, (k) => k) : undefined);
  } finally {
    await subject.close?.();
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
    abortListenersLeft: load.listenersLeft,
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
    'aborted at drain limit': s.abortedAtDrainLimit,
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
    const subjects = await loadSubjects();
    const runs = [];
    for (const subject of subjects) {
      console.log(`   running ${subject.name} ...`);
      runs.push({ key: subject.key, ...(await runOne(subject, { callers, durationMs: seconds * 1000 })) });
    }
    console.table(Object.fromEntries(runs.map((s) => [s.client, row(s)])));

    // Without resilient() among the subjects (BENCH_SUBJECTS), its targets show as not measured.
    const ours = runs.find((s) => s.key === 'resilient') ?? {};
    const targets = [
      checkTarget('success rate', ours.successRate ?? null, { atLeast: TARGETS.successRate, format: (v) => pct(v) }),
      checkTarget('goodput / capacity', ours.goodputShare ?? null, { atLeast: TARGETS.goodputShare, format: (v) => pct(v) }),
      checkTarget('upstream requests per success', ours.upstreamPerSuccess ?? null, { atMost: TARGETS.upstreamPerSuccess, format: (v) => v.toFixed(2) }),
    ];
    return reportTargets('chaos', 'resilient() targets:', targets, {
      case: 'chaos (protect)',
      date: new Date().toISOString(),
      node: process.version,
      openai: (await import('openai/version')).VERSION,
      config,
      subjects: describeSubjects(subjects),
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
      return [s.client, r.calls, r['success rate'], r['goodput / capacity'], r['upstream req / success'], s.p50Ms, s.p95Ms, s.p99Ms, r['429s sent'], s.abortedAtDrainLimit];
    });
    const leaking = runs.filter((s) => s.abortListenersLeft > 0);
    const colors = subjectColors(runs.map((s) => s.key));
    return {
      markdown: [
        `${config.callers} closed-loop callers for ${config.seconds} s against a loopback fault server with ` +
          `${config.capacity.requestsPerMinute / 60} requests/s of capacity (a bucket of ${config.capacity.burstSeconds} s; 429s with ` +
          `\`retry-after-ms\` beyond it), ${config.randomFailures.rate * 100}% random 500s and ${config.latencyMs.min}-${config.latencyMs.max} ms ` +
          'of latency. Each subject runs against a fresh server, one after the other, set up as its documentation shows:',
        '',
        ...(result.subjects ? [subjectsTable(result.subjects), ''] : []),
        'Latencies are of successful calls, retries and waits included. Calls still running ' +
          '60 s after the end are aborted and counted as failures (last column).',
        '',
        markdownTable(
          ['subject', 'calls', 'success rate', 'goodput / capacity', 'upstream req / success', 'p50 ms', 'p95 ms', 'p99 ms', '429s sent', 'aborted at drain limit'],
          rows,
        ),
        '',
        'What each one does here. The bare SDK and the AI SDK retry a 429 or a 500 twice: after a 429 they wait what its ' +
          '`retry-after-ms` asks (until the bucket holds a token again: tens of milliseconds), after a 500 their own backoff ' +
          '(the SDK 0.5 s then 1 s, less up to 25%; the AI SDK 2 s then 4 s). Every caller then sends again at once, so most ' +
          'requests meet an empty bucket, and a call that meets three fails. LangChain.js retries up to 6 times, waiting 1–2 s, ' +
          'then 2–4 s and so on (at least the `retry-after` it is given): its callers spend most of the run waiting, fewer ' +
          "requests, but capacity left unused. Portkey's gateway, configured with 3 retries, retries after 1, 2 and 4 s, and " +
          'the SDK in front of it keeps its own 2 retries (as Portkey\'s examples do), so a call can send up to 12 requests ' +
          'upstream. The cockatiel policy retries 3 times with short jittered backoffs (from 128 ms), and its breaker opens ' +
          'after 5 consecutive failures (a 429 is one) and then fails every call at once for 10 s (its retries retry those ' +
          "failures too), so its callers mostly fail fast. `resilient()` paces its callers to the capacity the server announces " +
          '(`x-ratelimit-*`), so calls wait their turn in its rate limiter (hence its seconds of latency) and almost every ' +
          'request it sends succeeds.',
        ...(leaking.length > 0
          ? [
              '',
              `Once every call had settled, ${leaking.map((s) => `${s.client} had left ${s.abortListenersLeft.toLocaleString('en-US')} abort listeners (after ${s.calls.toLocaleString('en-US')} calls)`).join(', ')} ` +
                "on the callers' shared `AbortSignal`: listeners added to the caller's signal and never removed, so a signal that " +
                'lives as long as a server (a shutdown signal passed to every call) grows without bound. The other subjects left none.',
            ]
          : []),
      ].join('\n'),
      charts: {
        'chaos-success': barChart({
          title: 'Chaos: success rate and goodput as a share of capacity (%, higher is better)',
          series: runs.map((s) => s.client),
          colors,
          groups: [
            { label: 'success rate', values: runs.map((s) => s.successRate * 100) },
            { label: 'goodput / capacity', values: runs.map((s) => s.goodputShare * 100) },
          ],
          format: (v) => `${v.toFixed(1)}%`,
        }),
        'chaos-upstream': barChart({
          title: 'Chaos: upstream requests per successful call (lower is better)',
          series: runs.map((s) => s.client),
          colors,
          groups: [{ label: 'requests per success', values: runs.map((s) => s.upstreamPerSuccess) }],
          format: (v) => v.toFixed(2),
          log: true,
        }),
        'chaos-latency': barChart({
          title: 'Chaos: latency of successful calls (ms, lower is better)',
          series: runs.map((s) => s.client),
          colors,
          groups: ['p50', 'p95', 'p99'].map((p) => ({ label: p, values: runs.map((s) => s[`${p}Ms`]) })),
          format: (v) => `${v} ms`,
        }),
      },
    };
  },
};
