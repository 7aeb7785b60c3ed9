// Cache case: latency of a cache hit vs an upstream call on loopback, and the cost of the cache key
// (canonical JSON + SHA-256) for large prompts.
import OpenAI from 'openai';
import { resilient } from '../dist/index.js';
import { cacheKey } from '../dist/cache/cache-key.js';
import { startFaultServer } from '../dist/testing/index.js';
import { checkTarget, percentile, printTargets, writeResults } from './report.js';

const median = (values) => percentile(values, 50);

const CALLS = 300;
const scope = { baseURL: 'https://api.openai.com/v1', organization: null, project: null, keyFingerprint: 'f'.repeat(64), defaults: null, tenant: undefined };

async function timeCalls(client, params) {
  const samples = [];
  for (let i = 0; i < CALLS; i++) {
    const start = performance.now();
    await client.chat.completions.create(params);
    samples.push(performance.now() - start);
  }
  return samples;
}

async function keyCost(size) {
  const body = { model: 'gpt-4.1-mini', temperature: 0, messages: [{ role: 'user', content: 'x'.repeat(size) }] };
  const samples = [];
  for (let i = 0; i < 30; i++) {
    const start = performance.now();
    await cacheKey({ method: 'POST', path: '/chat/completions', query: undefined, body, headers: undefined }, scope);
    samples.push(performance.now() - start);
  }
  return median(samples);
}

export const cache = {
  name: 'cache',
  title: 'cache: hit latency vs a loopback upstream call; key hashing cost',
  async run() {
    const server = await startFaultServer();
    try {
      const params = { model: 'gpt-4.1-mini', temperature: 0, messages: [{ role: 'user', content: 'Say ok' }] };
      const bare = new OpenAI({ apiKey: 'sk-bench', baseURL: server.url });
      const ai = resilient(new OpenAI({ apiKey: 'sk-bench', baseURL: server.url }), { cache: true });
      await ai.chat.completions.create(params); // the one miss
      const upstream = median(await timeCalls(bare, params));
      const hit = median(await timeCalls(ai, params));
      const keys = { '1 KB': await keyCost(1_024), '100 KB': await keyCost(100 * 1_024), '1 MB': await keyCost(1_024 * 1_024) };
      console.table({
        'upstream call (bare SDK, loopback)': { 'median ms': upstream.toFixed(3) },
        'cache hit (resilient)': { 'median ms': hit.toFixed(3) },
        ...Object.fromEntries(Object.entries(keys).map(([size, ms]) => [`cache key, ${size} prompt`, { 'median ms': ms.toFixed(3) }])),
      });
      const targets = [
        checkTarget('cache hit vs loopback upstream call (speed-up)', upstream / hit, { atLeast: 5, format: (v) => `${v.toFixed(1)}×` }),
        checkTarget('cache key for a 100 KB prompt (ms)', keys['100 KB'], { atMost: 5, format: (v) => v.toFixed(2) }),
      ];
      printTargets('cache targets:', targets);
      await writeResults('cache', { upstreamMs: upstream, hitMs: hit, keyMs: keys, targets });
      return { targets };
    } finally {
      await server.close();
    }
  },
};
