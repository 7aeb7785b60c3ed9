// Case "redis": what `openai-resilient/redis` adds to every call. One process, an in-memory upstream
// (createFaultFetch, no sockets), and a redis-server that this case starts on loopback and stops at the end.
// Four clients, measured in alternating batches (so that drift, GC and JIT affect them alike):
//   local        circuit breaker + rate limiter (limits so high it never waits), no shared state
//   shared       the same with `shared: createRedisState(redis)`: the Redis round trips of each call
//   cache/memory cache hits from the default in-memory store
//   cache/redis  cache hits from `shared.cacheStore` (a GET and an AES-GCM open per hit)
// Reports the median per call of each and the µs the Redis variants add per call.
import { setImmediate as nextTurn } from 'node:timers/promises';
import OpenAI from 'openai';
import { createClient } from 'redis';
import { resilient } from '../dist/index.js';
import { createRedisState } from '../dist/redis/index.js';
import { createFaultFetch } from '../dist/testing/index.js';
import { startRedis } from './redis-server.js';
import { barChart } from './svg-chart.js';
import { checkTarget, markdownTable, percentile, reportTargets, round } from './report.js';

const ROUNDS = 12; // batches per client, alternating
const BATCH = 250; // calls per batch
const WARMUP = 300; // calls per client before measuring
const PARAMS = { model: 'gpt-4.1-mini', temperature: 0, messages: [{ role: 'user', content: 'Say ok' }], max_tokens: 16 };
// Breaker and limiter on, the limiter never waiting: what is measured is bookkeeping, not waits.
const PROTECTION = {
  circuitBreaker: { consecutiveFailures: 5, halfOpenAfter: 10_000 },
  rateLimit: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 },
};
const TARGETS = { sharedAddedUs: 1_000, cacheAddedUs: 1_000 };

const us = (ms) => ms * 1000;

/** A resilient client on its own in-memory upstream, with counters of what must not happen here. */
function makeClient(name, options) {
  const upstream = createFaultFetch();
  const ai = resilient(new OpenAI({ apiKey: 'sk-bench', baseURL: 'https://api.openai.test/v1', fetch: upstream.fetch, maxRetries: 0 }), options);
  const counts = { rateLimitWaits: 0, sharedStateDowns: 0, cacheStoreErrors: 0, cacheMisses: 0 };
  ai.resilience.on('rateLimitWait', () => counts.rateLimitWaits++);
  ai.resilience.on('sharedStateDown', () => counts.sharedStateDowns++);
  ai.resilience.on('cacheStoreError', () => counts.cacheStoreErrors++);
  ai.resilience.on('cacheMiss', () => counts.cacheMisses++);
  return { name, ai, upstream, counts, samples: [], scripts: 0 };
}

/**
 * `calls` sequential calls of one client. Then the Redis updates it sent without waiting (rate learning,
 * cache writes) are let settle: the in-memory upstream answers in microtasks, so a batch of another client
 * would not let the event loop read their replies, and they would time out (a bench artefact).
 */
async function batch(client, calls, record, connection) {
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    const completion = await client.ai.chat.completions.create(PARAMS);
    const ms = performance.now() - start;
    if (completion.choices[0]?.message.content !== 'ok') throw new Error(`${client.name}: unexpected answer`);
    if (record) client.samples.push(ms);
  }
  client.upstream.reset(); // forget the recorded requests: memory stays flat
  await nextTurn();
  await connection.ping(); // one connection answers in order: every earlier command has been answered
}

/** Scripts run by the server so far (EVALSHA + EVAL), from INFO commandstats: counted without touching the clients. */
async function scriptsRun(connection) {
  const info = await connection.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}

function summary(client) {
  const median = percentile(client.samples, 50);
  return {
    calls: client.samples.length,
    medianMs: median,
    p90Ms: percentile(client.samples, 90),
    p99Ms: percentile(client.samples, 99),
    redisScriptsPerCall: client.scripts / client.samples.length,
    upstreamRequests: client.upstream.stats().received,
    ...client.counts,
    shared: client.ai.resilience.stats().shared ?? null,
  };
}

export const redis = {
  name: 'redis',
  title: 'redis: per-call cost of shared state and the Redis cache store',
  async run() {
    const server = await startRedis();
    const connection = createClient({ url: server.url, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
    connection.on('error', () => undefined);
    const clients = [];
    try {
      await connection.connect();
      const shared = createRedisState(connection, { prefix: 'bench:' });
      console.log(
        `\n== redis: redis-server ${server.version} on ${server.url}; ${ROUNDS} alternating rounds of ${BATCH} sequential calls per client ` +
          `(+${WARMUP} warm-up), in-memory upstream (createFaultFetch)`,
      );
      const local = makeClient('local', PROTECTION);
      const sharedClient = makeClient('shared', { ...PROTECTION, shared });
      const cacheMemory = makeClient('cache/memory', { ...PROTECTION, cache: true });
      const cacheRedis = makeClient('cache/redis', { ...PROTECTION, cache: { store: shared.cacheStore } });
      clients.push(local, sharedClient, cacheMemory, cacheRedis);

      for (const client of clients) await batch(client, WARMUP, false, connection); // the cache clients' one miss is here
      for (const client of [cacheMemory, cacheRedis]) client.counts.cacheMisses = 0;
      const started = performance.now();
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? clients : [...clients].reverse();
        for (const client of order) {
          const before = await scriptsRun(connection);
          await batch(client, BATCH, true, connection);
          client.scripts += (await scriptsRun(connection)) - before;
        }
      }
      const seconds = (performance.now() - started) / 1000;

      const results = Object.fromEntries(clients.map((c) => [c.name, summary(c)]));
      const sharedAddedUs = us(results.shared.medianMs - results.local.medianMs);
      const cacheAddedUs = us(results['cache/redis'].medianMs - results['cache/memory'].medianMs);
      console.table(
        Object.fromEntries(
          clients.map((c) => {
            const r = results[c.name];
            return [c.name, {
              'median µs/call': round(us(r.medianMs), 1),
              'p90 µs': round(us(r.p90Ms), 1),
              'p99 µs': round(us(r.p99Ms), 1),
              'Redis scripts/call': round(r.redisScriptsPerCall, 2),
              'upstream req': r.upstreamRequests,
              'limiter waits': r.rateLimitWaits,
              'shared down': r.sharedStateDowns + r.cacheStoreErrors,
            }];
          }),
        ),
      );
      console.log(`   shared state adds ${sharedAddedUs.toFixed(1)} µs per call (median shared − median local)`);
      console.log(`   a Redis cache hit adds ${cacheAddedUs.toFixed(1)} µs per call (median cache/redis − median cache/memory)`);
      console.log(`   measured in ${seconds.toFixed(1)} s`);

      const clean = clients.every((c) => c.counts.rateLimitWaits === 0 && c.counts.sharedStateDowns === 0 && c.counts.cacheStoreErrors === 0);
      const hitsOnly = results['cache/memory'].cacheMisses === 0 && results['cache/redis'].cacheMisses === 0;
      const targets = [
        checkTarget('added per call by shared state (µs)', sharedAddedUs, { atMost: TARGETS.sharedAddedUs, format: (v) => v.toFixed(0) }),
        checkTarget('added per cache hit by the Redis store (µs)', cacheAddedUs, { atMost: TARGETS.cacheAddedUs, format: (v) => v.toFixed(0) }),
        checkTarget('limiter waits, shared-state outages, store errors and measured cache misses', clean && hitsOnly ? 0 : 1, { atMost: 0 }),
      ];
      return reportTargets('redis', 'redis targets:', targets, {
        case: 'redis',
        date: new Date().toISOString(),
        node: process.version,
        openai: (await import('openai/version')).VERSION,
        redisServer: server.version,
        config: { rounds: ROUNDS, batch: BATCH, warmup: WARMUP, request: PARAMS, protection: PROTECTION },
        notes: [
          'All four clients run in one process, in alternating batches of sequential calls; the upstream is createFaultFetch (in memory).',
          'sharedAddedUs = median per call with shared: createRedisState() − median without (breaker + limiter in both).',
          'cacheAddedUs = median cache hit from shared.cacheStore − median cache hit from the in-memory store.',
          'redisScriptsPerCall = EVALSHA + EVAL the server ran during the measured batches of that client (INFO commandstats), per call; some are sent without waiting for them.',
          'redis-server runs on 127.0.0.1 on the same machine: these are loopback round trips, a floor for a networked Redis.',
        ],
        results,
        sharedAddedUs,
        cacheAddedUs,
        seconds,
      });
    } finally {
      for (const client of clients) await client.upstream.close();
      if (connection.isOpen) connection.destroy();
      await server.stop();
    }
  },

  document(result) {
    const names = Object.keys(result.results);
    return {
      markdown: [
        `What \`openai-resilient/redis\` adds per call, against redis-server ${result.redisServer} on loopback and an in-memory upstream ` +
          `(createFaultFetch); ${result.config.rounds} alternating rounds of ${result.config.batch} sequential calls per client. ` +
          '`local`: circuit breaker and rate limiter (never waiting); `shared`: the same with `shared: createRedisState(redis)`; ' +
          '`cache/memory` and `cache/redis`: cache hits from the in-memory store and from `shared.cacheStore`.',
        '',
        markdownTable(
          ['client', 'median µs/call', 'p90 µs', 'p99 µs', 'Redis scripts/call'],
          names.map((name) => {
            const r = result.results[name];
            return [name, (r.medianMs * 1000).toFixed(1), (r.p90Ms * 1000).toFixed(1), (r.p99Ms * 1000).toFixed(1), r.redisScriptsPerCall.toFixed(2)];
          }),
        ),
        '',
        `Shared state adds **${result.sharedAddedUs.toFixed(1)} µs** per call; a Redis cache hit adds **${result.cacheAddedUs.toFixed(1)} µs** over an in-memory one.`,
      ].join('\n'),
      charts: {
        redis: barChart({
          title: 'Redis shared state and cache store: median per call (µs, lower is better)',
          series: ['median µs/call'],
          groups: names.map((name) => ({ label: name, values: [result.results[name].medianMs * 1000] })),
          format: (v) => `${v.toFixed(1)} µs`,
        }),
      },
    };
  },
};
