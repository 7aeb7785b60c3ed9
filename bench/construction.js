// Case "construction": what building a client costs, with the size options at their defaults and at the
// largest values `resilient()` accepts (cache.maxEntries 10 000 000, bulkhead and queues 1 000 000, ...).
// Nothing may be allocated in proportion to a bound: both must cost the same. Measured in a fresh process
// started with --expose-gc, heap after a full GC.
import OpenAI from 'openai';
import { resilient } from '../dist/index.js';
import { isScript, runInFreshProcess } from './fresh-process.js';
import { checkTarget, markdownTable, median, readResults, reportTargets, round } from './report.js';

const CLIENTS = 50;
const COUNT = 1_000_000;
const SUBJECTS = {
  defaults: { cache: true, hedge: true },
  'every bound': {
    cache: { maxEntries: 10_000_000, maxBytes: 2 ** 40 },
    bulkhead: { maxConcurrent: COUNT, maxQueued: COUNT, maxConcurrentPerTenant: COUNT },
    rateLimit: { requestsPerMinute: 1e9, tokensPerMinute: 1e12, maxQueued: COUNT },
    retry: { maxRetries: 1_000, budget: { ratio: 1_000, minRetries: COUNT } },
    circuitBreaker: { consecutiveFailures: COUNT, minimumCalls: COUNT, halfOpenProbes: COUNT },
    hedge: { maxExtraAttempts: 4, minSamples: 1_000 },
  },
};
// Heap per client may differ by this much at most (noise of a few objects), and the median build time by
// this ratio.
const TARGET = { heapDifferenceBytes: 4_096, timeRatio: 1.5 };

function heapAfterGc() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

function measureSubject(options) {
  const sdk = new OpenAI({ apiKey: 'sk-bench', baseURL: 'http://127.0.0.1:9/v1' });
  for (let i = 0; i < 20; i++) resilient(sdk, options); // warm-up: compiled code is not what is measured
  const kept = [];
  const times = [];
  const before = heapAfterGc();
  for (let i = 0; i < CLIENTS; i++) {
    const started = performance.now();
    kept.push(resilient(sdk, options));
    times.push((performance.now() - started) * 1000);
  }
  const bytesPerClient = (heapAfterGc() - before) / kept.length;
  return { medianMicros: median(times), bytesPerClient };
}

async function measure() {
  const results = {};
  // Alternated twice, so that neither subject always runs on a warmer process.
  for (const round of [0, 1]) {
    for (const [name, options] of Object.entries(SUBJECTS)) {
      const measured = measureSubject(options);
      results[name] = round === 0 ? measured : { medianMicros: Math.min(results[name].medianMicros, measured.medianMicros), bytesPerClient: Math.min(results[name].bytesPerClient, measured.bytesPerClient) };
    }
  }
  const defaults = results.defaults;
  const bounded = results['every bound'];
  console.table(Object.fromEntries(Object.entries(results).map(([name, r]) => [name, { 'build µs (median)': round(r.medianMicros, 1), 'heap per client KiB': round(r.bytesPerClient / 1024, 1) }])));
  const targets = [
    checkTarget('heap per client, every bound minus defaults (bytes)', bounded.bytesPerClient - defaults.bytesPerClient, { atMost: TARGET.heapDifferenceBytes, format: (v) => v.toFixed(0) }),
    checkTarget('build time, every bound / defaults (×)', bounded.medianMicros / defaults.medianMicros, { atMost: TARGET.timeRatio, format: (v) => v.toFixed(2) }),
  ];
  return reportTargets('construction', 'construction targets:', targets, { case: 'construction', config: { clients: CLIENTS, subjects: SUBJECTS, target: TARGET }, results });
}

export const construction = {
  name: 'construction',
  title: 'construction: building a client with every size option at its bound costs what the defaults cost',
  async run() {
    console.log('\n== construction: a client with the default sizes vs every size option at its bound, in a fresh `node --expose-gc` process');
    await runInFreshProcess(import.meta.url, { nodeArgs: ['--expose-gc'] });
    return { targets: (await readResults('construction')).targets };
  },

  document(result) {
    return {
      markdown: [
        `${result.config.clients} clients built with \`resilient()\` for each subject, after a warm-up; heap per client after a full GC, ` +
          'and the median time of one build. "every bound" sets each size option to the largest value accepted (`cache.maxEntries` ' +
          '10 000 000, `cache.maxBytes` 1 TiB, bulkhead and queues 1 000 000, ...): nothing is allocated in proportion to a bound ' +
          '(lru-cache, given `max`, would allocate 10 million slots: about 300 MB and over a second for that cache alone).',
        '',
        markdownTable(
          ['subject', 'build (µs, median)', 'heap per client (KiB)'],
          Object.entries(result.results).map(([name, r]) => [name, r.medianMicros.toFixed(1), (r.bytesPerClient / 1024).toFixed(1)]),
        ),
      ].join('\n'),
      charts: {},
    };
  },
};

if (isScript(import.meta.url)) await measure();
