// A worker process of the "tenants" part of the `budgets` case (bench/budgets-tenants.js), started with
// child_process.fork(): one resilient client with a per-tenant token budget (and `shared:
// createRedisState(...)` on the run's Redis prefix, or without shared state), driven over IPC.
//   init  { baseURL, redisUrl, prefix, shared, tokens, window, steadyTenants } → ready
//   run   { startAt, seconds, flooder, floodLoops, steadyTenants, perSecond, offsetMs } → result
//   shutdown
// Each call names its tenant in a bench-only header (`x-bench-tenant`), so the fault server can tell
// which tenant each request it receives came from (the library sends no tenant upstream).
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { createClient } from 'redis';
import { resilient } from '../dist/index.js';
import { createRedisState } from '../dist/redis/index.js';
import { serveWorker } from './worker-process.js';
import { PARAMS } from './budgets-tenants.js';

let ai;
let redis;

const errorName = (error) => error?.constructor?.name ?? String(error);

async function init({ baseURL, redisUrl, prefix, shared, tokens, window, steadyTenants }) {
  let state;
  if (shared) {
    redis = createClient({ url: redisUrl, socket: { connectTimeout: 2_000, reconnectStrategy: () => 100 } });
    // createRedisState listens for `error` before the connection exists.
    // A generous command timeout: the flooder's loops keep this process's event loop busy, and on a loaded
    // machine a slow answer must not turn into an outage (decisions on local state: not what is measured).
    state = createRedisState(redis, { prefix, timeout: 2_000 });
    await redis.connect();
  }
  // Each request says when it left this process (a bench-only header), so windows can also be measured
  // by sending time, apart from the delay to the server's clock stamp on a busy machine.
  const fetchStamped = (input, init) => {
    const headers = new globalThis.Headers(init?.headers);
    headers.set('x-bench-sent-at', String(Date.now()));
    return globalThis.fetch(input, { ...init, headers });
  };
  ai = resilient(new OpenAI({ baseURL, apiKey: 'sk-bench', maxRetries: 0, fetch: fetchStamped }), {
    ...(state ? { shared: state } : {}),
    // The well-behaved tenants have budgets of their own they never reach: they measure whether the
    // flooder's refusals slow anyone else down.
    budgets: { limits: [{ per: 'tenant', tokens, window, tenants: Object.fromEntries(steadyTenants.map((tenant) => [tenant, 100 * tokens])) }] },
  });
  // Warm-up (a tenant of its own, left out of the measures): the first calls of a process are slow to leave
  // it (connections, compilation), and a call counts in its budget from its reservation, not its sending.
  const warmUp = ai.resilience.forTenant('warm-up');
  await Promise.all([false, true, false, true].map((stream) => call(warmUp, 'warm-up', stream)));
}

/** One call, a chat completion as JSON or a stream read to its end (every other call of a tenant). */
async function call(client, tenant, stream, signal) {
  const options = { headers: { 'x-bench-tenant': tenant }, ...(signal ? { signal } : {}) };
  if (!stream) return client.chat.completions.create(PARAMS, options);
  const chunks = await client.chat.completions.create({ ...PARAMS, stream: true }, options);
  for await (const chunk of chunks) void chunk;
}

/** One tenant's calls at `perSecond` for `seconds` on a fixed schedule from `startAt`, each timed from its start. */
async function steady(tenant, { startAt, perSecond, seconds }, offsetMs) {
  const client = ai.resilience.forTenant(tenant);
  const latencies = [];
  const failures = [];
  const calls = [];
  for (let i = 0; i < seconds * perSecond; i++) {
    await sleep(Math.max(0, startAt + offsetMs + (i * 1000) / perSecond - Date.now()));
    const at = performance.now();
    calls.push(call(client, tenant, i % 2 === 1).then(() => latencies.push(performance.now() - at), (error) => failures.push(errorName(error))));
  }
  await Promise.all(calls);
  return { latencies, failures };
}

/** `loops` loops each calling as the flooder back to back until `endAt`; a refused call waits `pauseMs`. */
async function flood(tenant, loops, endAt, pauseMs) {
  const client = ai.resilience.forTenant(tenant);
  const outcomes = { succeeded: 0, failed: {} };
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let i = 0; Date.now() < endAt; i++) {
        try {
          await call(client, tenant, (i + loop) % 2 === 1);
          outcomes.succeeded++;
        } catch (error) {
          const name = errorName(error);
          outcomes.failed[name] = (outcomes.failed[name] ?? 0) + 1;
          await sleep(pauseMs);
        }
      }
    }),
  );
  return outcomes;
}

async function run({ startAt, seconds, flooder, floodLoops, pauseMs, steadyTenants, perSecond, offsetMs }) {
  await sleep(Math.max(0, startAt - Date.now()));
  const [floodOutcomes, ...tenants] = await Promise.all([
    floodLoops > 0 ? flood(flooder, floodLoops, startAt + seconds * 1000, pauseMs) : { succeeded: 0, failed: {} },
    ...steadyTenants.map((tenant, i) => steady(tenant, { startAt, perSecond, seconds }, offsetMs + (i * 1000) / perSecond / steadyTenants.length)),
  ]);
  return {
    pid: process.pid,
    tenants: Object.fromEntries(steadyTenants.map((tenant, i) => [tenant, tenants[i]])),
    flood: floodOutcomes,
    shared: ai.resilience.stats().shared ?? null,
  };
}

serveWorker({ init, run, redis: () => redis });
