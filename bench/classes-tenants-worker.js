// A worker process of the "tenants" half of the `classes` case (bench/classes-tenants.js), started with
// child_process.fork(): one resilient client (with `shared: createRedisState(...)` on the run's Redis
// prefix, or without shared state), driven over IPC.
//   init  { baseURL, redisUrl, prefix, shared, tenantShare } → ready (after one call that learns the limits)
//   run   { startAt, offsetMs, steadyTenants, perSecond, seconds, flooder, flood, floodLeadMs } → result
//   shutdown
// Each call names its tenant in a bench-only header (`x-bench-tenant`), so the fault server can tell
// which tenant each request it receives came from (the library sends no tenant upstream).
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { createClient } from 'redis';
import { resilient } from '../dist/index.js';
import { createRedisState } from '../dist/redis/index.js';
import { serveWorker } from './worker-process.js';

const PARAMS = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say ok' }], max_tokens: 16 };

let ai;
let redis;

const errorName = (error) => error?.constructor?.name ?? String(error);

async function init({ baseURL, redisUrl, prefix, shared, tenantShare }) {
  let state;
  if (shared) {
    redis = createClient({ url: redisUrl, socket: { connectTimeout: 2_000, reconnectStrategy: () => 100 } });
    // createRedisState listens for `error` before the connection exists.
    state = createRedisState(redis, { prefix });
    await redis.connect();
  }
  ai = resilient(new OpenAI({ baseURL, apiKey: 'sk-bench' }), { ...(state ? { shared: state } : {}), rateLimit: { tenantShare } });
  // A tenant's share applies once the model's rate is known: one call (no tenant) reads the headers.
  await ai.chat.completions.create(PARAMS, { headers: { 'x-bench-tenant': 'warm-up' } });
}

/** One tenant's calls at `perSecond` for `seconds` on a fixed schedule from `startAt`, each timed from its start. */
async function steady(tenant, { startAt, perSecond, seconds }, offsetMs) {
  const client = ai.resilience.forTenant(tenant);
  const latencies = [];
  const failures = [];
  const calls = [];
  const total = seconds * perSecond;
  for (let i = 0; i < total; i++) {
    const due = startAt + offsetMs + (i * 1000) / perSecond;
    await sleep(Math.max(0, due - Date.now()));
    const at = performance.now();
    calls.push(
      client.chat.completions.create(PARAMS, { headers: { 'x-bench-tenant': tenant } }).then(
        () => latencies.push(performance.now() - at),
        (error) => failures.push(errorName(error)),
      ),
    );
  }
  await Promise.all(calls);
  return { latencies, failures };
}

async function run({ startAt, offsetMs, steadyTenants, perSecond, seconds, flooder: flooderName, flood, floodLeadMs }) {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const flooder = ai.resilience.forTenant(flooderName);
  const floodOutcomes = { succeeded: 0, failed: {} };
  let floodCalls = [];
  if (flood > 0) {
    await sleep(Math.max(0, startAt - floodLeadMs - Date.now()));
    floodCalls = Array.from({ length: flood }, () =>
      flooder.chat.completions.create(PARAMS, { headers: { 'x-bench-tenant': flooderName }, signal: controller.signal }).then(
        () => floodOutcomes.succeeded++,
        (error) => {
          const name = controller.signal.aborted ? 'aborted at the end of the run' : errorName(error);
          floodOutcomes.failed[name] = (floodOutcomes.failed[name] ?? 0) + 1;
        },
      ),
    );
  }
  // The steady tenants' arrivals spread over the second (and across the processes: `offsetMs`), not all at once.
  const tenants = await Promise.all(
    steadyTenants.map((tenant, i) => steady(tenant, { startAt, perSecond, seconds }, offsetMs + (i * 1000) / perSecond / steadyTenants.length)),
  );
  // The flood's leftover is cut at the end of the run (it would drain for minutes at the flooder's share).
  const floodEndedAt = Date.now();
  controller.abort(new Error('end of the run'));
  await Promise.all(floodCalls);
  return {
    pid: process.pid,
    tenants: Object.fromEntries(steadyTenants.map((tenant, i) => [tenant, tenants[i]])),
    flood: floodOutcomes,
    floodEndedAt,
    shared: ai.resilience.stats().shared ?? null,
  };
}

serveWorker({ init, run, redis: () => redis });
