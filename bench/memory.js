// Case "memory": the heap, measured after a full GC in a fresh process (`node --expose-gc`, started by the
// case itself so that the other cases' garbage and compiled code do not blur the numbers):
//   1. 100 000 distinct cacheable calls answered once each: the default in-memory store, bounded by
//      `maxBytes`, must keep the heap within maxBytes plus a bounded overhead;
//   2. 1 000 000 calls through every policy (cache, hedging and a fallback model included) on an in-memory
//      fetch: the heap, sampled every 100 000 calls, must stay flat.
import { MemoryCacheStore, resilient } from '../dist/index.js';
import { seededRandom } from '../dist/testing/capacity.js';
import { BODIES, clientOn, distinctChatFetch, jsonFetch } from './in-memory-fetch.js';
import { YIELD_EVERY } from './alternate.js';
import { isScript, runInFreshProcess } from './fresh-process.js';
import { countedLoop } from './load.js';
import { lineChart } from './svg-chart.js';
import { checkTarget, markdownTable, readResults, reportTargets, round } from './report.js';

const MiB = 1024 * 1024;
// Answers of 1 024 characters padded with a CJK character: V8 then keeps bodies as two-byte strings, as
// maxBytes counts them (UTF-16), the worst case for the bound; ASCII bodies take half what they count for.
const FILL = { entries: 100_000, maxBytes: 50 * MiB, responseChars: 1_024, pad: '答', sampleEvery: 10_000, concurrency: 8 };
// The bound on what the heap may hold beyond maxBytes: the bookkeeping maxBytes does not count (per entry:
// the 64-character key, the record object, its headers array, lru-cache's slots) plus a fixed 8 MiB for
// code compiled and state built during the run. See `document()` for why 25% of maxBytes.
const OVERHEAD_BOUND = { shareOfMaxBytes: 0.25, fixedBytes: 8 * MiB };
const CALLS = { total: 1_000_000, sampleEvery: 100_000, warmup: 20_000, concurrency: 8, distinctPrompts: 1_500 };
const FLAT_BOUND_BYTES = 2 * MiB; // last sample vs the first: a leak of 2 bytes per call would exceed it
// Every policy: the defaults (retry + budget, timeouts, circuit breaker, bulkhead), the rate limiter with
// limits so high it never waits, the cache (default store, 1 000 entries), hedging and a fallback model.
const EVERY_POLICY = {
  rateLimit: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 },
  cache: true,
  hedge: true,
  fallback: { models: { 'gpt-4.1-mini': ['gpt-4.1-nano'] } },
};

function heapAfterGc() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

const chat = (content) => ({ model: 'gpt-4.1-mini', temperature: 0, messages: [{ role: 'user', content }] });

/** `calls` calls of `call(i)` by `concurrency` loops, numbered from `from`. */
const callMany = (call, from, calls, concurrency = 1) =>
  countedLoop({ callers: concurrency, calls, call: (i) => call(from + i), yieldEvery: YIELD_EVERY });

/** Compiles the cache path on a client of its own, dropped before the baseline is taken. */
async function warmUpCache() {
  const client = resilient(clientOn(distinctChatFetch(FILL.responseChars, FILL.pad)), { cache: { maxBytes: FILL.maxBytes } });
  await callMany((i) => client.chat.completions.create(chat(`warm-up ${i}`)), 0, 2_000, FILL.concurrency);
}

async function cacheFill() {
  await warmUpCache();
  const baseline = heapAfterGc();
  const store = new MemoryCacheStore({ maxEntries: FILL.entries, maxBytes: FILL.maxBytes });
  const client = resilient(clientOn(distinctChatFetch(FILL.responseChars, FILL.pad)), { cache: { store, maxBytes: FILL.maxBytes } });
  const samples = [[0, 0]];
  for (let done = 0; done < FILL.entries; done += FILL.sampleEvery) {
    await callMany((i) => client.chat.completions.create(chat(`question ${i}`)), done, FILL.sampleEvery, FILL.concurrency);
    samples.push([done + FILL.sampleEvery, heapAfterGc() - baseline]);
  }
  const { misses } = client.resilience.stats().total.cache;
  return {
    ...FILL,
    misses,
    entriesHeld: store.size,
    bytesCounted: store.bytes,
    growthBytes: samples.at(-1)[1],
    boundBytes: FILL.maxBytes * (1 + OVERHEAD_BOUND.shareOfMaxBytes) + OVERHEAD_BOUND.fixedBytes,
    samples,
  };
}

async function throughEveryPolicy() {
  const client = resilient(clientOn(jsonFetch(BODIES.chat)), EVERY_POLICY);
  const random = seededRandom(42);
  const prompt = () => `question ${Math.floor(random() * CALLS.distinctPrompts)}`;
  const call = () => client.chat.completions.create(chat(prompt()));
  await callMany(call, 0, CALLS.warmup, CALLS.concurrency);
  const samples = [[0, heapAfterGc()]];
  const started = performance.now();
  for (let done = 0; done < CALLS.total; done += CALLS.sampleEvery) {
    await callMany(call, done, CALLS.sampleEvery, CALLS.concurrency);
    samples.push([done + CALLS.sampleEvery, heapAfterGc()]);
  }
  const seconds = (performance.now() - started) / 1000;
  const stats = client.resilience.stats().total;
  const first = samples[1][1];
  return {
    ...CALLS,
    seconds,
    samples: samples.map(([calls, bytes]) => [calls, bytes]),
    driftBytes: samples.at(-1)[1] - first,
    maxSpreadBytes: Math.max(...samples.slice(1).map(([, b]) => b)) - Math.min(...samples.slice(1).map(([, b]) => b)),
    stats: { calls: stats.calls, successes: stats.successes, cache: stats.cache, hedges: stats.hedges, fallbacks: stats.fallbacks },
  };
}

/** The measurement itself, in the child process started with --expose-gc. */
async function measure() {
  const started = performance.now();
  console.log(`   1. ${FILL.entries.toLocaleString('en')} distinct cached responses, cache.maxBytes ${FILL.maxBytes / MiB} MiB ...`);
  const fill = await cacheFill();
  console.log(`   2. ${CALLS.total.toLocaleString('en')} calls through every policy (${CALLS.concurrency} concurrent loops) ...`);
  const calls = await throughEveryPolicy();
  const mib = (bytes) => round(bytes / MiB, 1);
  console.table({
    'cache filled': { 'heap growth MiB': mib(fill.growthBytes), 'bound MiB': mib(fill.boundBytes), 'entries held': fill.entriesHeld, 'bytes counted MiB': mib(fill.bytesCounted) },
  });
  console.table(Object.fromEntries(calls.samples.map(([n, bytes]) => [n.toLocaleString('en'), { 'heap MiB': mib(bytes) }])));
  console.log(`   ${CALLS.total.toLocaleString('en')} calls in ${calls.seconds.toFixed(0)} s; heap drift ${mib(calls.driftBytes)} MiB from the sample at 100k calls`);
  const targets = [
    checkTarget('heap growth after 100 000 cached responses (MiB)', fill.growthBytes / MiB, { atMost: fill.boundBytes / MiB, format: (v) => v.toFixed(1) }),
    checkTarget('heap drift from 100k to 1M calls (MiB)', calls.driftBytes / MiB, { atMost: FLAT_BOUND_BYTES / MiB, format: (v) => v.toFixed(2) }),
  ];
  return reportTargets('memory', 'memory targets:', targets, {
    case: 'memory',
    config: { fill: FILL, overheadBound: OVERHEAD_BOUND, calls: CALLS, flatBoundBytes: FLAT_BOUND_BYTES, everyPolicy: EVERY_POLICY },
    notes: [
      'Heap = process.memoryUsage().heapUsed after two global.gc() calls, in a process of its own started with --expose-gc.',
      'fill: the store is the default store class (MemoryCacheStore) built with { maxEntries: 100 000, maxBytes }, passed as cache.store so that its size can be read; maxBytes binds first.',
      'Each loop lets the event loop turn every 100 calls, as real I/O would every call: otherwise V8 keeps every WeakRef target made during the one long job (AbortSignal.any in the SDK) and the heap grows ~3 KB per call until the loop yields.',
      'calls: prompts drawn from 1 500 distinct ones, so the 1 000-entry default cache both hits and evicts; the upstream answers in microtasks, so hedges seldom fire.',
    ],
    fill,
    calls,
    seconds: (performance.now() - started) / 1000,
  });
}

export const memory = {
  name: 'memory',
  title: 'memory: heap with a full cache, and over 1 000 000 calls',
  async run() {
    console.log('\n== memory: heap after a full GC, in a fresh `node --expose-gc` process');
    await runInFreshProcess(import.meta.url, { nodeArgs: ['--expose-gc'] });
    return { targets: (await readResults('memory')).targets };
  },

  document(result) {
    const { fill, calls, config } = result;
    const mib = (bytes) => (bytes / MiB).toFixed(1);
    return {
      markdown: [
        `**A full cache.** ${fill.entries.toLocaleString('en')} distinct cacheable chat calls (answers of ${fill.responseChars} characters of CJK text, ` +
          'which V8 keeps 2 bytes per character, as `maxBytes` counts them: the worst case), each a miss ' +
          `stored by the default in-memory store with \`cache: { maxBytes: ${fill.maxBytes / MiB} MiB }\` (and \`maxEntries\` raised to ` +
          `${fill.entries.toLocaleString('en')} so that bytes, not entries, bind). The store ends holding ${fill.entriesHeld.toLocaleString('en')} ` +
          `entries counted as ${mib(fill.bytesCounted)} MiB; the heap grew by **${mib(fill.growthBytes)} MiB**. The bound is maxBytes + ` +
          `${config.overheadBound.shareOfMaxBytes * 100}% + ${config.overheadBound.fixedBytes / MiB} MiB = ${mib(fill.boundBytes)} MiB: \`maxBytes\` counts ` +
          'bodies and headers only, so each entry also holds bookkeeping it does not count (its 64-character key, the record object, ' +
          "its headers array, lru-cache's slots: some hundreds of bytes, against entries that count ~3 KB here), and the run compiles code " +
          `and builds state of its own (the fixed part). Measured: ${Math.round((fill.growthBytes - fill.bytesCounted) / fill.entriesHeld)} bytes ` +
          `per entry beyond what \`maxBytes\` counts (fixed part included), ${(((fill.growthBytes - fill.bytesCounted) / fill.bytesCounted) * 100).toFixed(0)}% ` +
          'of it. With much smaller entries and `maxEntries` raised, that bookkeeping would weigh more: the default `maxEntries` (1 000) ' +
          'bounds it. ASCII answers count 2 bytes per character too, but V8 keeps them in 1.',
        '',
        `**A million calls.** ${calls.total.toLocaleString('en')} chat calls through every policy (defaults, the rate limiter never waiting, ` +
          `the default cache over ${calls.distinctPrompts.toLocaleString('en')} distinct prompts, \`hedge: true\`, a fallback model), ` +
          `${calls.concurrency} concurrent loops on an in-memory \`fetch\`, in ${calls.seconds.toFixed(0)} s; the heap after a full GC every ` +
          `${calls.sampleEvery.toLocaleString('en')} calls drifted by **${mib(calls.driftBytes)} MiB** from 100k to 1M calls ` +
          `(spread ${mib(calls.maxSpreadBytes)} MiB; cache hits ${calls.stats.cache.hits.toLocaleString('en')}, misses ${calls.stats.cache.misses.toLocaleString('en')}, ` +
          `hedges sent ${calls.stats.hedges.sent}).`,
        '',
        'Every loop lets the event loop turn every 100 calls, as real I/O does every call: an in-memory `fetch` answers in ' +
          'microtasks, and during one long job V8 keeps the target of every WeakRef made (the SDK makes some per call given a ' +
          'signal: `AbortSignal.any`), which would look like a leak of ~3 KB per call until the loop yields.',
        '',
        markdownTable(['calls', 'heap after GC (MiB)'], calls.samples.map(([n, bytes]) => [n === 0 ? 'after warm-up' : n.toLocaleString('en'), mib(bytes)])),
      ].join('\n'),
      charts: {
        'memory-cache': lineChart({
          title: 'Heap growth while filling the cache (MiB)',
          xLabel: 'distinct cached responses',
          yLabel: 'heap growth (MiB)',
          series: [{ label: 'heap growth after GC', points: fill.samples.map(([n, bytes]) => [n, bytes / MiB]) }],
          references: [
            { label: `maxBytes ${fill.maxBytes / MiB} MiB`, y: fill.maxBytes / MiB },
            { label: `bound ${mib(fill.boundBytes)} MiB`, y: fill.boundBytes / MiB },
          ],
          formatX: (v) => `${Math.round(v / 1000)}k`,
          formatY: (v) => v.toFixed(0),
        }),
        'memory-calls': lineChart({
          title: 'Heap over 1 000 000 calls through every policy (MiB, after GC)',
          xLabel: 'calls',
          yLabel: 'heap used (MiB)',
          series: [{ label: 'heap used after GC', points: calls.samples.map(([n, bytes]) => [n, bytes / MiB]) }],
          formatX: (v) => `${Math.round(v / 1000)}k`,
          formatY: (v) => v.toFixed(0),
        }),
      },
    };
  },
};

if (isScript(import.meta.url)) await measure();
