// TypeScript consumer compiled to CommonJS (package.json without "type": "module") under
// `module: nodenext`: TypeScript >= 5.8 allows importing an ES module from CommonJS there, emitting
// `require()`, which Node.js >= 20.19 runs (require(esm)). (Under `module: node16` the same import is
// error TS1479.) Run by .ci/consumers.sh against the packed tarball.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { classify, resilient, type ResilienceOptions, type ResilienceStats, type ResilientClient } from 'openai-resilient';
import { faults, startFaultServer } from 'openai-resilient/testing';
import { createRedisState, type RedisStateOptions } from 'openai-resilient/redis';
import { createClient } from 'redis';
import { tokenizer } from 'openai-resilient/tokens';

async function main(): Promise<void> {
  const server = await startFaultServer();
  try {
    server.enqueue(faults.overloaded(), faults.ok());
    const options: ResilienceOptions = { retry: { initialDelay: 1 } };
    const ai: ResilientClient<OpenAI> = resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), options);
    assert.ok(ai instanceof OpenAI);
    const completion = await ai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(completion.choices[0]?.message.content, 'ok');
    assert.equal(server.requests.length, 2);
    const stats: ResilienceStats = ai.resilience.stats();
    assert.equal(stats.total.retries, 1);
    assert.equal(classify(new OpenAI.RateLimitError(429, undefined, undefined, new Headers())).kind, 'rate_limited');
    // openai-resilient/redis with node-redis's client (created, never connected).
    const redisOptions: RedisStateOptions = { prefix: 'cjs-consumer:' };
    const shared = createRedisState(createClient({ url: 'redis://127.0.0.1:6379' }), redisOptions);
    assert.equal(shared.ready, false);
    assert.ok(resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), { shared, cache: { store: shared.cacheStore } }) instanceof OpenAI);
    // openai-resilient/tokens (gpt-tokenizer installed) through require(esm).
    assert.equal(tokenizer.countText('hello world', 'o200k_base'), 2);
    assert.ok(resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), { tokens: { tokenizer } }) instanceof OpenAI);
  } finally {
    await server.close();
  }
  console.log(`typescript (commonjs) consumer: ok (${server.requests.length} requests)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
