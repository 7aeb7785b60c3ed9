// The "tenants" half of the `classes` case (issue 26's second bench target): three OS processes sharing one
// Redis call one loopback fault server that admits 20 requests a second (1 200 a minute, a bucket of one
// second's worth) and says so in OpenAI's x-ratelimit-* headers, with `rateLimit.tenantShare` 0.25. In each
// process three well-behaved tenants call at 1 a second each (9 a second in all); in a flood run, one
// tenant (`flooder`) also fires 150 calls at once from every process. Measured:
//   - the well-behaved tenants' p95 latency in the flood run against a run without the flood (≤ 1.2×);
//   - the flooder's requests received by the server, whichever process sent them, over every sliding
//     window: never more than its share (0.25 × 20/s = 5/s) times the window plus the burst its share's
//     bucket holds (one second's worth: 5);
//   - the same flood with `shared` off (each process counts its own shares): what per-process shares give.
// Each call names its tenant in a bench-only header (`x-bench-tenant`) that the server records; the
// library sends no tenant upstream. The processes are bench/classes-tenants-worker.js.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFaultServer } from '../dist/testing/index.js';
import { countBy, percentile, round, sumOutcomes } from './report.js';
import { startWorker as startWorkerProcess } from './worker-process.js';

export const TENANTS = Object.freeze({
  requestsPerSecond: 20,
  latencyMs: Object.freeze({ min: 200, max: 400 }),
  processes: 3,
  tenantShare: 0.25,
  steadyTenants: Object.freeze(['tenant-1', 'tenant-2', 'tenant-3']),
  flooder: 'flooder',
  /** Calls a second of each well-behaved tenant in each process. */
  perSecond: 1,
  /** Seconds of the well-behaved tenants' calls in a run. */
  seconds: 20,
  /** The flooder's calls, fired at once by each process, this long before the well-behaved tenants start. */
  flood: 150,
  floodLeadMs: 1_000,
  /** Sliding windows over which the flooder's request rate is measured. */
  windowsS: Object.freeze([5, 10]),
});

/**
 * The burst a tenant's share holds: one second of its rate (src/policies/rate-limit/bucket-capacity.ts,
 * `bucketCapacity('requests', perMinute)`, and the shared bucket of src/redis/tenant-scripts.ts).
 */
export const shareBurst = ({ requestsPerSecond, tenantShare }) => Math.max(1, requestsPerSecond * tenantShare);

export const TENANT_RUNS = [
  { key: 'baseline', name: 'shared, no flood', shared: true, flood: false },
  { key: 'flood', name: 'shared, flood', shared: true, flood: true },
  { key: 'flood-unshared', name: 'not shared (per-process state), flood', shared: false, flood: true },
];

const WORKER = new URL('./classes-tenants-worker.js', import.meta.url);

const startWorker = () => startWorkerProcess(WORKER, 'classes-tenants');

/** The most `times` (sorted, ms) that fall in any window of `windowMs` starting at one of them. */
function maxInWindow(times, windowMs) {
  let most = 0;
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    while (end < times.length && times[end] < times[start] + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

/** One run against a fresh fault server and fresh worker processes (a fresh Redis prefix when shared). */
export async function tenantsRun(spec, redisUrl) {
  const { requestsPerSecond, latencyMs, processes, tenantShare, steadyTenants, flooder, perSecond, seconds, flood, floodLeadMs, windowsS } = TENANTS;
  const server = await startFaultServer({ capacity: { requestsPerMinute: requestsPerSecond * 60, burstSeconds: 1 }, latencyMs });
  const workers = [];
  try {
    const prefix = `bench-classes:${randomUUID()}:`;
    for (let i = 0; i < processes; i++) workers.push(startWorker());
    await Promise.all(workers.map((w) => w.request({ type: 'init', init: { baseURL: server.url, redisUrl, prefix, shared: spec.shared, tenantShare } }, 'ready')));
    await sleep(1_000); // the warm-up calls' capacity is back
    server.resetStats();
    const startAt = Date.now() + 500 + (spec.flood ? floodLeadMs : 0);
    const stride = 1000 / perSecond / steadyTenants.length / processes;
    const results = (
      await Promise.all(
        workers.map((w, i) =>
          w.request({ type: 'run', run: { startAt, offsetMs: i * stride, steadyTenants, perSecond, seconds, flooder, flood: spec.flood ? flood : 0, floodLeadMs } }, 'result'),
        ),
      )
    ).map((reply) => reply.result);

    const latencies = results.flatMap((r) => Object.values(r.tenants).flatMap((t) => t.latencies));
    const failures = results.flatMap((r) => Object.values(r.tenants).flatMap((t) => t.failures));
    const requests = server.requestsTo('/chat/completions');
    const floodTimes = requests.filter((r) => r.headers['x-bench-tenant'] === flooder).map((r) => r.receivedAt).sort((a, b) => a - b);
    const othersSent = requests.filter((r) => steadyTenants.includes(r.headers['x-bench-tenant'])).length;
    const share = requestsPerSecond * tenantShare;
    const burst = shareBurst(TENANTS);
    const windows = windowsS.map((w) => {
      const most = maxInWindow(floodTimes, w * 1000);
      const allowed = share * w + burst;
      return { seconds: w, maxRequests: most, maxPerSecond: round(most / w, 2), allowedRequests: allowed, allowedPerSecond: round(allowed / w, 2) };
    });
    const floodSpan = floodTimes.length > 1 ? (floodTimes.at(-1) - floodTimes[0]) / 1000 : null;
    const floodEndedAt = Math.max(...results.map((r) => r.floodEndedAt));
    return {
      key: spec.key,
      name: spec.name,
      shared: spec.shared,
      flood: spec.flood,
      others: {
        calls: latencies.length + failures.length,
        p50: round(percentile(latencies, 50)),
        p95: round(percentile(latencies, 95)),
        max: round(percentile(latencies, 100)),
        failed: failures.length,
        failures: countBy(failures, (f) => f),
        requestsSent: othersSent,
      },
      flooder: spec.flood
        ? {
            requestsSent: floodTimes.length,
            meanPerSecond: floodSpan ? round(floodTimes.length / ((floodEndedAt - floodTimes[0]) / 1000), 2) : null,
            windows,
            calls: { fired: flood * processes, ...sumOutcomes(results.map((r) => r.flood)) },
          }
        : null,
      server: server.stats(),
      sharedState: results.map((r) => r.shared && { available: r.shared.available, outages: r.shared.outages, localDecisions: r.shared.localDecisions }),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server.close();
  }
}

