// The "tenants" part of the `budgets` case (issue 27's first bench target): three OS processes sharing one
// Redis call one loopback fault server, each with `budgets: { limits: [{ per: 'tenant', tokens: 10_000,
// window }] }`. In each process three well-behaved tenants call at 1 a second each; in a flood run one
// tenant (`flooder`) also calls back to back from several loops in every process (a refused call waits
// a little and tries again). Half the calls are chat JSON, half streams read to their end. Measured at the
// server: the tokens of the flooder's requests (as the server's `usage` counts them), by arrival time, in
// every sliding window: never more than the limit plus one call's reservation. The well-behaved tenants'
// success rate and p95 against a run without the flood. The same flood without shared state (each process
// keeps its own budget) is measured beside it: what per-process budgets give.
// The window is 10 s in the short runs (the limit stays 10 000: each window is as tight as a minute's,
// six times as often), and a minute in the `minute` run.
import { randomUUID } from 'node:crypto';
import { startFaultServer } from '../dist/testing/index.js';
import { countBy, percentile, round, sumOutcomes } from './report.js';
import { startWorker as startWorkerProcess } from './worker-process.js';

/** What every call sends: about 90 prompt tokens as the fault server counts them, at most 50 out. */
export const PARAMS = Object.freeze({
  model: 'gpt-4.1-mini',
  messages: [{ role: 'user', content: `Summarize the following in one word. ${'The budget holds across processes. '.repeat(9)}` }],
  max_tokens: 50,
});

export const BUDGET_TENANTS = Object.freeze({
  processes: 3,
  tokens: 10_000,
  latencyMs: Object.freeze({ min: 50, max: 150 }),
  steadyTenants: Object.freeze(['tenant-1', 'tenant-2', 'tenant-3']),
  /** Calls a second of each well-behaved tenant in each process. */
  perSecond: 1,
  flooder: 'flooder',
  /** The flooder's loops in each process, calling back to back. */
  floodLoops: 4,
  /** How long a refused flooder call waits before the next. */
  pauseMs: 100,
});

export const BUDGET_RUNS = [
  { key: 'baseline', name: 'shared, no flood (10 s window)', shared: true, flood: false, window: 10_000, seconds: 25 },
  { key: 'flood', name: 'shared, flood (10 s window)', shared: true, flood: true, window: 10_000, seconds: 25 },
  { key: 'flood-unshared', name: 'not shared (per-process budgets), flood (10 s window)', shared: false, flood: true, window: 10_000, seconds: 25 },
  { key: 'minute', name: 'shared, flood (1 minute window)', shared: true, flood: true, window: 60_000, seconds: 75 },
];

/** The usage the fault server reports for one request (src/testing: prompt = JSON of the messages / 4; 'ok' is 1 token, a stream 3 deltas). */
export function serverTokens(body) {
  const prompt = Math.max(1, Math.ceil(JSON.stringify(body.messages ?? '').length / 4));
  return prompt + (body.stream === true ? 3 : 1);
}

/** One call's reservation, as the server counts tokens: its prompt and its `max_tokens`. */
export const callReservation = () => serverTokens(PARAMS) - 1 + PARAMS.max_tokens;

const WORKER = new URL('./budgets-tenants-worker.js', import.meta.url);

const startWorker = () => startWorkerProcess(WORKER, 'budgets-tenants');

/** The most tokens in any window of `windowMs` (events sorted by time, each `{ at, tokens }`), and where it starts. */
function maxInWindow(events, windowMs) {
  let most = 0;
  let sum = 0;
  let end = 0;
  for (let start = 0; start < events.length; start++) {
    while (end < events.length && events[end].at < events[start].at + windowMs) sum += events[end++].tokens;
    most = Math.max(most, sum);
    sum -= events[start].tokens;
  }
  return most;
}

/** One run against a fresh fault server and fresh worker processes (a fresh Redis prefix when shared). */
export async function budgetRun(spec, redisUrl) {
  const { processes, tokens, latencyMs, steadyTenants, perSecond, flooder, floodLoops, pauseMs } = BUDGET_TENANTS;
  const server = await startFaultServer({ latencyMs });
  const workers = [];
  try {
    const prefix = `bench-budgets:${randomUUID()}:`;
    for (let i = 0; i < processes; i++) workers.push(startWorker());
    await Promise.all(workers.map((w) => w.request({ type: 'init', init: { baseURL: server.url, redisUrl, prefix, shared: spec.shared, tokens, window: spec.window, steadyTenants } }, 'ready')));
    const startAt = Date.now() + 500;
    const stride = 1000 / perSecond / steadyTenants.length / processes;
    const results = (
      await Promise.all(
        workers.map((w, i) =>
          w.request(
            { type: 'run', run: { startAt, seconds: spec.seconds, flooder, floodLoops: spec.flood ? floodLoops : 0, pauseMs, steadyTenants, perSecond, offsetMs: i * stride } },
            'result',
          ),
        ),
      )
    ).map((reply) => reply.result);

    const latencies = results.flatMap((r) => Object.values(r.tenants).flatMap((t) => t.latencies));
    const failures = results.flatMap((r) => Object.values(r.tenants).flatMap((t) => t.failures));
    const requests = server.requestsTo('/chat/completions');
    const floodEvents = requests
      .filter((r) => r.headers['x-bench-tenant'] === flooder)
      .map((r) => ({ at: r.receivedAt, tokens: serverTokens(r.body) }))
      .sort((a, b) => a.at - b.at);
    const floodTokens = floodEvents.reduce((sum, e) => sum + e.tokens, 0);
    // The same requests by when they left their process (x-bench-sent-at), and how long they took to be stamped at the server.
    const sentEvents = requests
      .filter((r) => r.headers['x-bench-tenant'] === flooder)
      .map((r) => ({ at: Number(r.headers['x-bench-sent-at']), tokens: serverTokens(r.body), delay: r.receivedAt - Number(r.headers['x-bench-sent-at']) }))
      .sort((a, b) => a.at - b.at);
    const reservation = callReservation();
    const calls = latencies.length + failures.length;
    return {
      key: spec.key,
      name: spec.name,
      shared: spec.shared,
      flood: spec.flood,
      window: spec.window,
      seconds: spec.seconds,
      others: {
        calls,
        succeeded: latencies.length,
        successRate: calls === 0 ? null : round(latencies.length / calls, 4),
        p50: round(percentile(latencies, 50)),
        p95: round(percentile(latencies, 95)),
        failed: failures.length,
        failures: countBy(failures, (f) => f),
      },
      flooder: spec.flood
        ? {
            requests: floodEvents.length,
            tokens: floodTokens,
            maxTokensInWindow: maxInWindow(floodEvents, spec.window),
            maxTokensInWindowBySending: maxInWindow(sentEvents, spec.window),
            stampDelayMs: { p50: round(percentile(sentEvents.map((e) => e.delay), 50)), max: round(percentile(sentEvents.map((e) => e.delay), 100)) },
            allowedTokens: tokens + reservation,
            reservation,
            calls: sumOutcomes(results.map((r) => r.flood)),
          }
        : null,
      sharedState: results.map((r) => r.shared && { available: r.shared.available, outages: r.shared.outages, localDecisions: r.shared.localDecisions }),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server.close();
  }
}

